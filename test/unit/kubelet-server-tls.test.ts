// The kubelet API's HTTPS server on loopback, with a self-signed serving certificate and
// a small KubeletHost: TLS settings as Node negotiates them, and the request path
// (401, 403, 404, 405, disabled debugging handlers) before any runtime is involved.
import { pingCheck } from '../../src/kubelet/healthz/healthz.js';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { CriClient } from '../../src/cri-client/index.js';
import { ServingCertificates } from '../../src/kubelet/bootstrap/serving-certificate.js';
import { defaultKubeletConfiguration } from '../../src/kubelet/options/index.js';
import type { KubeletConfiguration } from '../../src/kubelet/options/types.js';
import { KubeletMetrics } from '../../src/kubelet/metrics/kubelet-metrics.js';
import { Authenticator } from '../../src/kubelet/server/auth/authenticator.js';
import { Authorizer } from '../../src/kubelet/server/auth/authorizer.js';
import { Dispatcher } from '../../src/kubelet/server/dispatch.js';
import type { KubeletHost } from '../../src/kubelet/server/kubelet-host.js';
import { runSecureServer } from '../../src/kubelet/server/secure-server.js';
import { SummaryCollector } from '../../src/kubelet/server/stats/collect-summary.js';
import { acceptWebsocket } from '../../src/kubelet/server/streaming/websocket-translator.js';

const log = pino({ level: 'silent' });
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

/** A kubelet API on 127.0.0.1 with anonymous access and the given authorization. */
async function serve(over: Partial<KubeletConfiguration>, allow: (path: string) => boolean): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'tskube-unit-api-'));
  const config: KubeletConfiguration = { ...defaultKubeletConfiguration(), address: '127.0.0.1', port: 0, healthzPort: 0, ...over };
  const host: KubeletHost = {
    nodeName: 'n1',
    pods: () => [{ metadata: { name: 'p', namespace: 'default', uid: 'u' } }],
    podStatus: () => undefined,
    runtimePods: async () => new Map(),
    cri: {} as CriClient,
    config,
    rootDir: dir,
    metrics: new KubeletMetrics('n1'),
    healthChecks: [pingCheck],
  };
  const certificates = new ServingCertificates({
    certDir: dir,
    nodeName: 'n1',
    tlsCertFile: '',
    tlsPrivateKeyFile: '',
    serverTLSBootstrap: false,
    altNames: () => ({ dnsNames: [], ips: [] }),
    log,
  });
  await certificates.load();
  const review = async <T>(_p: string, body: object): Promise<T> => {
    const path = (body as { spec: { resourceAttributes: { subresource: string } } }).spec.resourceAttributes.subresource;
    return { status: { allowed: allow(path) } } as T;
  };
  const dispatcher = new Dispatcher({
    host,
    log,
    summaries: new SummaryCollector({ host, sampler: { sample: () => Promise.reject(new Error('unused')) }, log }),
    auth: {
      authenticator: new Authenticator({ anonymous: true }),
      authorizer: new Authorizer({ mode: 'Webhook', webhook: { api: review, allowedTtlMs: 0, deniedTtlMs: 0 } }),
    },
  });
  const stop = new AbortController();
  let listening!: (a: AddressInfo) => void;
  const address = new Promise<AddressInfo>((r) => (listening = r));
  const running = runSecureServer({ config, certificates, dispatcher, log, onListening: listening }, stop.signal);
  stops.push(async () => {
    stop.abort();
    await running;
    await rm(dir, { recursive: true, force: true });
  });
  return (await address).port;
}

function get(port: number, path: string, method = 'GET', options: https.RequestOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path, method, rejectUnauthorized: false, agent: false, ...options }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function handshake(port: number, options: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options }, () => {
      resolve(`${s.getProtocol()} ${s.getCipher().name}`);
      s.destroy();
    });
    s.on('error', (err: NodeJS.ErrnoException) => resolve(`refused: ${err.code ?? err.message}`));
  });
}

describe('the kubelet API server', () => {
  it('answers 403 naming the permission, 404 for unknown paths, 405 for wrong methods, and serves what is allowed', async () => {
    const port = await serve({}, (sub) => sub !== 'stats');
    expect(await get(port, '/stats/summary')).toEqual({
      status: 403,
      body: 'Forbidden (user=system:anonymous, verb=get, resource=nodes, subresource(s)=[stats])\n',
    });
    expect(await get(port, '/nothing-here')).toEqual({ status: 404, body: '404 page not found\n' });
    expect((await get(port, '/pods', 'DELETE')).status).toBe(405);
    expect(await get(port, '/healthz')).toEqual({ status: 200, body: 'ok' });
    expect(JSON.parse((await get(port, '/pods')).body).items).toHaveLength(1);
    // Checked before routing: nobody learns what exists without the permission.
    const none = await serve({}, () => false);
    expect((await get(none, '/nothing-here')).status).toBe(403);
  });

  it('turns the debugging handlers off with enableDebuggingHandlers: false', async () => {
    const port = await serve({ enableDebuggingHandlers: false }, () => true);
    expect(await get(port, '/containerLogs/default/p/c')).toEqual({ status: 405, body: 'Debug endpoints are disabled.\n' });
    expect((await get(port, '/configz')).status).toBe(405);
    expect((await get(port, '/pods')).status).toBe(200);
  });

  it('refuses TLS below tlsMinVersion and ciphers outside tlsCipherSuites', async () => {
    const tls13 = await serve({ tlsMinVersion: 'VersionTLS13' }, () => true);
    expect(await handshake(tls13, { maxVersion: 'TLSv1.2' })).toMatch(/^refused: /);
    expect(await handshake(tls13, {})).toMatch(/^TLSv1\.3 /);
    const suites = await serve({ tlsCipherSuites: ['TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'] }, () => true);
    expect(await handshake(suites, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' })).toMatch(/^refused: /);
    expect(await handshake(suites, { maxVersion: 'TLSv1.2' })).toBe('TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384');
  });
});

describe('accepting websockets', () => {
  it('gives up on a handshake ws refuses, instead of waiting forever', async () => {
    let outcome: Promise<unknown> | undefined;
    const server = http.createServer();
    server.on('upgrade', (req, socket, head) => {
      outcome = acceptWebsocket(req, socket, head, 'v5.channel.k8s.io').then(
        () => 'accepted',
        (err: Error) => err.message,
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const reply = await new Promise<string>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => c.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'));
      let text = '';
      c.on('data', (d: Buffer) => (text += d.toString()));
      c.on('close', () => resolve(text));
    });
    server.close();
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(await outcome).toBe('invalid-argument: the websocket handshake failed');
  });
});
