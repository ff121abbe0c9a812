// The httpGet probe against real HTTP(S) servers on loopback: upstream's request (User-Agent,
// Accept, headers, Host), its verdicts (200–399, redirects only within the host, body cap)
// and Go's wording of every failure, since those reach the Unhealthy event.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer as createTcpServer, type Socket } from 'node:net';
import type { V1Container, V1HTTPGetAction } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../../src/kubelet/bootstrap/self-signed.js';
import { buildHttpGetRequest, canonicalHeaderName, probeUserAgent } from '../../src/probes/http-request.js';
import { runHttpProbe } from '../../src/probes/http-probe.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const seen: IncomingMessage[] = [];
const sockets = new Set<Socket>();
let handler: Handler = (_req, res) => res.end('ok');
let server: Server;
let tlsServer: Server;
let port = 0;
let tlsPort = 0;

function listen(s: Server): Promise<number> {
  s.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
}

beforeAll(async () => {
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    seen.push(req);
    handler(req, res);
  };
  server = createHttpServer(onRequest);
  port = await listen(server);
  const { certPem, keyPem } = selfSignedCertificate({ host: 'probe-test', dnsNames: ['localhost'], ips: ['127.0.0.1'], now: new Date() });
  tlsServer = createHttpsServer({ cert: certPem, key: keyPem }, onRequest);
  tlsPort = await listen(tlsServer);
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all([server, tlsServer].map((s) => new Promise((resolve) => s.close(resolve))));
});

const probe = (action: Partial<V1HTTPGetAction>, container?: V1Container, timeoutMs = 1000) =>
  runHttpProbe({ port, ...action } as V1HTTPGetAction, container, '127.0.0.1', timeoutMs);

describe('httpGet request', () => {
  it('sends upstream User-Agent and Accept, canonical header names, and the user Host header as the host', async () => {
    seen.length = 0;
    handler = (_req, res) => res.end('fine');
    const o = await probe({
      path: '/healthz?x=1',
      httpHeaders: [
        { name: 'x-custom-thing', value: 'a' },
        { name: 'x-custom-thing', value: 'b' },
        { name: 'host', value: 'svc.example' },
      ],
    });
    expect(o).toEqual({ result: 'success', output: 'fine' });
    const req = seen[0]!;
    expect(req.url).toBe('/healthz?x=1');
    expect(req.headers['user-agent']).toBe(probeUserAgent);
    expect(probeUserAgent).toBe('kube-probe/1.36');
    expect(req.headers.accept).toBe('*/*');
    expect(req.headers.host).toBe('svc.example');
    expect(req.headers.connection).toBe('close');
    expect(req.rawHeaders.filter((_, i) => req.rawHeaders[i - 1] === 'X-Custom-Thing')).toEqual(['a', 'b']);
  });

  it('the Host header defaults to host:port, as Go sends it', async () => {
    seen.length = 0;
    await probe({});
    expect(seen[0]?.headers.host).toBe(`127.0.0.1:${port}`);
  });

  it('user headers replace the defaults; an empty Accept sends none', async () => {
    seen.length = 0;
    await probe({
      httpHeaders: [
        { name: 'User-Agent', value: 'mine/1' },
        { name: 'Accept', value: '' },
      ],
    });
    expect(seen[0]?.headers['user-agent']).toBe('mine/1');
    expect(seen[0]?.headers.accept).toBeUndefined();
  });

  it('resolves a named port against the container, and says so when nothing has that name', async () => {
    const c: V1Container = { name: 'web', ports: [{ name: 'http', containerPort: port }] };
    expect((await probe({ port: 'http' }, c)).result).toBe('success');
    expect(await probe({ port: 'metrics' }, c)).toEqual({
      result: 'unknown',
      output: '',
      error: 'port "metrics" is not a number and no port of container "web" has that name',
    });
  });

  it('canonicalises header names as Go does', () => {
    expect(canonicalHeaderName('x-forwarded-FOR')).toBe('X-Forwarded-For');
    expect(canonicalHeaderName('bad header')).toBe('bad header');
    const built = buildHttpGetRequest({ port: 80, path: 'healthz' }, undefined, 'fd00::5', probeUserAgent);
    expect(built.ok && built.request.url).toBe('http://[fd00::5]:80/healthz');
  });
});

describe('httpGet verdicts', () => {
  it.each([200, 204, 399])('%d passes', async (code) => {
    handler = (_req, res) => {
      res.statusCode = code;
      res.end();
    };
    expect((await probe({})).result).toBe(code >= 300 ? 'warning' : 'success');
  });

  it.each([400, 500, 503])('%d fails with the status code', async (code) => {
    handler = (_req, res) => {
      res.statusCode = code;
      res.end('nope');
    };
    expect(await probe({})).toEqual({ result: 'failure', output: `HTTP probe failed with statuscode: ${code}` });
  });

  it('follows redirects on the same host (another port too), keeping the headers', async () => {
    seen.length = 0;
    handler = (req, res) => {
      if (req.url === '/start') {
        res.writeHead(302, { location: `http://127.0.0.1:${port}/next` });
        res.end();
      } else if (req.url === '/next') {
        res.writeHead(301, { location: '/done' });
        res.end();
      } else res.end('arrived');
    };
    expect(await probe({ path: '/start', httpHeaders: [{ name: 'X-Token', value: 't' }] })).toEqual({ result: 'success', output: 'arrived' });
    expect(seen.map((r) => [r.url, r.headers['x-token']])).toEqual([
      ['/start', 't'],
      ['/next', 't'],
      ['/done', 't'],
    ]);
  });

  it('does not follow a redirect to another host: success with a warning, as upstream', async () => {
    seen.length = 0;
    handler = (_req, res) => {
      res.writeHead(302, { location: 'http://elsewhere.invalid/x' });
      res.end('moved');
    };
    expect(await probe({})).toEqual({ result: 'warning', output: 'Probe terminated redirects, Response body: moved' });
    expect(seen).toHaveLength(1);
  });

  it('gives up after 10 redirects', async () => {
    handler = (_req, res) => {
      res.writeHead(302, { location: '/again' });
      res.end();
    };
    expect(await probe({})).toEqual({ result: 'failure', output: `Get "http://127.0.0.1:${port}/again": stopped after 10 redirects` });
  });

  it('reads at most 10 KiB of the body', async () => {
    handler = (_req, res) => res.end('x'.repeat(1024 * 1024));
    const o = await probe({});
    expect(o.result).toBe('success');
    expect(o.output).toHaveLength(10 * 1024);
  });

  it('speaks HTTPS without verifying the certificate', async () => {
    handler = (_req, res) => res.end('secure');
    expect(await runHttpProbe({ port: tlsPort, scheme: 'HTTPS' }, undefined, '127.0.0.1', 1000)).toEqual({ result: 'success', output: 'secure' });
  });
});

describe('httpGet failures, worded as Go words them', () => {
  it('a port nothing listens on', async () => {
    const closed = createHttpServer();
    const free = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    expect(await runHttpProbe({ port: free, path: '/healthz' }, undefined, '127.0.0.1', 1000)).toEqual({
      result: 'failure',
      output: `Get "http://127.0.0.1:${free}/healthz": dial tcp 127.0.0.1:${free}: connect: connection refused`,
    });
  });

  it('a server that never answers: the probe ends at its timeout', async () => {
    handler = () => undefined;
    const started = Date.now();
    expect(await probe({ path: '/slow' }, undefined, 300)).toEqual({
      result: 'failure',
      output: `Get "http://127.0.0.1:${port}/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
    });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('a server that closes without answering', async () => {
    handler = (req) => req.socket.destroy();
    // No path: Go prints the URL without one.
    expect(await probe({})).toEqual({ result: 'failure', output: `Get "http://127.0.0.1:${port}": EOF` });
  });

  it('a header with an invalid name fails the probe, nothing is sent', async () => {
    seen.length = 0;
    expect(await probe({ path: '/', httpHeaders: [{ name: 'bad header', value: 'x' }] })).toEqual({
      result: 'failure',
      output: `Get "http://127.0.0.1:${port}/": net/http: invalid header field name "bad header"`,
    });
    expect(seen).toHaveLength(0);
  });

  it('HTTPS to a plain HTTP server', async () => {
    expect(await runHttpProbe({ port, scheme: 'HTTPS' }, undefined, '127.0.0.1', 1000)).toEqual({
      result: 'failure',
      output: `Get "https://127.0.0.1:${port}": http: server gave HTTP response to HTTPS client`,
    });
  });
});

describe('the HTTP/1.1 exchange with servers that answer in unusual ways', () => {
  /** A server that answers every connection with these raw bytes, written in pieces, then closes. */
  async function raw(pieces: string[], close = true): Promise<{ port: number; stop: () => Promise<void> }> {
    const conns = new Set<Socket>();
    const s = createTcpServer((socket) => {
      conns.add(socket);
      socket.on('error', () => undefined);
      socket.once('data', async () => {
        for (const p of pieces) {
          socket.write(p);
          await new Promise((r) => setTimeout(r, 5));
        }
        if (close) socket.end();
      });
    });
    const p = await listen(s as unknown as Server);
    return {
      port: p,
      stop: async () => {
        for (const c of conns) c.destroy();
        await new Promise((r) => s.close(r));
      },
    };
  }
  const at = (p: number, timeoutMs = 1000) => runHttpProbe({ port: p }, undefined, '127.0.0.1', timeoutMs);

  it('reads a chunked body split across packets', async () => {
    const s = await raw(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel', 'lo\r\n6;ext=1\r\n world\r\n0\r\n\r\n']);
    expect(await at(s.port)).toEqual({ result: 'success', output: 'hello world' });
    await s.stop();
  });

  it('reads a Content-Length body, and one that runs until the server closes', async () => {
    const a = await raw(['HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\n', 'down']);
    expect(await at(a.port)).toEqual({ result: 'failure', output: 'HTTP probe failed with statuscode: 503' });
    await a.stop();
    const b = await raw(['HTTP/1.0 200 OK\r\n\r\nuntil ', 'the end']);
    expect(await at(b.port)).toEqual({ result: 'success', output: 'until the end' });
    await b.stop();
  });

  it('skips an interim 100 Continue', async () => {
    const s = await raw(['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 204 No Content\r\n\r\n']);
    expect(await at(s.port)).toEqual({ result: 'success', output: '' });
    await s.stop();
  });

  it('a malformed status line, and a body cut short, fail', async () => {
    const a = await raw(['SSH-2.0-OpenSSH_9.2\r\n\r\n']);
    expect(await at(a.port)).toEqual({ result: 'failure', output: `Get "http://127.0.0.1:${a.port}": malformed HTTP response "SSH-2.0-OpenSSH_9.2"` });
    await a.stop();
    const b = await raw(['HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort']);
    expect(await at(b.port)).toEqual({ result: 'failure', output: '', error: 'unexpected EOF' });
    await b.stop();
  });

  it('a server that sends headers and then stalls: the timeout ends it while reading the body', async () => {
    const s = await raw(['HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome'], false);
    expect(await at(s.port, 300)).toMatchObject({
      result: 'failure',
      error: 'context deadline exceeded (Client.Timeout or context cancellation while reading body)',
    });
    await s.stop();
  });
});
