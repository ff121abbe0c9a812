/*
 * `kubectl port-forward` over websockets: kubectl speaks SPDY inside the websocket's
 * binary messages (subprotocol "SPDY/3.1+portforward.k8s.io"). The kubelet opens a SPDY
 * upgrade to the runtime's port-forward URL with the protocols inside, accepts the
 * websocket with the one the runtime chose, and from then on carries bytes: each
 * websocket message into the runtime connection, each chunk from the runtime out as a
 * message. Nothing is decoded; the SPDY session is kubectl's and the runtime's.
 */
import http from 'node:http';
import { TskubeError } from '../../../common/errors.js';
import { replyStatus, replyText } from '../http-reply.js';
import { keepIdleTimeout, type UpgradeProxyOptions } from './upgrade-proxy.js';
import { acceptWebsocket, offeredProtocols } from './websocket-translator.js';

export const tunnelingPrefix = 'SPDY/3.1+';

/** The SPDY protocols tunneled inside the offered websocket subprotocols ("SPDY/3.1+portforward.k8s.io" → "portforward.k8s.io"). */
export function tunneledProtocols(offered: readonly string[]): string[] {
  return offered.filter((p) => p.startsWith(tunnelingPrefix) && p.endsWith('.k8s.io')).map((p) => p.slice(tunnelingPrefix.length));
}

export function tunnelPortForward(o: UpgradeProxyOptions): Promise<void> {
  const protocols = tunneledProtocols(offeredProtocols(o.req));
  if (protocols.length === 0) {
    replyText(o.res, 400, 'unable to upgrade: no tunneling spdy protocols provided');
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    // Content-Length 0: no chunked body whose end the runtime would read as SPDY bytes.
    const headers = [
      'Host',
      o.target.host,
      'Content-Length',
      '0',
      'Connection',
      'Upgrade',
      'Upgrade',
      'SPDY/3.1',
      ...protocols.flatMap((p) => ['X-Stream-Protocol-Version', p]),
    ];
    const backend = http.request(o.target, { method: 'POST', headers, agent: false });
    backend.on('upgrade', (answer, upstream, upstreamHead) => {
      const chosen = String(answer.headers['x-stream-protocol-version'] ?? '').trim();
      const refused = () => {
        // The client's websocket handshake failed: nothing to carry.
        upstream.destroy();
        resolve();
      };
      acceptWebsocket(o.req, o.socket, o.head, chosen ? `${tunnelingPrefix}${chosen}` : '').then((ws) => {
        keepIdleTimeout(o.socket, o.idleTimeoutMs);
        upstream.setNoDelay(true);
        if (upstreamHead.length > 0) ws.send(upstreamHead);
        upstream.on('data', (chunk: Buffer) => {
          if (ws.readyState === ws.OPEN) ws.send(chunk);
        });
        ws.on('message', (data: Buffer) => upstream.write(data));
        let done = false;
        const finish = () => {
          if (done) return;
          done = true;
          upstream.destroy();
          if (ws.readyState === ws.OPEN) ws.close(1000);
          resolve();
        };
        upstream.on('close', finish);
        upstream.on('error', finish);
        ws.on('close', finish);
        ws.on('error', finish);
      }, refused);
    });
    backend.on('response', (answer) => {
      let body = '';
      answer.setEncoding('utf8');
      answer.on('data', (c: string) => (body += c));
      answer.on('end', () => {
        replyText(o.res, answer.statusCode ?? 502, body || `the runtime refused the port-forward stream (${answer.statusCode})`);
        resolve();
      });
    });
    backend.on('error', (err) => {
      replyStatus(o.res, 500, TskubeError.from(err, 'unavailable').wrap(`connecting to the container runtime's streaming server at ${o.target.host}`).detail);
      resolve();
    });
    o.socket.once('close', () => backend.destroy());
    backend.end();
  });
}
