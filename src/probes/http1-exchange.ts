/*
 * One HTTP/1.1 GET on a connection of its own, and just enough of the response for a probe:
 * the status, the Location header and the first bytes of the body. Written on a plain
 * socket rather than node:http because a kubelet makes one of these per probe per period
 * (110 pods probed every second is 110 a second), and node:http's request and response
 * objects cost several times what the exchange itself does.
 *
 *   connect ─► send "GET <target> HTTP/1.1" + headers + "Connection: close"
 *      ─► read the status line and headers (1xx interim responses are skipped, as Go's client does)
 *      ─► read the body by Content-Length, chunks or until the server closes, up to the cap
 *      ─► close
 */
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface ExchangeTarget {
  https: boolean;
  /** A host name or IP address (no brackets). */
  host: string;
  port: number;
  /** The request target: path and query, starting with "/". */
  target: string;
  /** The Host header's value. */
  hostHeader: string;
  /** Header lines after Host, in order. */
  headers: readonly [string, string][];
}

export interface ExchangeResponse {
  status: number;
  location: string | undefined;
  /** The body, at most the cap. */
  body: Buffer;
}

/** A failure and where it happened: connecting (a dial error), or on the established connection. */
export class ExchangeError extends Error {
  readonly phase: 'connect' | 'read-headers' | 'read-body';

  constructor(phase: 'connect' | 'read-headers' | 'read-body', cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.phase = phase;
  }
}

/** Longest status line plus headers a probe reads (Go's default MaxResponseHeaderBytes is 1 MiB; probes need far less). */
const maxHeaderBytes = 1 << 20;

export function exchange(t: ExchangeTarget, maxBodyBytes: number, signal: AbortSignal): Promise<ExchangeResponse> {
  return new Promise((resolve, reject) => {
    let connected = false;
    let socket: Socket;
    let lines = `GET ${t.target} HTTP/1.1\r\nHost: ${t.hostHeader}\r\n`;
    for (const [name, value] of t.headers) lines += `${name}: ${value}\r\n`;
    lines += 'Connection: close\r\n\r\n';
    const request = lines;
    const parser = new ResponseReader(maxBodyBytes);
    let settled = false;
    const finish = (err: ExchangeError | undefined, res?: ExchangeResponse) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve(res as ExchangeResponse);
    };
    const onAbort = () => finish(new ExchangeError(connected ? parser.phase : 'connect', signal.reason));
    const onConnect = () => {
      connected = true;
      socket.write(request);
    };
    if (t.https) {
      const servername = isIP(t.host) ? undefined : t.host;
      socket = tlsConnect({ host: t.host, port: t.port, rejectUnauthorized: false, ...(servername ? { servername } : {}) }, onConnect);
    } else {
      socket = netConnect({ host: t.host, port: t.port }, onConnect);
    }
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('data', (chunk: Buffer) => {
      try {
        const done = parser.push(chunk);
        if (done) finish(undefined, done);
      } catch (err) {
        finish(new ExchangeError(parser.phase, err));
      }
    });
    socket.on('end', () => {
      if (settled) return;
      try {
        const done = parser.end();
        finish(done ? undefined : new ExchangeError(parser.phase, new Error('EOF')), done);
      } catch (err) {
        finish(new ExchangeError(parser.phase, err));
      }
    });
    socket.on('error', (err) => finish(new ExchangeError(connected ? parser.phase : 'connect', err)));
    // Our own destroy() closes it too: only a close nobody asked for is an error (and worth building one).
    socket.on('close', () => {
      if (!settled) finish(new ExchangeError(connected ? parser.phase : 'connect', new Error('EOF')));
    });
  });
}

type BodyMode =
  | { kind: 'length'; left: number }
  | { kind: 'chunked'; left: number; state: 'size' | 'data' | 'data-end' }
  | { kind: 'close' }
  | { kind: 'none' };

/** The response as bytes arrive: head first, then as much body as the cap allows. */
class ResponseReader {
  phase: 'read-headers' | 'read-body' = 'read-headers';
  #buffer: Buffer = Buffer.alloc(0);
  #status = 0;
  #location: string | undefined;
  #mode: BodyMode = { kind: 'none' };
  readonly #body: Buffer[] = [];
  #bodySize = 0;
  readonly #cap: number;

  constructor(cap: number) {
    this.#cap = cap;
  }

  /** The response once complete (or the cap reached), else undefined. */
  push(chunk: Buffer): ExchangeResponse | undefined {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    while (this.phase === 'read-headers') {
      const end = this.#buffer.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.#buffer.length > maxHeaderBytes) throw new Error('net/http: server response headers exceeded 1048576 bytes; aborted');
        return undefined;
      }
      const head = this.#buffer.subarray(0, end).toString('latin1');
      this.#buffer = this.#buffer.subarray(end + 4);
      this.#readHead(head);
    }
    return this.#readBody();
  }

  /** The server closed the connection: complete if the body was to end there. */
  end(): ExchangeResponse | undefined {
    if (this.phase === 'read-body' && this.#mode.kind === 'close') return this.#response();
    if (this.phase === 'read-headers') return undefined;
    throw new Error('unexpected EOF');
  }

  #readHead(head: string): void {
    const lines = head.split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
    if (!status) throw new Error(`malformed HTTP response ${JSON.stringify(lines[0] ?? '')}`);
    const code = Number(status[1]);
    // Interim responses (100 Continue, 103 Early Hints) come before the real one.
    if (code >= 100 && code < 200 && code !== 101) return;
    let length: number | undefined;
    let chunked = false;
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`malformed MIME header line: ${line}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'location') this.#location ??= value;
      else if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding') chunked = value.toLowerCase().split(',').at(-1)?.trim() === 'chunked';
    }
    this.#status = code;
    this.phase = 'read-body';
    if (code === 204 || code === 304) this.#mode = { kind: 'none' };
    else if (chunked) this.#mode = { kind: 'chunked', left: 0, state: 'size' };
    else if (length !== undefined && Number.isInteger(length) && length >= 0) this.#mode = { kind: 'length', left: length };
    else this.#mode = { kind: 'close' };
  }

  #readBody(): ExchangeResponse | undefined {
    const mode = this.#mode;
    switch (mode.kind) {
      case 'none':
        return this.#response();
      case 'close':
        this.#take(this.#buffer.length);
        return this.#bodySize >= this.#cap ? this.#response() : undefined;
      case 'length': {
        const n = Math.min(mode.left, this.#buffer.length);
        this.#take(n);
        mode.left -= n;
        return mode.left === 0 || this.#bodySize >= this.#cap ? this.#response() : undefined;
      }
      case 'chunked':
        for (;;) {
          if (this.#bodySize >= this.#cap) return this.#response();
          if (mode.state === 'size') {
            const eol = this.#buffer.indexOf('\r\n');
            if (eol < 0) return undefined;
            const size = Number.parseInt(this.#buffer.subarray(0, eol).toString('latin1').split(';')[0] ?? '', 16);
            if (!Number.isFinite(size) || size < 0) throw new Error('invalid byte in chunk length');
            this.#buffer = this.#buffer.subarray(eol + 2);
            if (size === 0) return this.#response(); // trailers are not the probe's business
            mode.left = size;
            mode.state = 'data';
          } else if (mode.state === 'data') {
            const n = Math.min(mode.left, this.#buffer.length);
            if (n === 0) return undefined;
            this.#take(n);
            mode.left -= n;
            if (mode.left === 0) mode.state = 'data-end';
          } else {
            if (this.#buffer.length < 2) return undefined;
            this.#buffer = this.#buffer.subarray(2);
            mode.state = 'size';
          }
        }
    }
  }

  /** Moves n bytes of the buffer into the body, keeping no more than the cap. */
  #take(n: number): void {
    const keep = Math.min(n, this.#cap - this.#bodySize);
    if (keep > 0) {
      this.#body.push(this.#buffer.subarray(0, keep));
      this.#bodySize += keep;
    }
    this.#buffer = this.#buffer.subarray(n);
  }

  #response(): ExchangeResponse {
    return { status: this.#status, location: this.#location, body: Buffer.concat(this.#body) };
  }
}
