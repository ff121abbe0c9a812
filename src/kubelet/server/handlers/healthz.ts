import type { ServerResponse } from 'node:http';
import { replyText } from '../http-reply.js';

// /healthz as upstream's healthz package answers it: "ok", the checks one per line with
// ?verbose, and each check at /healthz/<name>. The kubelet's checks: ping (the server
// answers), log (logging works) and syncloop (the kubelet's loops run; a kubelet whose
// loops stopped has exited, so it passes whenever the server answers).

const checks = ['ping', 'log', 'syncloop'];

export function serveHealthz(res: ServerResponse, check: string | undefined, verbose: boolean): void {
  if (check !== undefined) {
    replyText(res, checks.includes(check) ? 200 : 404, checks.includes(check) ? 'ok' : '404 page not found');
    return;
  }
  if (!verbose) {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
    res.end('ok');
    return;
  }
  replyText(res, 200, `${checks.map((c) => `[+]${c} ok`).join('\n')}\nhealthz check passed\n`);
}
