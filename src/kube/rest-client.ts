// A small REST client over node:https for the calls client-node's generated APIs make
// awkward: list/watch of any path with selectors, streaming watch lines, PATCH with
// an explicit content type. Credentials come from the kubeconfig's files and are re-read
// every minute, so a rotated client certificate or token is picked up without a restart.
import http from 'node:http';
import https from 'node:https';
import { createInterface } from 'node:readline';
import { createSecureContext } from 'node:tls';
import { TskubeError } from '../common/errors.js';
import { type ApiStatus, KubeApiError } from './api-error.js';
import { type KubeCredentials, type Kubeconfig, kubeCredentials } from './kubeconfig.js';

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Defaults to application/json when there is a body. */
  contentType?: string;
  signal?: AbortSignal;
  /** Whole-request deadline; defaults to 30 s. */
  timeoutMs?: number;
}

// client-go re-reads a token file every minute; reading two small files as often costs nothing.
const CREDENTIALS_TTL_MS = 60_000;
const DEFAULT_TIMEOUT_MS = 30_000;

interface Transport {
  options: https.RequestOptions;
  agent: http.Agent;
  loadedAt: number;
  /** The TLS material it was made with; a reload with the same keeps the agent. */
  fingerprint: string;
}

export class RestClient {
  readonly server: URL;
  readonly #kc: Kubeconfig;
  #transport: Promise<Transport> | undefined;
  readonly #userAgent: string;
  readonly #credentialsTtlMs: number;

  constructor(kc: Kubeconfig, options: { userAgent?: string; credentialsTtlMs?: number } = {}) {
    this.#kc = kc;
    this.server = new URL(kc.cluster.server);
    this.#userAgent = options.userAgent ?? 'tskube';
    this.#credentialsTtlMs = options.credentialsTtlMs ?? CREDENTIALS_TTL_MS;
  }

  /** One request, JSON in and out. A non-2xx answer throws KubeApiError. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.#send(method, path, opts);
    const text = await readBody(res);
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 299) throw KubeApiError.fromStatus(status, parseStatus(text), `${method} ${path}`);
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new TskubeError('internal', `${method} ${path}: answer is not JSON: ${text.slice(0, 200)}`, { cause: err });
    }
  }

  /**
   * A watch stream: one parsed JSON object per line until the server closes it or the
   * signal aborts (the iterator then just ends). A non-200 answer throws KubeApiError.
   */
  async *stream(path: string, query: Query, signal: AbortSignal): AsyncGenerator<unknown> {
    if (signal.aborted) return;
    const inner = new AbortController();
    const abort = () => inner.abort(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    try {
      // No whole-request deadline: the server ends the watch after timeoutSeconds.
      const res = await this.#send('GET', path, { query: { ...query, watch: true }, signal: inner.signal, timeoutMs: 0 });
      const status = res.statusCode ?? 0;
      if (status !== 200) throw KubeApiError.fromStatus(status, parseStatus(await readBody(res)), `GET ${path} (watch)`);
      const lines = createInterface({ input: res, crlfDelay: Infinity });
      try {
        for await (const line of lines) {
          // Lines already buffered when the caller stopped are not wanted.
          if (signal.aborted) return;
          if (line.trim() === '') continue;
          let value: unknown;
          try {
            value = JSON.parse(line);
          } catch {
            throw new TskubeError('internal', `GET ${path} (watch): not a JSON line: ${line.slice(0, 200)}`);
          }
          yield value;
        }
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof TskubeError) throw err;
        const e = TskubeError.from(err, 'unavailable');
        throw new TskubeError('unavailable', `GET ${path} (watch): connection lost: ${e.detail}`, { cause: err });
      } finally {
        lines.close();
        res.destroy();
      }
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    } finally {
      signal.removeEventListener('abort', abort);
      inner.abort();
    }
  }

  async #send(method: string, path: string, opts: RequestOptions): Promise<http.IncomingMessage> {
    const transport = await this.#getTransport();
    const url = new URL(this.server.href);
    // The server URL may carry a path prefix (a proxy in front of the apiserver).
    url.pathname = this.server.pathname.replace(/\/$/, '') + path;
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    const headers: http.OutgoingHttpHeaders = {
      ...(transport.options.headers as http.OutgoingHttpHeaders | undefined),
      accept: 'application/json',
      'user-agent': this.#userAgent,
    };
    if (body !== undefined) {
      headers['content-type'] = opts.contentType ?? 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const signal =
      timeoutMs > 0 ? (opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs)) : opts.signal;
    const mod = url.protocol === 'http:' ? http : https;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, { ...transport.options, method, headers, agent: transport.agent, ...(signal ? { signal } : {}) }, resolve);
      req.on('error', (err) => {
        const e = TskubeError.from(err, 'unavailable');
        reject(new TskubeError(e.code, `${method} ${url.pathname}: ${e.detail}`, { cause: err }));
      });
      req.end(body);
    });
  }

  #getTransport(): Promise<Transport> {
    const current = this.#transport;
    if (current) {
      return current.then((t) => (Date.now() - t.loadedAt < this.#credentialsTtlMs ? t : this.#reloadTransport(t)));
    }
    return this.#reloadTransport(undefined);
  }

  #reloadTransport(old: Transport | undefined): Promise<Transport> {
    const next = (async (): Promise<Transport> => {
      // Unreadable certificate files, a failing exec plugin: the error names file and field.
      const { tls, headers } = await kubeCredentials(this.#kc);
      const perRequest: https.RequestOptions = { headers };
      // A new token needs no new connections; a new certificate or CA does.
      const fingerprint = JSON.stringify(tls, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('base64') : v));
      if (old && old.fingerprint === fingerprint) return { ...old, options: perRequest, loadedAt: Date.now() };
      const agent = this.server.protocol === 'http:' ? new http.Agent({ keepAlive: true }) : httpsAgent(tls);
      // New credentials: new connections use them. Open watches on the old agent run
      // out within their timeout (at most 10 min), so its sockets go after that.
      if (old) setTimeout(() => old.agent.destroy(), 11 * 60_000).unref();
      return { options: perRequest, agent, loadedAt: Date.now(), fingerprint };
    })();
    this.#transport = next;
    next.catch(() => {
      if (this.#transport === next) this.#transport = undefined;
    });
    return next;
  }
}

/**
 * One secure context (CA store, client pair) for every connection of the agent: without
 * it each connection, a watch's included, parses the CA and keeps its own copy.
 */
function httpsAgent(tls: KubeCredentials['tls']): https.Agent {
  const { ca, cert, key, rejectUnauthorized, servername } = tls;
  const secureContext = createSecureContext({ ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) });
  return new https.Agent({
    keepAlive: true,
    secureContext,
    ...(rejectUnauthorized === false ? { rejectUnauthorized } : {}),
    ...(servername ? { servername } : {}),
  });
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (text += c));
    res.on('end', () => resolve(text));
    res.on('error', (err) => reject(TskubeError.from(err, 'unavailable')));
  });
}

function parseStatus(text: string): ApiStatus | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as ApiStatus) : undefined;
  } catch {
    return text ? { message: text.slice(0, 500) } : undefined;
  }
}
