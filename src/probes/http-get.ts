/*
 * One HTTP GET as upstream's probe and lifecycle clients make it: a fresh connection
 * (`Connection: close`), TLS without verification, redirects followed only while they stay
 * on the first request's host name (up to 10; a redirect elsewhere ends the exchange with
 * that 3xx response), the body read up to a cap, and one deadline over all of it. Errors
 * are worded as Go's http.Client words them (`Get "http://…": dial tcp …: connect:
 * connection refused`), since those are what upstream's events say.
 */
import http from 'node:http';
import https from 'node:https';
import { errorMessage } from '../common/errors.js';
import { dialErrorText, connectionErrorText, isDialError, joinHostPort } from './net-error.js';
import { type HttpGetRequest, isValidHeaderName, isValidHeaderValue } from './http-request.js';

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
// No keep-alive, as upstream's probe transport: each probe is one connection, closed after it.
const httpAgent = new http.Agent({ keepAlive: false });
const httpsAgent = new https.Agent({ keepAlive: false, rejectUnauthorized: false });

class Deadline extends Error {}

export async function httpGet(request: HttpGetRequest, o: HttpGetOptions): Promise<HttpGetResult> {
  for (const [name, value] of request.headers) {
    if (!isValidHeaderName(name))
      return { kind: 'failed', message: `Get ${JSON.stringify(request.url)}: net/http: invalid header field name ${JSON.stringify(name)}` };
    if (!isValidHeaderValue(value))
      return { kind: 'failed', message: `Get ${JSON.stringify(request.url)}: net/http: invalid header field value for ${JSON.stringify(name)}` };
  }
  const deadline = new AbortController();
  const timer = o.timeoutMs !== undefined ? setTimeout(() => deadline.abort(new Deadline()), o.timeoutMs) : undefined;
  const signal = o.signal ? AbortSignal.any([o.signal, deadline.signal]) : deadline.signal;
  const firstHost = request.host;
  const customHost = request.headers.find(([n]) => n === 'Host')?.[1];
  const headers = request.headers.filter(([n]) => n !== 'Host');
  let url = new URL(`${request.scheme}://${joinHostPort(request.host, request.port)}${request.target}`);
  let urlText = request.url;
  let hostHeader = customHost || joinHostPort(request.host, request.port);
  try {
    for (let redirects = 0; ; redirects++) {
      let res: http.IncomingMessage;
      try {
        res = await send(url, hostHeader, headers, signal);
      } catch (err) {
        return { kind: 'failed', message: `Get ${JSON.stringify(urlText)}: ${sendErrorText(url, err, signal)}` };
      }
      const location = res.headers.location;
      if (redirectCodes.has(res.statusCode ?? 0) && location) {
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          res.resume();
          return { kind: 'failed', message: `Get ${JSON.stringify(urlText)}: failed to parse Location header ${JSON.stringify(location)}` };
        }
        if (bare(next.hostname) === bare(firstHost)) {
          if (redirects + 1 >= maxRedirects) {
            res.destroy();
            return { kind: 'failed', message: `Get ${JSON.stringify(next.href)}: stopped after ${maxRedirects} redirects` };
          }
          res.destroy();
          // Go keeps a Host header of the user's only across a relative redirect.
          hostHeader = customHost && !/^[a-z][a-z0-9+.-]*:/i.test(location) ? customHost : next.host;
          url = next;
          urlText = next.href;
          continue;
        }
        // Another host: upstream does not follow, and judges the redirect itself.
      }
      try {
        const body = await readCapped(res, o.maxBodyBytes, signal);
        return { kind: 'response', status: res.statusCode ?? 0, body, url: urlText };
      } catch (err) {
        const why =
          signal.reason instanceof Deadline
            ? 'context deadline exceeded (Client.Timeout or context cancellation while reading body)'
            : connectionErrorText(err);
        return { kind: 'body-failed', message: why };
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

function bare(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

function sendErrorText(url: URL, err: unknown, signal: AbortSignal): string {
  if (signal.reason instanceof Deadline) return 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)';
  if (signal.aborted) return 'context canceled';
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  if (isDialError(err)) return dialErrorText(joinHostPort(bare(url.hostname), port), err, false);
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `dial tcp: lookup ${bare(url.hostname)}: no such host`;
  if (url.protocol === 'https:' && (code === 'EPROTO' || /wrong version number|packet length too long/i.test(errorMessage(err))))
    return 'http: server gave HTTP response to HTTPS client';
  return connectionErrorText(err);
}

function send(url: URL, host: string, headers: [string, string][], signal: AbortSignal): Promise<http.IncomingMessage> {
  const isHttps = url.protocol === 'https:';
  if (!isHttps && url.protocol !== 'http:') return Promise.reject(new Error(`unsupported protocol scheme ${JSON.stringify(url.protocol.replace(/:$/, ''))}`));
  return new Promise((resolve, reject) => {
    const options: http.RequestOptions = {
      method: 'GET',
      hostname: bare(url.hostname),
      port: Number(url.port) || (isHttps ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      // Raw header pairs keep the user's order and repeated names.
      headers: [['Host', host], ...headers].flat(),
      agent: isHttps ? httpsAgent : httpAgent,
      signal,
    };
    const req = (isHttps ? https : http).request(options, resolve);
    req.on('error', reject);
    req.end();
  });
}

function readCapped(res: http.IncomingMessage, max: number, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      signal.removeEventListener('abort', onAbort);
      resolve(Buffer.concat(chunks).subarray(0, max).toString('utf8'));
    };
    const onAbort = () => {
      res.destroy();
      reject(signal.reason);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    res.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      // Enough read: the rest of a large body is not the probe's business.
      if (size >= max) {
        res.destroy();
        done();
      }
    });
    res.on('end', done);
    res.on('error', (err) => {
      if (size >= max) return;
      signal.removeEventListener('abort', onAbort);
      reject(err);
    });
  });
}
