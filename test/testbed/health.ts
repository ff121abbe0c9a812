// Health endpoint checks over HTTPS, without kubectl (a kubectl start costs
// more than the check itself).
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';

export interface HealthTarget {
  url: string;
  // Trust and client identity; omitted for the controller manager and
  // scheduler, whose self-signed serving certs no CA vouches for.
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export interface HealthResult {
  ok: boolean;
  detail: string;
}

export function checkHealth(target: HealthTarget, timeoutMs = 2_000): Promise<HealthResult> {
  return new Promise((resolve) => {
    const tls = target.caFile
      ? {
          ca: readFileSync(target.caFile),
          ...(target.certFile && target.keyFile ? { cert: readFileSync(target.certFile), key: readFileSync(target.keyFile) } : {}),
        }
      : { rejectUnauthorized: false };
    // etcd is the one plain-HTTP endpoint.
    const request = target.url.startsWith('http:') ? httpRequest : httpsRequest;
    const req = request(target.url, { ...tls, timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ ok: res.statusCode === 200, detail: `HTTP ${String(res.statusCode)}: ${summarize(body)}` }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs}ms`)));
    req.on('error', (err) => resolve({ ok: false, detail: err.message }));
    req.end();
  });
}

// A verbose /readyz or /healthz body lists every check; only the failing
// ones ("[-]name failed") say anything.
function summarize(body: string): string {
  const failing = body.split('\n').filter((l) => l.startsWith('[-]'));
  if (failing.length > 0) return failing.map((l) => l.replace(/: reason withheld$/, '')).join(', ');
  const text = body.trim();
  return text.length > 500 ? `${text.slice(0, 500)}...` : text;
}
