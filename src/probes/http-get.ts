/*
 * One HTTP GET as upstream's probe and lifecycle clients make it: a fresh connection
 * (`Connection: close`), TLS without verification, redirects followed only while they stay
 * on the first request's host name (up to 10; a redirect elsewhere ends the exchange with
 * that 3xx response), the body read up to a cap, and one deadline over all of it. Errors
 * are worded as Go's http.Client words them (`Get "http://…": dial tcp …: connect:
 * connection refused`), since those are what upstream's events say.
 */
import { errorMessage } from '../common/errors.js';
import { type ExchangeResponse, ExchangeError, type ExchangeTarget, exchange } from './http1-exchange.js';
import { type HttpGetRequest, isValidHeaderName, isValidHeaderValue } from './http-request.js';
import { connectionErrorText, dialErrorText, joinHostPort } from './net-error.js';

export interface HttpGetOptions {
  /** The whole exchange, redirects and body included (Go's Client.Timeout); none when absent. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Bytes of the final body kept; the rest is not read. */
  maxBodyBytes: number;
}

export type HttpGetResult =
  /** A response: the final one, or the redirect that left the host. */
  | { kind: 'response'; status: number; body: string; url: string }
  /** No response (Go's client.Do error): the message is `Get "<url>": <why>`. */
  | { kind: 'failed'; message: string }
  /** The response came but its body could not be read. */
  | { kind: 'body-failed'; message: string };

const maxRedirects = 10;
const redirectCodes = new Set([301, 302, 303, 307, 308]);

class Deadline extends Error {}

export async function httpGet(request: HttpGetRequest, o: HttpGetOptions): Promise<HttpGetResult> {
  for (const [name, value] of request.headers) {
    if (!isValidHeaderName(name))
      return { kind: 'failed', message: `Get ${JSON.stringify(request.url)}: net/http: invalid header field name ${JSON.stringify(name)}` };
    if (!isValidHeaderValue(value))
      return { kind: 'failed', message: `Get ${JSON.stringify(request.url)}: net/http: invalid header field value for ${JSON.stringify(name)}` };
  }
  if (request.scheme !== 'http' && request.scheme !== 'https')
    return { kind: 'failed', message: `Get ${JSON.stringify(request.url)}: unsupported protocol scheme ${JSON.stringify(request.scheme)}` };
  // One deadline over the whole exchange; the caller's signal (a stopping worker) ends it too.
  const deadline = new AbortController();
  const timer = o.timeoutMs !== undefined ? setTimeout(() => deadline.abort(new Deadline()), o.timeoutMs) : undefined;
  const forward = () => deadline.abort(o.signal?.reason);
  o.signal?.addEventListener('abort', forward, { once: true });
  const signal = deadline.signal;
  const customHost = request.headers.find(([n]) => n === 'Host')?.[1];
  const headers = request.headers.filter(([n]) => n !== 'Host');
  let target: ExchangeTarget = {
    https: request.scheme === 'https',
    host: request.host,
    port: request.port,
    target: request.target,
    hostHeader: customHost || joinHostPort(request.host, request.port),
    headers,
  };
  let urlText = request.url;
  try {
    for (let redirects = 0; ; redirects++) {
      let res: ExchangeResponse;
      try {
        res = await exchange(target, o.maxBodyBytes, signal);
      } catch (err) {
        const e = err instanceof ExchangeError ? err : new ExchangeError('connect', err);
        const why = errorText(target, e, signal);
        return e.phase === 'read-body' ? { kind: 'body-failed', message: why } : { kind: 'failed', message: `Get ${JSON.stringify(urlText)}: ${why}` };
      }
      if (redirectCodes.has(res.status) && res.location) {
        let next: URL;
        try {
          next = new URL(res.location, `${target.https ? 'https' : 'http'}://${joinHostPort(target.host, target.port)}${target.target}`);
        } catch {
          return { kind: 'failed', message: `Get ${JSON.stringify(urlText)}: failed to parse Location header ${JSON.stringify(res.location)}` };
        }
        // Upstream follows a redirect only while it stays on the first request's host.
        if (bare(next.hostname) === bare(request.host) && (next.protocol === 'http:' || next.protocol === 'https:')) {
          if (redirects + 1 >= maxRedirects) return { kind: 'failed', message: `Get ${JSON.stringify(next.href)}: stopped after ${maxRedirects} redirects` };
          const https = next.protocol === 'https:';
          target = {
            https,
            host: bare(next.hostname),
            port: Number(next.port) || (https ? 443 : 80),
            target: `${next.pathname}${next.search}`,
            // Go keeps a Host header of the user's only across a relative redirect.
            hostHeader: customHost && !/^[a-z][a-z0-9+.-]*:/i.test(res.location) ? customHost : next.host,
            headers,
          };
          urlText = next.href;
          continue;
        }
      }
      return { kind: 'response', status: res.status, body: res.body.toString('utf8'), url: urlText };
    }
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', forward);
  }
}

function bare(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

/** Go's words for what went wrong. */
function errorText(t: ExchangeTarget, e: ExchangeError, signal: AbortSignal): string {
  if (signal.reason instanceof Deadline) {
    return e.phase === 'read-body'
      ? 'context deadline exceeded (Client.Timeout or context cancellation while reading body)'
      : 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)';
  }
  if (signal.aborted) return 'context canceled';
  const cause = e.cause;
  const code = (cause as { code?: unknown } | null)?.code;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `dial tcp: lookup ${t.host}: no such host`;
  if (t.https && (code === 'EPROTO' || /wrong version number|packet length too long/i.test(errorMessage(cause))))
    return 'http: server gave HTTP response to HTTPS client';
  if (e.phase === 'connect' && (cause as { syscall?: unknown } | null)?.syscall === 'connect') return dialErrorText(joinHostPort(t.host, t.port), cause, false);
  return connectionErrorText(cause);
}
