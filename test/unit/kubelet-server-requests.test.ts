import type { V1PodStatus } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { Authenticator, type ReviewApi } from '../../src/kubelet/server/auth/authenticator.js';
import { Authorizer } from '../../src/kubelet/server/auth/authorizer.js';
import { forbiddenMessage, requestAttributes, subresourcesFor } from '../../src/kubelet/server/auth/request-attributes.js';
import { TtlCache } from '../../src/kubelet/server/auth/ttl-cache.js';
import { logContainerId } from '../../src/kubelet/server/logs/log-container.js';
import { parseLogOptions } from '../../src/kubelet/server/logs/log-options.js';
import { matchRoute, metricBucket } from '../../src/kubelet/server/routes.js';
import { tunneledProtocols } from '../../src/kubelet/server/streaming/port-forward-tunnel.js';
import { parseStreamOptions } from '../../src/kubelet/server/streaming/stream-options.js';
import { backendUrl, forwardedHeaders, responseHead } from '../../src/kubelet/server/streaming/upgrade-proxy.js';
import { exitStatusObject } from '../../src/kubelet/server/streaming/websocket-translator.js';

describe('which permission a kubelet API request needs', () => {
  it("maps paths to upstream's subresources, narrow one first, proxy as the catch-all", () => {
    expect(subresourcesFor('/pods')).toEqual(['pods', 'proxy']);
    expect(subresourcesFor('/runningpods/')).toEqual(['pods', 'proxy']);
    expect(subresourcesFor('/healthz')).toEqual(['healthz', 'proxy']);
    expect(subresourcesFor('/healthz/ping')).toEqual(['healthz', 'proxy']);
    expect(subresourcesFor('/configz')).toEqual(['configz', 'proxy']);
    expect(subresourcesFor('/stats/summary')).toEqual(['stats']);
    expect(subresourcesFor('/metrics')).toEqual(['metrics']);
    expect(subresourcesFor('/metrics/resource')).toEqual(['metrics']);
    expect(subresourcesFor('/logs/syslog')).toEqual(['log']);
    expect(subresourcesFor('/containerLogs/ns/p/c')).toEqual(['proxy']);
    expect(subresourcesFor('/exec/ns/p/c')).toEqual(['proxy']);
    // A prefix match needs a path boundary.
    expect(subresourcesFor('/podsx')).toEqual(['proxy']);
    expect(subresourcesFor('/metricsfoo')).toEqual(['proxy']);
  });

  it('takes the verb from the method and names the node', () => {
    expect(requestAttributes('POST', '/exec/ns/p/c', 'node-1')).toEqual([
      { verb: 'create', resource: 'nodes', subresource: 'proxy', name: 'node-1', apiVersion: 'v1', path: '/exec/ns/p/c' },
    ]);
    expect(requestAttributes('GET', '/stats/summary', 'n').map((a) => a.verb)).toEqual(['get']);
    expect(requestAttributes('PATCH', '/x', 'n')[0]?.verb).toBe('patch');
    expect(requestAttributes('HEAD', '/x', 'n')[0]?.verb).toBe('');
  });

  it("says in the 403 who asked and which permissions would do, in upstream's words", () => {
    expect(forbiddenMessage('system:serviceaccount:a:b', requestAttributes('GET', '/pods', 'n'))).toBe(
      'Forbidden (user=system:serviceaccount:a:b, verb=get, resource=nodes, subresource(s)=[pods proxy])\n',
    );
  });
});

describe('authentication', () => {
  const reviews: object[] = [];
  const api: ReviewApi = async <T>(_path: string, body: object): Promise<T> => {
    reviews.push(body);
    const token = (body as { spec: { token: string } }).spec.token;
    if (token === 'down') throw new Error('connection refused');
    return (
      token === 'good'
        ? { status: { authenticated: true, user: { username: 'alice', uid: 'u1', groups: ['devs'] } } }
        : { status: { authenticated: false, error: 'invalid bearer token' } }
    ) as T;
  };

  it('takes the verified client certificate first: CN is the user, O the groups', async () => {
    const a = new Authenticator({ anonymous: false, tokenReview: { api, cacheTtlMs: 1000 } });
    expect(await a.authenticate({ certificate: { commonName: 'system:node:n1', organizations: ['system:nodes'] }, authorization: 'Bearer good' })).toEqual({
      ok: true,
      method: 'x509',
      user: { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] },
    });
  });

  it('reviews bearer tokens, keeps answers for the TTL, never keeps a failed review', async () => {
    let now = 0;
    const a = new Authenticator({ anonymous: true, tokenReview: { api, cacheTtlMs: 1000 }, now: () => now });
    reviews.length = 0;
    const ok = await a.authenticate({ authorization: 'Bearer good' });
    expect(ok).toEqual({ ok: true, method: 'token', user: { name: 'alice', uid: 'u1', groups: ['devs', 'system:authenticated'] } });
    await a.authenticate({ authorization: 'Bearer good' });
    expect(reviews).toHaveLength(1);
    now = 1500;
    await a.authenticate({ authorization: 'Bearer good' });
    expect(reviews).toHaveLength(2);
    // A rejected token is a 401 even when anonymous requests are allowed.
    expect(await a.authenticate({ authorization: 'Bearer bad' })).toEqual({
      ok: false,
      why: 'the API server did not accept the bearer token: invalid bearer token',
    });
    expect(await a.authenticate({ authorization: 'Bearer down' })).toMatchObject({ ok: false, why: expect.stringContaining('TokenReview failed') });
    await a.authenticate({ authorization: 'Bearer down' });
    expect(reviews.filter((r) => (r as { spec: { token: string } }).spec.token === 'down')).toHaveLength(2);
  });

  it('lets anonymous requests in only when enabled, and refuses tokens without the webhook', async () => {
    expect(await new Authenticator({ anonymous: true }).authenticate({})).toEqual({
      ok: true,
      method: 'anonymous',
      user: { name: 'system:anonymous', groups: ['system:unauthenticated'] },
    });
    expect((await new Authenticator({ anonymous: false }).authenticate({})).ok).toBe(false);
    expect(await new Authenticator({ anonymous: true }).authenticate({ authorization: 'Bearer x' })).toMatchObject({
      ok: false,
      why: expect.stringContaining('authentication.webhook'),
    });
  });
});

describe('authorization', () => {
  const attrs = requestAttributes('GET', '/pods', 'n1')[0]!;
  const user = { name: 'bob', groups: ['g'] };

  it('asks the API server with a SubjectAccessReview and keeps allowed and denied answers for their TTLs', async () => {
    const asked: object[] = [];
    let allow = false;
    let now = 0;
    const api: ReviewApi = async <T>(_p: string, body: object): Promise<T> => {
      asked.push(body);
      return { status: { allowed: allow, reason: 'no RBAC' } } as T;
    };
    const z = new Authorizer({ mode: 'Webhook', webhook: { api, allowedTtlMs: 10_000, deniedTtlMs: 1000 }, now: () => now });
    expect(await z.authorize(user, attrs)).toEqual({ allowed: false, reason: 'no RBAC' });
    expect(asked[0]).toEqual({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: { user: 'bob', groups: ['g'], resourceAttributes: { verb: 'get', group: '', version: 'v1', resource: 'nodes', subresource: 'pods', name: 'n1' } },
    });
    allow = true;
    expect((await z.authorize(user, attrs)).allowed).toBe(false);
    now = 1001;
    expect((await z.authorize(user, attrs)).allowed).toBe(true);
    now = 5000;
    expect((await z.authorize(user, attrs)).allowed).toBe(true);
    expect(asked).toHaveLength(2);
  });

  it('allows everything under AlwaysAllow and nothing under Webhook without an API server', async () => {
    expect(await new Authorizer({ mode: 'AlwaysAllow' }).authorize(user, attrs)).toEqual({ allowed: true });
    expect(await new Authorizer({ mode: 'Webhook' }).authorize(user, attrs)).toMatchObject({ allowed: false });
  });

  it('reports a failed review as an error, not a denial', async () => {
    const z = new Authorizer({ mode: 'Webhook', webhook: { api: () => Promise.reject(new Error('503')), allowedTtlMs: 1, deniedTtlMs: 1 } });
    expect(await z.authorize(user, attrs)).toMatchObject({ allowed: false, error: expect.stringContaining('SubjectAccessReview failed') });
  });

  it('forgets the oldest entry when the cache is full', () => {
    const c = new TtlCache<number>({ max: 2, now: () => 0 });
    c.set('a', 1, 10);
    c.set('b', 2, 10);
    c.set('c', 3, 10);
    expect([c.get('a'), c.get('b'), c.get('c')]).toEqual([undefined, 2, 3]);
  });
});

describe('routes', () => {
  it("matches upstream's paths with their parameters", () => {
    expect(matchRoute('GET', '/containerLogs/ns/pod/c')).toEqual({
      kind: 'route',
      route: 'container-logs',
      params: { namespace: 'ns', pod: 'pod', container: 'c' },
    });
    expect(matchRoute('POST', '/exec/ns/pod/uid-1/c')).toEqual({
      kind: 'route',
      route: 'exec',
      params: { namespace: 'ns', pod: 'pod', uid: 'uid-1', container: 'c' },
    });
    expect(matchRoute('GET', '/portForward/ns/pod')).toMatchObject({ route: 'port-forward', params: { namespace: 'ns', pod: 'pod' } });
    expect(matchRoute('GET', '/runningpods/')).toMatchObject({ route: 'runningpods' });
    expect(matchRoute('GET', '/healthz/syncloop')).toMatchObject({ route: 'healthz', params: { check: 'syncloop' } });
    expect(matchRoute('GET', '/stats/summary')).toMatchObject({ route: 'stats-summary' });
    expect(matchRoute('GET', '/metrics/resource')).toMatchObject({ route: 'metrics-resource' });
    expect(matchRoute('GET', '/containerLogs/ns/pod%2Fx/c')).toMatchObject({ params: { pod: 'pod/x' } });
  });

  it('tells a wrong method from an unknown path', () => {
    expect(matchRoute('GET', '/run/ns/pod/c')).toEqual({ kind: 'method-not-allowed', allow: ['POST'] });
    expect(matchRoute('DELETE', '/pods')).toEqual({ kind: 'method-not-allowed', allow: ['GET'] });
    expect(matchRoute('HEAD', '/pods')).toMatchObject({ kind: 'route' });
    for (const p of ['/', '/nope', '/exec/ns/pod', '/containerLogs/ns//c', '/metrics/cadvisor', '/containerLogs/%zz/p/c'])
      expect(matchRoute('GET', p)).toEqual({ kind: 'not-found' });
  });

  it('buckets paths for kubelet_http_requests_* as upstream does', () => {
    expect(['/exec/a/b/c', '/metrics/resource', '/metrics', '/stats/summary', '/whatever', '/portForward/a/b'].map(metricBucket)).toEqual([
      'exec',
      'metrics/resource',
      'metrics',
      'stats',
      'other',
      'portForward',
    ]);
  });
});

describe('exec and attach options', () => {
  const q = (s: string) => new URLSearchParams(s);
  it("reads upstream's parameter names and folds stderr into a terminal", () => {
    expect(parseStreamOptions(q('command=sh&command=-c&command=ls&input=1&output=1&error=1'), 'exec')).toEqual({
      ok: true,
      options: { stdin: true, stdout: true, stderr: true, tty: false, command: ['sh', '-c', 'ls'] },
    });
    expect(parseStreamOptions(q('command=sh&output=1&error=1&tty=1'), 'exec')).toMatchObject({ options: { stderr: false, tty: true } });
    expect(parseStreamOptions(q('stdout=true'), 'attach')).toMatchObject({ ok: true, options: { stdout: true, command: [] } });
  });

  it('refuses a request for no stream at all, and an exec of nothing', () => {
    expect(parseStreamOptions(q('command=ls'), 'exec')).toEqual({ ok: false, message: 'you must specify at least 1 of stdin, stdout, stderr' });
    expect(parseStreamOptions(q('output=1'), 'exec')).toMatchObject({ ok: false, message: expect.stringContaining('command') });
  });
});

describe('container log options', () => {
  const now = Date.parse('2025-01-01T00:01:00Z');
  const parse = (s: string) => parseLogOptions(new URLSearchParams(s), now);
  it('decodes PodLogOptions from the query', () => {
    expect(parse('follow=true&previous=1&timestamps=true&tailLines=10&limitBytes=5&sinceSeconds=30')).toEqual({
      ok: true,
      options: { follow: true, previous: true, timestamps: true, tailLines: 10, limitBytes: 5, since: now - 30_000, stream: 'All' },
    });
    expect(parse('sinceTime=2025-01-01T00:00:00Z')).toMatchObject({ options: { since: Date.parse('2025-01-01T00:00:00Z'), follow: false } });
    expect(parse('tail=all')).toEqual({ ok: true, options: { follow: false, previous: false, timestamps: false, stream: 'All' } });
    expect(parse('tail=7&follow=false')).toMatchObject({ options: { tailLines: 7, follow: false } });
    expect(parse('stream=Stderr')).toMatchObject({ options: { stream: 'Stderr' } });
  });

  it('answers 400 for what does not decode and 422 for what does not validate, as upstream', () => {
    expect(parse('tailLines=x')).toMatchObject({ ok: false, status: 400 });
    expect(parse('sinceTime=yesterday')).toMatchObject({ ok: false, status: 400 });
    for (const bad of [
      'tailLines=-1',
      'limitBytes=0',
      'sinceSeconds=0',
      'sinceSeconds=5&sinceTime=2025-01-01T00:00:00Z',
      'stream=Both',
      'stream=Stdout&tailLines=3',
    ]) {
      expect(parse(bad)).toEqual({ ok: false, status: 422, message: '{"message": "Invalid request."}' });
    }
  });
});

describe('which container instance the logs come from', () => {
  const status = (cs: object): V1PodStatus => ({ containerStatuses: [{ name: 'app', image: 'i', imageID: '', ready: false, restartCount: 1, ...cs }] });
  const terminated = (id: string) => ({ terminated: { exitCode: 1, containerID: id } });
  it('reads the running instance, or the previous one when asked', () => {
    const s = status({ containerID: 'containerd://run', state: { running: {} }, lastState: terminated('containerd://old') });
    expect(logContainerId('p', s, 'app', false)).toEqual({ id: 'run' });
    expect(logContainerId('p', s, 'app', true)).toEqual({ id: 'old' });
  });

  it('falls back to the last terminated instance of a container waiting to restart', () => {
    expect(
      logContainerId('p', status({ state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: terminated('containerd://old') }), 'app', false),
    ).toEqual({ id: 'old' });
  });

  it("says why there is nothing to read, in upstream's words", () => {
    expect(logContainerId('p', status({ state: { running: {} }, containerID: 'containerd://x' }), 'app', true)).toEqual({
      error: 'previous terminated container "app" in pod "p" not found',
    });
    expect(logContainerId('p', status({ state: { waiting: { reason: 'ContainerCreating' } } }), 'app', false)).toEqual({
      error: 'container "app" in pod "p" is waiting to start: ContainerCreating',
    });
    expect(logContainerId('p', status({ state: { waiting: { reason: 'ImagePullBackOff' } } }), 'app', false)).toEqual({
      error: 'container "app" in pod "p" is waiting to start: trying and failing to pull image',
    });
    expect(logContainerId('p', undefined, 'app', false)).toEqual({ error: 'container "app" in pod "p" is not available' });
  });
});

describe('streaming plumbing', () => {
  it("forwards the upgrade headers, repeated ones repeated, without the client's credentials", () => {
    const raw = [
      'Host',
      'kubelet:10250',
      'Authorization',
      'Bearer x',
      'Upgrade',
      'SPDY/3.1',
      'X-Stream-Protocol-Version',
      'v4.channel.k8s.io',
      'X-Stream-Protocol-Version',
      'v3.channel.k8s.io',
      'Content-Length',
      '0',
      'Impersonate-User',
      'root',
    ];
    expect(forwardedHeaders(raw, '127.0.0.1:4000')).toEqual([
      'Host',
      '127.0.0.1:4000',
      'Content-Length',
      '0',
      'Upgrade',
      'SPDY/3.1',
      'X-Stream-Protocol-Version',
      'v4.channel.k8s.io',
      'X-Stream-Protocol-Version',
      'v3.channel.k8s.io',
    ]);
  });

  it("writes the runtime's 101 back as the client reads it", () => {
    expect(responseHead(101, 'Switching Protocols', ['Upgrade', 'SPDY/3.1', 'Connection', 'Upgrade'])).toBe(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: SPDY/3.1\r\nConnection: Upgrade\r\n\r\n',
    );
  });

  it("keeps the client's query (websocket port-forward's ?port=) when the runtime URL has none", () => {
    expect(backendUrl(new URL('http://127.0.0.1:1/portforward/tok'), new URL('http://k/portForward/ns/p?port=80')).href).toBe(
      'http://127.0.0.1:1/portforward/tok?port=80',
    );
    expect(backendUrl(new URL('http://127.0.0.1:1/exec/tok?x=1'), new URL('http://k/exec?port=80')).href).toBe('http://127.0.0.1:1/exec/tok?x=1');
  });

  it('finds the SPDY protocols tunneled in websocket subprotocols', () => {
    expect(tunneledProtocols(['SPDY/3.1+portforward.k8s.io', 'v4.channel.k8s.io', 'SPDY/3.1+other.example'])).toEqual(['portforward.k8s.io']);
  });

  it("ends a command with upstream's status on the error channel", () => {
    expect(exitStatusObject(0)).toEqual({ metadata: {}, status: 'Success' });
    expect(exitStatusObject(7)).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '7' }] } });
  });
});
