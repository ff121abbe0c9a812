// bench/kubelet-api: the kubelet's HTTPS API under load, tskube's and the upstream
// kubelet's (built from the control plane's Go module) side by side, one after the other
// on the real containerd (two kubelets on one containerd remove each other's pods).
// Each kubelet joins a real control plane by TLS bootstrap, gets its serving certificate
// through an approved kubelet-serving CSR, runs 30 pods plus one that logged 100 MB;
// then: requests per second and latency of /healthz, /pods and /stats/summary (the
// cluster admin's client certificate, keep-alive connections), and the throughput of
// `kubectl logs` on the 100 MB log through the API server, and of /containerLogs direct.
//
// The upstream kubelet runs as bench/lib/kubelets.ts starts it, leaving the host's
// sysctls and firewall as they were.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { detectHostIPs } from '../src/kubelet/kubelet.js';
import { eventually } from '../test/testbed/eventually.ts';
import { freePorts } from '../test/testbed/ports.ts';
import { down, type Testbed, up } from '../test/testbed/index.ts';
import { startKubelet, stopKubelet, upstreamSafeConfig } from './lib/kubelets.js';
import { processUsage } from './lib/proc.js';
import { percentile, printTable } from './lib/stats.js';
import { tskubeRoot } from './lib/root.js';

const podCount = Number(process.env['BENCH_PODS'] ?? 30);
const logBytes = Number(process.env['BENCH_LOG_MB'] ?? 100) * 1024 * 1024;
const seconds = Number(process.env['BENCH_SECONDS'] ?? 10);
const concurrency = Number(process.env['BENCH_CONCURRENCY'] ?? 4);
const root = tskubeRoot;
const upstreamKubelet = process.env['TSKUBE_UPSTREAM_KUBELET'] ?? '';
const endpoint = 'unix:///run/containerd/containerd.sock';
const image = 'localhost/tskube/busybox:latest';
const hostIP = detectHostIPs()[0] ?? '';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 180_000) => eventually(what, probe, timeoutMs, 250);

function run(file: string, args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('close', (code) => resolve({ code, stdout }));
  });
}

interface Measured {
  rps: number;
  p50: number;
  p99: number;
}

interface Result {
  endpoints: Map<string, Measured>;
  kubectlLogsMBps: number;
  directLogsMBps: number;
  rssMiB: number;
}

/** Requests `path` over `concurrency` keep-alive connections for `seconds`; latencies in ms. */
async function load(port: number, path: string, cert: { cert: Buffer; key: Buffer; ca: Buffer }): Promise<Measured> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: concurrency, ...cert });
  const once = () =>
    new Promise<number>((resolve, reject) => {
      const started = performance.now();
      const req = https.request({ host: hostIP, port, path, agent }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`${path}: HTTP ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end();
    });
  const warmEnd = Date.now() + 1000;
  while (Date.now() < warmEnd) await once();
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) latencies.push(await once());
    }),
  );
  agent.destroy();
  return { rps: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** Single requests 1.1 s apart: the cost of a summary built fresh, past tskube's one-second reuse. */
async function spaced(port: number, path: string, cert: { cert: Buffer; key: Buffer; ca: Buffer }, count = 8): Promise<Measured> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    await sleep(1100);
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      https.get({ host: hostIP, port, path, agent: false, ...cert }, (res) => res.resume().on('end', () => resolve())).on('error', reject);
    });
    latencies.push(performance.now() - started);
  }
  return { rps: Number.NaN, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** How many bytes a stream gives until it ends, and how fast (MB/s), counted from `t0`. */
async function drain(stream: NodeJS.ReadableStream, t0: number): Promise<{ bytes: number; mbps: number }> {
  let bytes = 0;
  stream.on('data', (d: Buffer) => (bytes += d.length));
  await new Promise((r) => stream.on('end', r));
  return { bytes, mbps: bytes / 1024 / 1024 / ((performance.now() - t0) / 1000) };
}

function kubectlLogs(tb: Testbed, namespace: string): Promise<{ bytes: number; mbps: number }> {
  const t0 = performance.now();
  const child = spawn(tb.kubectl, ['--kubeconfig', tb.adminKubeconfig, 'logs', '-n', namespace, 'logger'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return drain(child.stdout, t0);
}

function directLogs(port: number, namespace: string, cert: { cert: Buffer; key: Buffer; ca: Buffer }): Promise<{ bytes: number; mbps: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    https
      .get({ host: hostIP, port, path: `/containerLogs/${namespace}/logger/main`, agent: false, ...cert }, (res) => resolve(drain(res, t0)))
      .on('error', reject);
  });
}

/** The logger's CRI log file stopped growing past the size the log needs. */
async function logWritten(dir: string, namespace: string): Promise<true | undefined> {
  const podDir = readdirSync(join(dir, 'logs')).find((d) => d.startsWith(`${namespace}_logger_`));
  if (!podDir) return undefined;
  const file = join(dir, 'logs', podDir, 'main', '0.log');
  const before = statSync(file).size;
  await sleep(1500);
  return before > logBytes && statSync(file).size === before ? true : undefined;
}

function kubeletConfig(kind: 'tskube' | 'upstream', dir: string, port: number, tb: Testbed): object {
  const common = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    containerRuntimeEndpoint: endpoint,
    cgroupDriver: 'cgroupfs',
    address: hostIP,
    port,
    healthzPort: 0,
    readOnlyPort: 0,
    serverTLSBootstrap: true,
    authentication: { x509: { clientCAFile: tb.caFile }, webhook: { enabled: true }, anonymous: { enabled: false } },
    authorization: { mode: 'Webhook' },
    podLogsDir: join(dir, 'logs'),
    // One 100 MB file, as both kubelets would otherwise rotate at 10 Mi.
    containerLogMaxSize: '200Mi',
    maxPods: 110,
  };
  return kind === 'tskube' ? common : { ...common, ...upstreamSafeConfig() };
}

function pod(name: string, namespace: string, nodeName: string, command: string[]): V1Pod {
  return {
    metadata: { name, namespace },
    spec: {
      nodeName,
      terminationGracePeriodSeconds: 1,
      automountServiceAccountToken: false,
      containers: [{ name: 'main', image, imagePullPolicy: 'IfNotPresent', command }],
    },
  };
}

async function benchOne(kind: 'tskube' | 'upstream', tb: Testbed, core: CoreV1Api): Promise<Result> {
  const nodeName = `bench-api-${kind}-${process.pid}`;
  const namespace = nodeName;
  const dir = mkdtempSync(join(tmpdir(), `tskube-bench-api-${kind}-`));
  const [port = 0] = await freePorts(1);
  writeFileSync(join(dir, 'config.yaml'), stringify(kubeletConfig(kind, dir, port, tb)));
  const kubelet = startKubelet({ kind, dir, nodeName, bootstrapKubeconfig: tb.bootstrapKubeconfig, root, upstreamKubelet, nodeIP: hostIP });
  kubelet.stderr?.on('data', (d: Buffer) => {
    if (kind === 'tskube') process.stderr.write(`[${kind}] ${d}`);
  });
  const admin = { cert: readFileSync(join(tb.dir, 'pki', 'admin.crt')), key: readFileSync(join(tb.dir, 'pki', 'admin.key')), ca: readFileSync(tb.caFile) };
  const csrs: string[] = [];
  try {
    await until(`${kind}: node Ready`, async () =>
      (await core.readNode({ name: nodeName })).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? true : undefined,
    );
    const csr = await until(`${kind}: its serving CSR`, async () => {
      const list = JSON.parse((await run(tb.kubectl, ['--kubeconfig', tb.adminKubeconfig, 'get', 'csr', '-o', 'json'])).stdout) as {
        items: { metadata: { name: string }; spec: { signerName: string; username: string } }[];
      };
      for (const c of list.items) if (c.spec.username === `system:node:${nodeName}`) csrs.push(c.metadata.name);
      return list.items.find((c) => c.spec.signerName === 'kubernetes.io/kubelet-serving' && c.spec.username === `system:node:${nodeName}`)?.metadata.name;
    });
    await run(tb.kubectl, ['--kubeconfig', tb.adminKubeconfig, 'certificate', 'approve', csr]);
    await until(`${kind}: the kubelet API`, async () => ((await load(port, '/healthz', admin).catch(() => undefined)) ? true : undefined), 60_000);

    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await until("the namespace's default ServiceAccount", () => core.readNamespacedServiceAccount({ name: 'default', namespace }));
    const line = '0'.repeat(99);
    const logger = pod('logger', namespace, nodeName, ['sh', '-c', `yes ${line} | head -c ${logBytes}; exec sleep 3600`]);
    await Promise.all([
      core.createNamespacedPod({ namespace, body: logger }),
      ...Array.from({ length: podCount }, (_, i) => core.createNamespacedPod({ namespace, body: pod(`p${i}`, namespace, nodeName, ['sleep', '3600']) })),
    ]);
    await until(`${kind}: ${podCount + 1} pods Running`, async () => {
      const pods = (await core.listNamespacedPod({ namespace })).items;
      return pods.filter((p) => p.status?.phase === 'Running').length === podCount + 1 ? true : undefined;
    });
    await until(`${kind}: the ${logBytes} byte log`, () => logWritten(dir, namespace), 300_000);

    const endpoints = new Map<string, Measured>();
    for (const path of ['/healthz', '/pods', '/stats/summary']) endpoints.set(path, await load(port, path, admin));
    endpoints.set('/stats/summary, fresh', await spaced(port, '/stats/summary', admin));
    const kubectlRuns: number[] = [];
    const directRuns: number[] = [];
    for (let i = 0; i < 2; i++) {
      const k = await kubectlLogs(tb, namespace);
      if (k.bytes !== logBytes) throw new Error(`${kind}: kubectl logs gave ${k.bytes} bytes, want ${logBytes}`);
      kubectlRuns.push(k.mbps);
      const d = await directLogs(port, namespace, admin);
      if (d.bytes !== logBytes) throw new Error(`${kind}: /containerLogs gave ${d.bytes} bytes, want ${logBytes}`);
      directRuns.push(d.mbps);
    }
    const rssMiB = processUsage(kubelet.pid ?? 0).rssMiB;
    return { endpoints, kubectlLogsMBps: Math.max(...kubectlRuns), directLogsMBps: Math.max(...directRuns), rssMiB };
  } finally {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    await until('the pods to go', async () => ((await core.listNamespacedPod({ namespace })).items.length === 0 ? true : undefined), 120_000).catch(
      () => undefined,
    );
    await stopKubelet(kubelet, endpoint, namespace);
    await core.deleteNode({ name: nodeName }).catch(() => undefined);
    for (const name of csrs) await run(tb.kubectl, ['--kubeconfig', tb.adminKubeconfig, 'delete', 'csr', name, '--ignore-not-found']);
    rmSync(dir, { recursive: true, force: true });
    for (const name of readdirSync('/var/log/containers').filter((n) => n.includes(`_${namespace}_`)))
      rmSync(join('/var/log/containers', name), { force: true });
  }
}

if (!hostIP) throw new Error('bench/kubelet-api: this host has no global unicast address for the API server to reach a kubelet at');
const binDir = process.env['TSKUBE_TESTBED_BIN'];
const tb = await up({ log: (m) => process.stderr.write(`[testbed] ${m}\n`), ...(binDir ? { binDir } : {}) });
const kc = new KubeConfig();
kc.loadFromFile(tb.adminKubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const results = new Map<string, Result | string>();
try {
  results.set('tskube', await benchOne('tskube', tb, core));
  if (!upstreamKubelet || !statSync(upstreamKubelet, { throwIfNoEntry: false })) results.set('upstream', 'not built (test/testbed/build.sh peers)');
  else results.set('upstream', await benchOne('upstream', tb, core).catch((err: unknown) => `failed: ${err instanceof Error ? err.message : String(err)}`));
} finally {
  await down(tb.dir);
}

const kinds = ['tskube', 'upstream'];
const cell = (kind: string, f: (r: Result) => number) => {
  const r = results.get(kind);
  return typeof r === 'object' ? f(r) : NaN;
};
console.log(`\nKubelet API with ${podCount} pods: ${concurrency} keep-alive connections for ${seconds} s per path, the cluster admin's client certificate`);
console.log('("fresh": one request every 1.1 s, so tskube builds each summary anew rather than serving the last one, up to 1 s old)');
printTable(
  ['path', ...kinds.flatMap((k) => [`${k} req/s`, `${k} p50 ms`, `${k} p99 ms`])],
  ['/healthz', '/pods', '/stats/summary', '/stats/summary, fresh'].map((p) => [
    p,
    ...kinds.flatMap((k) => [
      cell(k, (r) => r.endpoints.get(p)?.rps ?? NaN),
      cell(k, (r) => r.endpoints.get(p)?.p50 ?? NaN),
      cell(k, (r) => r.endpoints.get(p)?.p99 ?? NaN),
    ]),
  ]),
);
console.log(`\nA ${logBytes / 1024 / 1024} MB container log (MB/s, best of 2) and the kubelet's RSS after reading it`);
printTable(
  ['kubelet', 'kubectl logs (API server)', '/containerLogs direct', 'RSS MiB'],
  kinds.map((k) => [k, cell(k, (r) => r.kubectlLogsMBps), cell(k, (r) => r.directLogsMBps), cell(k, (r) => r.rssMiB)]),
);
for (const k of kinds) {
  const r = results.get(k);
  if (typeof r === 'string') console.log(`\n${k}: ${r}`);
}
