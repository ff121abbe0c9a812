/*
 * The kubelet's two plain-HTTP listeners, both off the authenticated path by design:
 * healthzPort (10248 on 127.0.0.1, what kubeadm and systemd checks curl) answers
 * /healthz only; readOnlyPort (off unless set, as upstream) serves the read-only routes
 * (/healthz, /pods, /stats/summary, /metrics, /metrics/resource) without authentication.
 */
import http from 'node:http';
import type { Logger } from '../../common/logger.js';
import { sleep } from '../../common/sleep.js';
import type { Dispatcher } from './dispatch.js';
import { pingCheck } from '../healthz/healthz.js';
import { serveHealthz } from './handlers/healthz.js';
import { close, listen } from './listen.js';

export async function runHealthzServer(address: string, port: number, log: Logger, signal: AbortSignal): Promise<void> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://kubelet');
    serveHealthz(res, url, [pingCheck]);
  });
  const at = await listen(server, address, port, 'healthzPort');
  log.info({ address: at.address, port: at.port }, 'healthz listening');
  await sleep(Infinity, signal);
  await close(server);
}

export async function runReadOnlyServer(address: string, port: number, dispatcher: Dispatcher, log: Logger, signal: AbortSignal): Promise<void> {
  const server = http.createServer(dispatcher.handleRequest);
  const at = await listen(server, address, port, 'readOnlyPort');
  log.warn({ address: at.address, port: at.port }, 'read-only kubelet API listening without authentication (readOnlyPort)');
  await sleep(Infinity, signal);
  await close(server);
}
