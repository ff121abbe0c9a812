/*
 * exec and attach for a websocket client speaking v5.channel.k8s.io, which can close
 * stdin (the [255, 0] message), through a runtime that may not know v5 (containerd 1.6
 * does not): the kubelet ends the websocket itself and talks SPDY to the runtime, as
 * upstream's kubelet does since v1.36 (and the API server did before). This is what lets
 * the API server pass `kubectl exec` websockets straight to the node
 * (ExtendWebSocketsToKubelet, declared in the Node's status).
 *
 *   websocket channel 0 (stdin, close) ─► SPDY stdin stream (data, half-close)
 *   websocket channel 4 (resize)      ─► SPDY resize stream
 *   SPDY stdout / stderr              ─► websocket channels 1 / 2
 *   SPDY error stream (exit status)   ─► websocket channel 3, as a metav1.Status
 */
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { TskubeError } from '../../../common/errors.js';
import {
  Channel,
  decodeChannelMessage,
  encodeChannelData,
  spdyRemoteCommand,
  websocketProtocols,
  type TerminalSize,
} from '../../../cri-client/streaming/index.js';
import { statusObject } from '../http-reply.js';
import type { StreamOptions } from './stream-options.js';
import { keepIdleTimeout } from './upgrade-proxy.js';

/** The websocket subprotocols a client offered (Sec-WebSocket-Protocol, comma-separated, maybe repeated). */
export function offeredProtocols(req: IncomingMessage): string[] {
  const header = req.headers['sec-websocket-protocol'];
  const values = Array.isArray(header) ? header : header ? [header] : [];
  return values
    .flatMap((v) => v.split(','))
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

export function isWebsocket(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

/** The metav1.Status upstream writes on the error channel when a command ends. */
export function exitStatusObject(exitCode: number): object {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: exit status ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

/** Accepts a websocket with exactly `protocol` on an upgrade request. */
/**
 * Accepts a websocket with exactly `protocol` on an upgrade request. A handshake ws finds
 * wrong is answered 400 and the connection closed: that rejects, so no handler waits forever.
 */
export function acceptWebsocket(req: IncomingMessage, socket: Duplex, head: Buffer, protocol: string): Promise<WebSocket> {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: () => protocol });
  return new Promise((resolve, reject) => {
    const closed = () => reject(new TskubeError('invalid-argument', 'the websocket handshake failed'));
    socket.once('close', closed);
    wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('close', closed);
      resolve(ws);
    });
  });
}

export interface TranslateOptions {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  /** The runtime's Exec/Attach URL. */
  target: URL;
  stream: StreamOptions;
  idleTimeoutMs: number;
}

export async function translateWebsocketToSpdy(o: TranslateOptions): Promise<void> {
  let ws: WebSocket;
  try {
    ws = await acceptWebsocket(o.req, o.socket, o.head, websocketProtocols.v5);
  } catch {
    return; // ws answered the bad handshake with a 400 and closed the connection
  }
  keepIdleTimeout(o.socket, o.idleTimeoutMs);
  const stop = new AbortController();
  const stdin = o.stream.stdin ? new PassThrough() : undefined;
  let size: TerminalSize | undefined;
  const resizeListeners = new Set<() => void>();
  const send = (channel: number, data: Uint8Array) => {
    if (ws.readyState === ws.OPEN) ws.send(encodeChannelData(channel, data));
  };
  ws.on('message', (data: Buffer) => {
    const message = decodeChannelMessage(data);
    if (!message) return;
    if (message.kind === 'close') {
      if (message.channel === Channel.stdin) stdin?.end();
      return;
    }
    if (message.channel === Channel.stdin) stdin?.write(message.data);
    else if (message.channel === Channel.resize) {
      try {
        const s = JSON.parse(message.data.toString('utf8')) as { Width?: number; Height?: number };
        size = { columns: s.Width ?? 0, rows: s.Height ?? 0 };
        for (const l of resizeListeners) l();
      } catch {
        // not a TerminalSize: ignore, as upstream does
      }
    }
  });
  ws.on('close', () => stop.abort());
  ws.on('error', () => stop.abort());
  let status: object;
  try {
    const exit = await spdyRemoteCommand(o.target.href, {
      stdin,
      stdout: o.stream.stdout ? { write: (c) => send(Channel.stdout, c) } : undefined,
      stderr: o.stream.stderr ? { write: (c) => send(Channel.stderr, c) } : undefined,
      tty: o.stream.tty,
      terminalSize: () => size,
      onResize: (listener) => {
        resizeListeners.add(listener);
        return () => resizeListeners.delete(listener);
      },
      signal: stop.signal,
    });
    status = exitStatusObject(exit.exitCode);
  } catch (err) {
    if (stop.signal.aborted) return;
    status = statusObject(500, `Internal error occurred: ${TskubeError.from(err).detail}`);
  }
  send(Channel.error, Buffer.from(JSON.stringify(status)));
  ws.close(1000);
}
