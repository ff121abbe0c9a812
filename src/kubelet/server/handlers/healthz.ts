import type { ServerResponse } from 'node:http';
import { type HealthCheck, healthzReply } from '../../healthz/healthz.js';
import { replyText } from '../http-reply.js';

// /healthz and /healthz/<check>, answered by the one pure healthz reply. The :10250 API
// runs the kubelet's checks (ping, log, syncloop); the plain healthzPort only ping, as
// upstream's does.

export function serveHealthz(res: ServerResponse, url: URL, checks: readonly HealthCheck[]): void {
  const reply = healthzReply(url.pathname, url.searchParams, checks);
  if (!reply) {
    replyText(res, 404, '404 page not found');
    return;
  }
  res.writeHead(reply.status, reply.headers);
  res.end(reply.body);
}
