import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TskubeError } from '../../common/errors.js';

/** Listens on address:port; a port in use or an address not on this host is one clear error naming the setting. */
export async function listen(server: Server, address: string, port: number, what: string): Promise<AddressInfo> {
  server.listen({ host: address, port });
  const [err] = await Promise.race([once(server, 'listening').then(() => [undefined]), once(server, 'error')]);
  if (err) throw TskubeError.from(err, 'unavailable').wrap(`${what}: cannot listen on ${address.includes(':') ? `[${address}]` : address}:${port}`);
  return server.address() as AddressInfo;
}

/** Stops accepting, ends idle and open connections (streams included), and waits for the listener to close. */
export async function close(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}
