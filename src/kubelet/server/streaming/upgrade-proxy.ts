/*
 * Hands an upgrade request (SPDY, or a websocket the runtime speaks itself) to the
 * runtime's streaming server and then copies bytes both ways. The kubelet proxies rather
 * than redirects, as upstream has since the redirect option went (v1.20): the runtime's
 * streaming server listens on 127.0.0.1, where the API server cannot reach it, and every
 * stream stays behind the kubelet's authentication and authorization.
 *
 *   client ──upgrade──► kubelet ──same upgrade (own Host, no credentials)──► runtime
 *          ◄── 101 ────         ◄── 101 ──────────────────────────────────
 *          ◄════════════ bytes both ways until either side closes ═══════►
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { TskubeError } from '../../../common/errors.js';
import { replyStatus } from '../http-reply.js';

/** Request headers that stay with the kubelet: they carry the client's credentials or name the kubelet. */
const withheld = /^(host|authorization|proxy-authorization|cookie|impersonate-.*|x-remote-.*|content-length|transfer-encoding)$/i;

/** The runtime URL with the client's query when the URL has none (websocket port-forward passes ?port= this way). */
export function backendUrl(target: URL, requestUrl: URL): URL {
  const out = new URL(target.href);
  if (out.search === '' && requestUrl.search !== '') out.search = requestUrl.search;
  return out;
}

/**
 * The request's headers for the runtime, repeated ones kept repeated (X-Stream-Protocol-Version
 * is a list). An upgrade carries no body: Content-Length 0 says so, or Node would send a
 * chunked POST whose final empty chunk the runtime then reads as the first stream bytes.
 */
export function forwardedHeaders(rawHeaders: readonly string[], host: string): string[] {
  const out = ['Host', host, 'Content-Length', '0'];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (!withheld.test(name)) out.push(name, rawHeaders[i + 1] as string);
  }
  return out;
}

/** "HTTP/1.1 101 Switching Protocols" and the headers, as the bytes a client reads. */
export function responseHead(status: number, message: string, rawHeaders: readonly string[]): string {
  const lines = [`HTTP/1.1 ${status} ${message}`];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) lines.push(`${rawHeaders[i]}: ${rawHeaders[i + 1]}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Joins two connections until either ends; resolves when both are closed. */
export function splice(a: Duplex, b: Duplex): Promise<void> {
  return new Promise((resolve) => {
    let open = 2;
    const closed = () => {
      if (--open === 0) resolve();
    };
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      from.pipe(to);
      from.on('error', () => to.destroy());
      from.once('close', () => {
        to.destroy();
        closed();
      });
    }
  });
}

export interface UpgradeProxyOptions {
  req: IncomingMessage;
  /** Answers on the client connection while it is still HTTP (errors, a runtime refusal). */
  res: ServerResponse;
  socket: Duplex;
  head: Buffer;
  target: URL;
  /** streamingConnectionIdleTimeout: a stream with no traffic this long is closed (0: never). */
  idleTimeoutMs: number;
}

export function proxyUpgrade(o: UpgradeProxyOptions): Promise<void> {
  const url = backendUrl(o.target, new URL(o.req.url ?? '/', 'http://kubelet'));
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    const backend = transport.request(url, {
      method: o.req.method ?? 'GET',
      headers: forwardedHeaders(o.req.rawHeaders, url.host),
      // The runtime's own streaming server on loopback; containerd's is plain HTTP, CRI-O may use a self-signed certificate.
      ...(url.protocol === 'https:' ? { rejectUnauthorized: false } : {}),
      agent: false,
    });
    backend.on('upgrade', (answer, upstream, upstreamHead) => {
      o.socket.write(responseHead(answer.statusCode ?? 101, answer.statusMessage ?? 'Switching Protocols', answer.rawHeaders));
      if (upstreamHead.length > 0) o.socket.write(upstreamHead);
      if (o.head.length > 0) upstream.write(o.head);
      keepIdleTimeout(o.socket, o.idleTimeoutMs);
      upstream.setNoDelay(true);
      void splice(o.socket, upstream).then(resolve);
    });
    backend.on('response', (answer) => {
      // The runtime refused the upgrade (an expired URL, a protocol it does not speak): pass its answer on.
      let body = '';
      answer.setEncoding('utf8');
      answer.on('data', (c: string) => (body += c));
      answer.on('end', () => {
        o.res.writeHead(answer.statusCode ?? 502, { 'content-type': answer.headers['content-type'] ?? 'text/plain; charset=utf-8' });
        o.res.end(body);
        resolve();
      });
    });
    backend.on('error', (err) => {
      replyStatus(o.res, 500, TskubeError.from(err, 'unavailable').wrap(`connecting to the container runtime's streaming server at ${url.host}`).detail);
      resolve();
    });
    o.socket.once('close', () => backend.destroy());
    backend.end();
  });
}

/** Closes a stream connection that stays quiet for `ms` (upstream's streamingConnectionIdleTimeout). */
export function keepIdleTimeout(socket: Duplex, ms: number): void {
  const s = socket as Duplex & { setTimeout?: (ms: number, cb?: () => void) => void };
  if (typeof s.setTimeout !== 'function') return;
  s.setTimeout(Math.max(ms, 0));
  if (ms > 0) socket.once('timeout', () => socket.destroy());
}
