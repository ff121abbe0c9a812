// bench/probes: 110 pods, each with an HTTP readiness probe every second, under tskube's
// kubelet and under the upstream kubelet (built from the control plane's Go module), one
// after the other on a private containerd (so no other kubelet on the machine sees these
// pods, and neither kubelet ever shares its runtime with another).
//
// Both kubelets run standalone with the pods as static pods (host network, `sleep`), and
// every probe goes to one HTTP server in this process (127.0.0.1, path /p<i>), which notes
// when each request arrives. Measured per kubelet:
//  - CPU per probe: the kubelet's CPU time with the probed pods, less its CPU time with the
//    same number of pods without probes, over the probes answered in the window; and the
//    total (everything the kubelet did in the window, per probe);
//  - how late probes arrive after they were due: each probe's period ticks are taken from
//    its best-timed arrival in the window (a probe is due every second from there), and a
//    request's lateness is its arrival less its tick; p50 and p99 over every request. The
//    server answers at once, so the result reaches the kubelet a loopback round trip later;
//  - the kubelet's resident memory with the unprobed pods, when the window starts (the pods
//    replaced by their probed versions) and at its end.
//
// Both kubelets start as bench/lib/kubelets.ts starts them (the upstream one leaving the
// host's sysctls and firewall as they were). Each kubelet's cgroups live under a root of
// their own, removed afterwards.
import { statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { detectHostIPs } from '../src/kubelet/kubelet.js';
import { privateContainerd } from '../test/support/private-containerd.js';
import type { KubeletKind as Kind } from './lib/kubelets.js';
import { processUsage } from './lib/proc.js';
import { runningContainers, sleepImage, sleepPod, standaloneKubelet } from './lib/standalone.js';
import { percentile, printTable } from './lib/stats.js';
import { tskubeRoot } from './lib/root.js';

const podCount = Number(process.env['BENCH_PODS'] ?? 110);
const windowSeconds = Number(process.env['BENCH_SECONDS'] ?? 60);
const baselineSeconds = Number(process.env['BENCH_BASELINE_SECONDS'] ?? 30);
const root = tskubeRoot;
const upstreamKubelet = process.env['TSKUBE_UPSTREAM_KUBELET'] ?? '';
const pauseImage = 'registry.k8s.io/pause:3.10';
const namespace = 'bench-probes';
const periodMs = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nodeIP = detectHostIPs()[0] ?? '127.0.0.1';

interface Result {
  idleCpuMsPerS: number;
  probedCpuMsPerS: number;
  probesPerS: number;
  cpuMsPerProbe: number;
  totalCpuMsPerProbe: number;
  lateP50: number;
  lateP99: number;
  lateMax: number;
  rssMiB: number;
  /** With the same pods before they had probes. */
  unprobedRssMiB: number;
  /** At the start of the window, the probed pods running (RSS MiB less this is the window's growth, churn excluded). */
  windowStartRssMiB: number;
}

/** The probe target: answers 200 at once and notes each request's arrival (ms, monotonic) by path. */
function probeServer() {
  const arrivals = new Map<string, number[]>();
  let agents = new Set<string>();
  const server = createServer((req, res) => {
    const at = performance.now();
    const path = req.url ?? '';
    const list = arrivals.get(path) ?? [];
    if (list.length === 0) arrivals.set(path, list);
    list.push(at);
    agents.add(String(req.headers['user-agent']));
    res.end('ok');
  });
  return {
    server,
    arrivals,
    agents: () => agents,
    reset() {
      arrivals.clear();
      agents = new Set();
    },
    async listen(): Promise<number> {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return (server.address() as AddressInfo).port;
    },
  };
}

/** Lateness of every request after its tick; a probe's ticks run every period from its best-timed request. */
function lateness(arrivals: ReadonlyMap<string, number[]>): number[] {
  const out: number[] = [];
  for (const list of arrivals.values()) {
    if (list.length < 2) continue;
    const first = list[0] as number;
    const offsets = list.map((a) => {
      const k = Math.round((a - first) / periodMs);
      return a - k * periodMs;
    });
    const zero = Math.min(...offsets);
    for (const o of offsets) out.push(o - zero);
  }
  return out;
}

function staticPod(i: number, probePort: number | undefined): object {
  const probe = probePort ? { readinessProbe: { httpGet: { host: '127.0.0.1', port: probePort, path: `/p${i}` }, periodSeconds: 1 } } : {};
  return sleepPod(namespace, i, probe);
}

async function benchOne(kind: Kind, endpoint: string, target: ReturnType<typeof probeServer>, probePort: number): Promise<Result> {
  const k = await standaloneKubelet({ kind, bench: 'probes', endpoint, namespace, root, upstreamKubelet, nodeIP });
  const cri = k.cri;
  const writeAll = (probes: boolean) => {
    for (let i = 0; i < podCount; i++) writeFileSync(join(k.manifests, `p${i}.yaml`), stringify(staticPod(i, probes ? probePort : undefined)));
  };
  writeAll(false);
  const pid = k.start();
  const until = (what: string, check: () => Promise<boolean>) => k.until(what, check);
  const measure = async (): Promise<Result> => {
    await until(`${kind}: ${podCount} pods without probes running`, async () => (await runningContainers(cri, namespace)) === podCount);
    await sleep(10_000);
    const idle0 = processUsage(pid).cpuSeconds;
    await sleep(baselineSeconds * 1000);
    const idleCpuMsPerS = ((processUsage(pid).cpuSeconds - idle0) * 1000) / baselineSeconds;
    const unprobedRssMiB = processUsage(pid).rssMiB;

    // The same pods with an HTTP readiness probe each: new manifests, new static pods (seen within fileCheckFrequency, 20 s).
    target.reset();
    writeAll(true);
    await until(`${kind}: every pod probed`, async () => {
      const now = performance.now();
      const recent = [...target.arrivals.values()].filter((l) => (l.at(-1) ?? 0) > now - 2000).length;
      return recent === podCount && (await runningContainers(cri, namespace)) === podCount;
    });
    await sleep(10_000);
    target.reset();
    const windowStartRssMiB = processUsage(pid).rssMiB;
    const cpu0 = processUsage(pid).cpuSeconds;
    await sleep(windowSeconds * 1000);
    const cpuSeconds = processUsage(pid).cpuSeconds - cpu0;
    const probes = [...target.arrivals.values()].reduce((n, l) => n + l.length, 0);
    const late = lateness(target.arrivals);
    const probedCpuMsPerS = (cpuSeconds * 1000) / windowSeconds;
    const probesPerS = probes / windowSeconds;
    process.stderr.write(`[${kind}] user agents: ${[...target.agents()].join(', ')}\n`);
    return {
      idleCpuMsPerS,
      probedCpuMsPerS,
      probesPerS,
      cpuMsPerProbe: (probedCpuMsPerS - idleCpuMsPerS) / probesPerS,
      totalCpuMsPerProbe: probedCpuMsPerS / probesPerS,
      lateP50: percentile(late, 50),
      lateP99: percentile(late, 99),
      lateMax: Math.max(...late),
      rssMiB: processUsage(pid).rssMiB,
      unprobedRssMiB,
      windowStartRssMiB,
    };
  };
  try {
    return await measure();
  } catch (err) {
    throw new Error(`${String(err)}; the kubelet's last words: ${k.lastWords()}`);
  } finally {
    await k.stop();
  }
}

const ctd = privateContainerd({ cri: true, pods: true });
const target = probeServer();
const results = new Map<Kind, Result | string>();
try {
  await ctd.start();
  ctd.importImages([pauseImage, sleepImage]);
  const port = await target.listen();
  const only = process.env['BENCH_ONLY'];
  if (only !== 'upstream') results.set('tskube', await benchOne('tskube', ctd.endpoint, target, port));
  if (only === 'tskube') results.set('upstream', 'skipped (BENCH_ONLY=tskube)');
  else if (!upstreamKubelet || !statSync(upstreamKubelet, { throwIfNoEntry: false })) results.set('upstream', 'not built (test/testbed/build.sh peers)');
  else results.set('upstream', await benchOne('upstream', ctd.endpoint, target, port).catch((err: unknown) => `failed: ${String(err)}`));
} finally {
  target.server.close();
  await ctd.destroy();
}

const kinds: Kind[] = ['tskube', 'upstream'];
const cell = (kind: Kind, f: (r: Result) => number) => {
  const r = results.get(kind);
  return typeof r === 'object' ? f(r) : Number.NaN;
};
const fixed = (n: number, digits: number) => (Number.isNaN(n) ? '-' : n.toFixed(digits));
console.log(`\n${podCount} static pods (host network), each with an HTTP readiness probe every second to 127.0.0.1; ${windowSeconds} s window`);
console.log(`(CPU per probe: kubelet CPU with the probed pods less with ${podCount} unprobed pods, per probe answered; total: all kubelet CPU per probe)`);
printTable(
  [
    'kubelet',
    'probes/s',
    'CPU ms/s idle',
    'CPU ms/s probed',
    'CPU ms/probe',
    'total CPU ms/probe',
    'late p50 ms',
    'late p99 ms',
    'late max ms',
    'RSS MiB unprobed',
    'RSS MiB window start',
    'RSS MiB end',
  ],
  kinds.map((k) => [
    k,
    cell(k, (r) => r.probesPerS),
    cell(k, (r) => r.idleCpuMsPerS),
    cell(k, (r) => r.probedCpuMsPerS),
    fixed(
      cell(k, (r) => r.cpuMsPerProbe),
      3,
    ),
    fixed(
      cell(k, (r) => r.totalCpuMsPerProbe),
      3,
    ),
    fixed(
      cell(k, (r) => r.lateP50),
      2,
    ),
    fixed(
      cell(k, (r) => r.lateP99),
      2,
    ),
    cell(k, (r) => r.lateMax),
    cell(k, (r) => r.unprobedRssMiB),
    cell(k, (r) => r.windowStartRssMiB),
    cell(k, (r) => r.rssMiB),
  ]),
);
for (const k of kinds) {
  const r = results.get(k);
  if (typeof r === 'string') console.log(`\n${k}: ${r}`);
}
