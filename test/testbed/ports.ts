// Free loopback ports, picked by letting the kernel choose.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';

// All ports are held open together before any is released, so one call never
// hands out the same port twice. Another process can still take one before
// the component binds it; the window is milliseconds and `up` reports the
// bind error if it happens.
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, resolve);
      });
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('free port: listen gave no TCP address');
      ports.push(address.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

// Ports in LISTEN state on this host, from /proc: lets `down` and the tests
// check that nothing stayed bound without opening connections.
export async function listeningPorts(): Promise<Set<number>> {
  const ports = new Set<number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // st 0A is TCP_LISTEN; local_address is hex ip:port.
      if (fields[3] !== '0A') continue;
      const port = fields[1]?.split(':')[1];
      if (port) ports.add(parseInt(port, 16));
    }
  }
  return ports;
}
