// RestClient over a local plain-HTTP server: status mapping, watch streams, and what a
// watch does when the connection drops mid-stream.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiError } from '../../src/kube/api-error.js';
import { RestClient } from '../../src/kube/rest-client.js';
import { errorMessage } from '../../src/common/errors.js';

let server: http.Server;
let rest: RestClient;
const requests: { method: string; url: string; contentType: string | undefined; body: string }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body });
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/api/v1/namespaces/ns/pods/missing') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'NotFound', message: 'pods "missing" not found', code: 404 }));
      } else if (url.pathname === '/api/v1/pods' && url.searchParams.get('watch') === 'true') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n{"type":"BOOKMARK",');
        res.write('"object":{"metadata":{"resourceVersion":"7"}}}\n');
        if (url.searchParams.get('drop') === '1') setTimeout(() => req.socket.destroy(), 50);
        else res.end();
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: true }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  rest = new RestClient({
    source: 'test',
    context: 'x',
    cluster: { name: 'c', server: `http://127.0.0.1:${port}`, insecureSkipTLSVerify: true },
    user: { name: 'u', token: 'secret-token' },
  });
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('RestClient', () => {
  it('sends JSON with the content type asked for and the query', async () => {
    expect(
      await rest.request('PATCH', '/api/v1/namespaces/ns/events/e', {
        body: { count: 2 },
        contentType: 'application/strategic-merge-patch+json',
        query: { fieldManager: 'kubelet', skip: undefined },
      }),
    ).toEqual({ ok: true });
    expect(requests.at(-1)).toEqual({
      method: 'PATCH',
      url: '/api/v1/namespaces/ns/events/e?fieldManager=kubelet',
      contentType: 'application/strategic-merge-patch+json',
      body: '{"count":2}',
    });
  });

  it('turns a Status answer into a KubeApiError with status, reason and message', async () => {
    const err = await rest.request('GET', '/api/v1/namespaces/ns/pods/missing').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ status: 404, reason: 'NotFound', code: 'not-found' });
    expect(errorMessage(err)).toBe('not-found: GET /api/v1/namespaces/ns/pods/missing: pods "missing" not found (HTTP 404, NotFound)');
  });

  it('streams watch lines as objects, across chunk boundaries', async () => {
    const events: unknown[] = [];
    for await (const ev of rest.stream('/api/v1/pods', { resourceVersion: '5' }, new AbortController().signal)) events.push(ev);
    expect(events).toEqual([
      { type: 'ADDED', object: { metadata: { name: 'a' } } },
      { type: 'BOOKMARK', object: { metadata: { resourceVersion: '7' } } },
    ]);
    expect(requests.at(-1)?.url).toBe('/api/v1/pods?resourceVersion=5&watch=true');
  });

  it('fails a watch whose connection drops as unavailable (the reflector retries it), after the events that arrived', async () => {
    const events: unknown[] = [];
    let failure: unknown;
    try {
      for await (const ev of rest.stream('/api/v1/pods', { drop: 1 }, new AbortController().signal)) events.push(ev);
    } catch (err) {
      failure = err;
    }
    expect(events).toHaveLength(2);
    expect(failure).toMatchObject({ code: 'unavailable' });
    expect(errorMessage(failure)).toMatch(/^unavailable: GET \/api\/v1\/pods \(watch\): connection lost/);
  });

  it('ends a watch quietly when its signal aborts', async () => {
    const stop = new AbortController();
    const events: unknown[] = [];
    for await (const ev of rest.stream('/api/v1/pods', { drop: 1 }, stop.signal)) {
      events.push(ev);
      stop.abort();
    }
    expect(events).toHaveLength(1);
  });
});
