import net from 'node:net';
import { once } from 'node:events';
import { TskubeError } from '../../common/errors.js';
import { encodeChannelData, websocketProtocols } from './channel-frame.js';
import { websocketUrl } from './websocket-remote-command.js';

export interface PortMapping {
  /** 0 picks a free port. */
  local: number;
  remote: number;
}

/** Parses crictl's `[LOCAL:]REMOTE` (and `:REMOTE` for a random local port). */
export function parsePortMapping(text: string): PortMapping {
  const m = /^(?:(\d*):)?(\d+)$/.exec(text);
  const local = m?.[1] === undefined ? m?.[2] : m[1] === '' ? '0' : m[1];
  const remote = Number(m?.[2]);
  const localPort = Number(local);
  if (!m || !validPort(remote) || !(localPort === 0 || validPort(localPort))) {
    throw new TskubeError('invalid-argument', `invalid port mapping "${text}" (want [LOCAL:]REMOTE with ports 1-65535)`);
  }
  return { local: localPort, remote };
}

function validPort(p: number): boolean {
  return Number.isInteger(p) && p >= 1 && p <= 65535;
}

// Per port the server opens a data channel (2n) and an error channel (2n+1) and starts
// each with the port number, two bytes little-endian, which is not payload.
const dataChannel = 0;
const errorChannel = 1;
const portPrefixLength = 2;

/**
 * Carries one TCP connection to `remote` in the pod over a websocket. A PortForward URL
 * is good for one websocket, so every connection gets a fresh one from `openUrl`.
 * Resolves when either side has closed.
 */
export async function forwardConnection(socket: net.Socket, remote: number, openUrl: () => Promise<string>, onError: (message: string) => void): Promise<void> {
  socket.pause();
  let url: string;
  try {
    url = await openUrl();
  } catch (err) {
    socket.destroy();
    throw err;
  }
  const target = new URL(websocketUrl(url));
  target.searchParams.set('port', String(remote));
  const ws = new WebSocket(target, [websocketProtocols.v4]);
  ws.binaryType = 'arraybuffer';
  const seen = new Set<number>();
  let errorText = '';

  ws.onopen = () => {
    socket.on('data', (chunk: Buffer) => ws.send(encodeChannelData(dataChannel, chunk)));
    socket.resume();
  };
  ws.onmessage = (event: MessageEvent) => {
    if (!(event.data instanceof ArrayBuffer)) return;
    const frame = Buffer.from(event.data);
    if (frame.length === 0) return;
    const channel = frame[0] as number;
    let payload = frame.subarray(1);
    if (!seen.has(channel)) {
      seen.add(channel);
      payload = payload.subarray(portPrefixLength);
    }
    if (channel === dataChannel && payload.length > 0) socket.write(payload);
    else if (channel === errorChannel) errorText += payload.toString('utf8');
  };
  ws.onclose = () => {
    if (errorText.trim() !== '') onError(errorText.trim());
    socket.end();
  };
  ws.onerror = () => {
    onError(`cannot open a port-forward stream to ${target.host} for port ${remote}`);
  };
  socket.on('close', () => ws.close());
  socket.on('error', () => ws.close());
  await once(socket, 'close');
}

export interface ForwardOptions {
  address: string;
  ports: readonly PortMapping[];
  /** Asks the runtime for a fresh PortForward URL. */
  openUrl: () => Promise<string>;
  signal: AbortSignal;
  onListening: (local: number, remote: number) => void;
  onConnection: (local: number) => void;
  onError: (message: string) => void;
}

/** Listens on each local port and forwards every connection until the signal aborts. */
export async function forwardPorts(options: ForwardOptions): Promise<void> {
  const servers: net.Server[] = [];
  const connections = new Set<net.Socket>();
  try {
    for (const port of options.ports) {
      const server = net.createServer((socket) => {
        const local = (server.address() as net.AddressInfo).port;
        options.onConnection(local);
        connections.add(socket);
        socket.once('close', () => connections.delete(socket));
        forwardConnection(socket, port.remote, options.openUrl, options.onError).catch((err: unknown) =>
          options.onError(`forwarding port ${port.remote}: ${TskubeError.from(err).detail}`),
        );
      });
      servers.push(server);
      server.listen({ host: options.address, port: port.local });
      await Promise.race([
        once(server, 'listening'),
        once(server, 'error').then(([err]) => Promise.reject(TskubeError.from(err, 'unavailable').wrap(`listening on ${options.address}:${port.local}`))),
      ]);
      options.onListening((server.address() as net.AddressInfo).port, port.remote);
    }
    if (!options.signal.aborted) await once(options.signal, 'abort');
  } finally {
    for (const s of servers) s.close();
    for (const c of connections) c.destroy();
  }
}
