// bench/pod-startup: pods created at once on a node run by tskube's kubelet and, side by side
// in the same run, by the upstream kubelet built from the control plane's Go module; one after
// the other on the real containerd (two kubelets on one containerd remove each other's pods),
// each joined to a real control plane by TLS bootstrap, each with a cgroup root of its own.
// Both run with their defaults on: QoS cgroups (cgroupsPerQOS, a pod cgroup per pod) and node
// admission (the pods ask for cpu and memory, so admission counts them), maxPods 110.
// Rows of 30 pods and of 110 pods (the default maxPods, the node full): time from creation to
// Running as a watch sees it; the kubelet's RSS and CPU idle, while starting, and steady.
// Pods are bound with spec.nodeName, so the figure is the kubelet's, not the scheduler's.
// A floor row beside them: the same pods started straight through CRI with no kubelet and
// no API objects (lib/cri-floor), with no control plane and then beside the idle one; and
// for every row where the machine's CPU went (lib/cpu-split), and for the kubelets the API
// requests (the API server's apiserver_request_total) and CRI calls (each kubelet's own
// kubelet_runtime_operations_total, from its read-only port on loopback) per pod.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, type V1Pod, Watch } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { removeCgroupTree } from '../test/support/cgroups.js';
import { privateContainerd } from '../test/support/private-containerd.js';
import { eventually } from '../test/testbed/eventually.ts';
import { down, readState, type Testbed, up } from '../test/testbed/index.ts';
import { type Classify, cpuSnapshot, cpuSplit, idleGroup, irqGroup, machineGroup, otherGroup, stealGroup, unseenGroup, windowGroup } from './lib/cpu-split.js';
import { removeFloorPods, startFloorPods } from './lib/cri-floor.js';
import { freePort } from './lib/free-port.js';
import { counterDelta, counters } from './lib/prom-counters.js';
import { type KubeletKind, startKubelet, stopKubelet, upstreamSafeConfig } from './lib/kubelets.js';
import { type PodStartCalls, podStartCalls, readContainerdLog } from './lib/containerd-log.js';
import { processUsage } from './lib/proc.js';
import { percentile, printTable } from './lib/stats.js';
import { tskubeRoot } from './lib/root.js';

const counts = (process.env['BENCH_PODS'] ?? '30,110').split(',').map(Number);
/** BENCH_FLOOR=0 leaves out the floor rows (the pods started straight through CRI). */
const floorOn = process.env['BENCH_FLOOR'] !== '0';
/** Which kubelets to run (both unless told; one alone only to check a setup, never to compare). */
const only = process.env['BENCH_KUBELETS']?.split(',');
const root = tskubeRoot;
const upstreamKubelet = process.env['TSKUBE_UPSTREAM_KUBELET'] ?? '';
/** With the tskube kubelet's log on (BENCH_TSKUBE_LOG_LEVEL), each pod's creation and Running go on stderr too, for a timeline. */
const trace = process.env['BENCH_TSKUBE_LOG_LEVEL'] !== undefined;
const image = 'localhost/tskube/busybox:latest';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * BENCH_CONTAINERD=private: a containerd of the bench's own (no kubelet lock needed), to look at
 * one change quickly while the shared one is busy; the figures to compare come from the shared one.
 */
const ctd = process.env['BENCH_CONTAINERD'] === 'private' ? privateContainerd({ cri: true, pods: true }) : undefined;
const containerdEndpoint = ctd?.endpoint ?? 'unix:///run/containerd/containerd.sock';
const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 300_000) => eventually(what, probe, timeoutMs, 250);

interface Usage {
  rssMiB: number;
  /** CPU seconds per 10 s of wall time. */
  cpu: number;
}

interface Row {
  pods: number;
  latencies: number[];
  /** The pods' CRI calls as containerd logged them (the shared containerd only). */
  calls: PodStartCalls[];
  /** containerd's own CPU seconds (not its shims') while the pods started. */
  containerdCpuSeconds: number;
  /** From the first creation call to the last pod Running. */
  allRunningMs: number;
  startupCpuSeconds: number;
  steady: Usage;
  /** CPU seconds per process group over the burst (creation to all Running). */
  cpu: Map<string, number>;
  /** API requests over the burst (all clients), by "VERB resource[/subresource]". */
  api: Map<string, number>;
  /** The kubelet's CRI calls over the burst, by operation type. */
  criOps: Map<string, number>;
}

/** The runtime alone: the same pods straight through CRI. */
interface FloorRow {
  pods: number;
  latencies: number[];
  allStartedMs: number;
  cpu: Map<string, number>;
}

interface Result {
  idle: Usage;
  rows: Row[];
}

/** An address in the testbed's service CIDR (10.96.0.0/12), as kubeadm's kube-dns Service has; nothing answers there. */
const clusterDNS = '10.96.0.10';
const clusterDomain = 'cluster.local';
const containerdLog = process.env['CONTAINERD_LOG'] ?? '/var/log/tskube-containerd.log';

/** The containerd daemon the kubelets talk to: the private one, else the one started with the host's config. */
function containerdPid(): number | undefined {
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!args[0]?.endsWith('containerd')) continue;
    if (ctd ? args.some((a) => a.startsWith(ctd.dir)) : !args.some((a) => a.startsWith('/tmp/'))) return Number(e);
  }
  return undefined;
}

/** The runtime's socket as its shims name it (their -address argument). */
const containerdSocket = containerdEndpoint.replace(/^unix:\/\//, '');

const group = {
  kubelet: 'kubelet',
  bench: 'bench (API client, watch)',
  containerd: 'containerd',
  containerdChildren: "containerd's children (CNI plugins, shim start)",
  shim: 'containerd-shim',
  runc: "runc (the shims' children)",
  pods: "pods' processes (runc init, pause, sleep)",
};
const controlPlaneGroups = ['kube-apiserver', 'etcd', 'kube-controller-manager', 'kube-scheduler'];
const groupOrder = [
  ...controlPlaneGroups,
  group.kubelet,
  group.containerd,
  group.containerdChildren,
  group.shim,
  group.runc,
  group.pods,
  group.bench,
  otherGroup,
  unseenGroup,
  irqGroup,
  stealGroup,
  machineGroup,
  idleGroup,
  windowGroup,
];

/**
 * Process groups for the CPU split: the control plane's processes (by pid), the kubelet and
 * what it runs, this bench, the runtime's daemon, its shims (by their -address: other
 * containerds' shims are not ours) and what runs under them.
 */
function classifier(kubeletPid: number | undefined, controlPlane: ReadonlyMap<number, string>): Classify {
  const ctdPid = containerdPid();
  const isShim = (p: { comm: string; args: string[] }) => p.comm.startsWith('containerd-shim') && p.args.includes(containerdSocket);
  const both = (g: string) => ({ own: g, children: g });
  return (p, parent) => {
    const named = controlPlane.get(p.pid);
    if (named) return both(named);
    if (p.pid === kubeletPid) return both(group.kubelet);
    if (p.pid === process.pid) return both(group.bench);
    if (p.pid === ctdPid) return { own: group.containerd, children: group.containerdChildren };
    if (isShim(p)) return { own: group.shim, children: group.runc };
    for (let q = parent(p.ppid), depth = 0; q && depth < 8; q = parent(q.ppid), depth++) {
      if (q.pid === kubeletPid) return both(group.kubelet);
      if (q.pid === ctdPid) return both(group.containerdChildren);
      if (isShim(q)) return both(p.comm === 'runc' ? group.runc : group.pods);
    }
    return undefined;
  };
}

async function controlPlanePids(tb: Testbed | undefined): Promise<Map<number, string>> {
  return new Map(tb ? (await readState(tb.dir)).processes.map((p) => [p.pid, p.name]) : []);
}

/** API requests so far, all clients, by "VERB resource[/subresource]". */
function apiRequests(tb: Testbed): Map<string, number> {
  const text = execFileSync(tb.kubectl, ['--kubeconfig', tb.adminKubeconfig, 'get', '--raw', '/metrics'], { encoding: 'utf8', maxBuffer: 256 << 20 });
  return counters(text, 'apiserver_request_total', (l) => `${l['verb']} ${l['resource']}${l['subresource'] ? `/${l['subresource']}` : ''}`);
}

/** The kubelet's CRI calls so far by operation type, from its read-only port (empty when it cannot be read). */
async function criOperations(port: number): Promise<Map<string, number>> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    return counters(await res.text(), 'kubelet_runtime_operations_total', (l) => l['operation_type'] ?? '');
  } catch (err) {
    process.stderr.write(`[bench] reading the kubelet's metrics failed: ${String(err)}\n`);
    return new Map();
  }
}

/** RSS at the end and CPU over a 10 s window. */
async function usageOver10s(pid: number): Promise<Usage> {
  const before = processUsage(pid);
  await sleep(10_000);
  const after = processUsage(pid);
  return { rssMiB: after.rssMiB, cpu: after.cpuSeconds - before.cpuSeconds };
}

/** Every cgroup hierarchy: the unified one, or each v1 mount (controllers, name=systemd, the hybrid unified). */
function hierarchies(): string[] {
  const base = '/sys/fs/cgroup';
  if (existsSync(`${base}/cgroup.controllers`)) return [base];
  return readdirSync(base, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => join(base, e.name));
}

function removeEmptyTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeEmptyTree(join(dir, e.name));
  rmdirSync(dir);
}

/** Both kubelets' defaults (QoS cgroups and admission on) with a cgroup root of their own; neither collects the shared images. */
function kubeletConfig(kind: KubeletKind, dir: string, cgroupRoot: string, readOnlyPort: number): Record<string, unknown> {
  const common = {
    // Both kubelets' servers on loopback only; the read-only one gives the bench their metrics.
    address: '127.0.0.1',
    readOnlyPort,
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    containerRuntimeEndpoint: containerdEndpoint,
    cgroupDriver: 'cgroupfs',
    cgroupRoot,
    healthzPort: 0,
    podLogsDir: join(dir, 'logs'),
    maxPods: 110,
    // As a cluster's kubelets have them (kubeadm's defaults): without clusterDNS every sync of
    // a ClusterFirst pod warns MissingClusterDNS, and upstream re-sends it (event PATCHes) on
    // each sync, which a configured node never pays. The pods send no DNS queries.
    clusterDNS: [clusterDNS],
    clusterDomain,
  };
  const safe = upstreamSafeConfig();
  if (kind === 'upstream') return { ...common, ...safe };
  const { imageGCHighThresholdPercent, imageGCLowThresholdPercent, evictionHard, failSwapOn } = safe;
  return { ...common, imageGCHighThresholdPercent, imageGCLowThresholdPercent, evictionHard, failSwapOn };
}

function pod(name: string, namespace: string, nodeName: string): V1Pod {
  return {
    metadata: { name, namespace },
    spec: {
      nodeName,
      terminationGracePeriodSeconds: 1,
      automountServiceAccountToken: false,
      containers: [
        {
          name: 'sleep',
          image,
          imagePullPolicy: 'IfNotPresent',
          command: ['sleep', '3600'],
          // Burstable: each pod gets its cgroup under kubepods/burstable, and admission adds up requests.
          resources: { requests: { cpu: '1m', memory: '4Mi' } },
        },
      ],
    },
  };
}

/** Creates `count` pods at once and times each from its creation call to Running as a watch sees it. */
async function startPods(
  kc: KubeConfig,
  core: CoreV1Api,
  namespace: string,
  nodeName: string,
  count: number,
): Promise<{ latencies: number[]; allRunningMs: number }> {
  const created = new Map<string, number>();
  const running = new Map<string, number>();
  let stopped = false;
  let req: { abort(): void } | undefined;
  let watches = 0;
  // A watch the API server ends (or drops, on a loaded machine) is started again at once: without
  // it the bench waited out its 10-minute limit. A new watch lists what is there first, so a pod
  // that turned Running meanwhile is seen then (later than it happened: the rare bias is upwards).
  const watch = async (): Promise<void> => {
    watches++;
    req = await new Watch(kc).watch(
      `/api/v1/namespaces/${namespace}/pods`,
      {},
      (_type, obj: V1Pod) => {
        const name = obj.metadata?.name ?? '';
        if (obj.status?.phase === 'Running' && !running.has(name)) {
          running.set(name, performance.now());
          if (trace) process.stderr.write(`${JSON.stringify({ time: Date.now(), pod: `${namespace}/${name}`, msg: 'bench: Running seen' })}\n`);
        }
      },
      () => {
        if (!stopped) watch().catch((err: unknown) => process.stderr.write(`[bench] restarting the pod watch failed: ${String(err)}\n`));
      },
    );
  };
  await watch();
  try {
    await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const p = pod(`p${count}-${i}`, namespace, nodeName);
        created.set(p.metadata?.name ?? '', performance.now());
        if (trace) process.stderr.write(`${JSON.stringify({ time: Date.now(), pod: `${namespace}/${p.metadata?.name}`, msg: 'bench: creating' })}\n`);
        await core.createNamespacedPod({ namespace, body: p });
      }),
    );
    await until(`${count} pods Running`, async () => (running.size >= count ? true : undefined), 600_000);
  } finally {
    stopped = true;
    req?.abort();
  }
  if (watches > 1) process.stderr.write(`[bench] the pod watch was started ${watches} times\n`);
  const latencies = [...created].map(([name, t]) => (running.get(name) ?? Number.NaN) - t);
  return { latencies, allRunningMs: Math.max(...running.values()) - Math.min(...created.values()) };
}

async function deletePods(core: CoreV1Api, namespace: string): Promise<void> {
  await core.deleteCollectionNamespacedPod({ namespace });
  await until('the pods to go', async () => ((await core.listNamespacedPod({ namespace })).items.length === 0 ? true : undefined), 600_000);
}

async function benchOne(kind: KubeletKind, tb: Testbed, kc: KubeConfig, core: CoreV1Api): Promise<Result> {
  const nodeName = `bench-${kind}-${process.pid}`;
  const namespace = nodeName;
  const cgroupRoot = `tskube-bench-${kind}-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), `tskube-bench-startup-${kind}-`));
  const readOnlyPort = await freePort();
  writeFileSync(join(dir, 'config.yaml'), stringify(kubeletConfig(kind, dir, `/${cgroupRoot}`, readOnlyPort)));
  // The upstream kubelet refuses a cgroupRoot missing from any hierarchy (named ones too): make it for both.
  for (const h of hierarchies()) mkdirSync(join(h, cgroupRoot), { recursive: true });
  const kubelet = startKubelet({ kind, dir, nodeName, bootstrapKubeconfig: tb.bootstrapKubeconfig, root, upstreamKubelet });
  // The last lines it wrote, to say why when it ends early.
  const tail: string[] = [];
  kubelet.stderr?.on('data', (d: Buffer) => {
    if (kind === 'tskube') process.stderr.write(`[${kind}] ${d}`);
    tail.push(...d.toString().trim().split('\n'));
    tail.splice(0, Math.max(0, tail.length - 5));
  });
  const exited = new Promise<never>((_, reject) =>
    kubelet.once('exit', (code) => reject(new Error(`the ${kind} kubelet exited (${code}): ${tail.join(' | ')}`))),
  );
  exited.catch(() => undefined);
  const pid = kubelet.pid ?? 0;
  try {
    await Promise.race([
      exited,
      until(`${kind}: node Ready`, async () =>
        (await core.readNode({ name: nodeName })).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? true : undefined,
      ),
    ]);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await sleep(5000);
    const idle = await usageOver10s(pid);
    const rows: Row[] = [];
    const classify = classifier(pid, await controlPlanePids(tb));
    for (const count of counts) {
      const apiBefore = apiRequests(tb);
      const opsBefore = await criOperations(readOnlyPort);
      const cpuBefore = processUsage(pid).cpuSeconds;
      const ctdPid = containerdPid();
      const ctdBefore = ctdPid ? processUsage(ctdPid).cpuSeconds : Number.NaN;
      const snapBefore = cpuSnapshot();
      const since = new Date();
      const { latencies, allRunningMs } = await startPods(kc, core, namespace, nodeName, count);
      const cpu = cpuSplit(snapBefore, cpuSnapshot(), classify);
      const startupCpuSeconds = processUsage(pid).cpuSeconds - cpuBefore;
      const containerdCpuSeconds = ctdPid ? processUsage(ctdPid).cpuSeconds - ctdBefore : Number.NaN;
      const api = counterDelta(apiBefore, apiRequests(tb));
      const criOps = counterDelta(opsBefore, await criOperations(readOnlyPort));
      const calls = !ctd && existsSync(containerdLog) ? podStartCalls(readContainerdLog(containerdLog), namespace, since) : [];
      await sleep(10_000);
      const steady = await usageOver10s(pid);
      rows.push({ pods: count, latencies, calls, containerdCpuSeconds, allRunningMs, startupCpuSeconds, steady, cpu, api, criOps });
      process.stderr.write(`[bench] ${kind}: ${count} pods p50 ${percentile(latencies, 50).toFixed(0)} ms p99 ${percentile(latencies, 99).toFixed(0)} ms\n`);
      await deletePods(core, namespace);
    }
    return { idle, rows };
  } finally {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    await until('the namespace pods to go', async () => ((await core.listNamespacedPod({ namespace })).items.length === 0 ? true : undefined), 300_000).catch(
      () => undefined,
    );
    await stopKubelet(kubelet, containerdEndpoint, namespace);
    // The kubelets link container logs in the host's /var/log/containers; their pod log dirs are gone now.
    for (const name of readdirSync('/var/log/containers').filter((n) => n.includes(`_${namespace}_`)))
      rmSync(join('/var/log/containers', name), { force: true });
    await core.deleteNode({ name: nodeName }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    await removeCgroupTree(`/${cgroupRoot}`);
    // runc also makes the containers' cgroups in the named and hybrid hierarchies; empty by now.
    for (const h of hierarchies()) removeEmptyTree(join(h, cgroupRoot));
  }
}

/** The bench's pods started straight through CRI, `count` at a time for each count, then removed (even on failure). */
async function benchFloor(label: string, tb: Testbed | undefined): Promise<FloorRow[]> {
  const namespace = `bench-floor-${process.pid}`;
  const cgroupRoot = `tskube-bench-floor-${process.pid}`;
  const classify = classifier(undefined, await controlPlanePids(tb));
  const rows: FloorRow[] = [];
  for (const count of counts) {
    const dir = mkdtempSync(join(tmpdir(), 'tskube-bench-floor-'));
    try {
      const pods = Array.from({ length: count }, (_, i) => pod(`p${count}-${i}`, namespace, 'floor'));
      const snapBefore = cpuSnapshot();
      const { latencies, allStartedMs } = await startFloorPods({
        endpoint: containerdEndpoint,
        pods,
        dir,
        cgroupRoot: `/${cgroupRoot}`,
        clusterDNS: [clusterDNS],
        clusterDomain,
      });
      const cpu = cpuSplit(snapBefore, cpuSnapshot(), classify);
      rows.push({ pods: count, latencies, allStartedMs, cpu });
      process.stderr.write(`[bench] ${label}: ${count} pods p50 ${percentile(latencies, 50).toFixed(0)} ms p99 ${percentile(latencies, 99).toFixed(0)} ms\n`);
    } finally {
      const leftovers = await removeFloorPods(containerdEndpoint, namespace, dir);
      for (const l of leftovers) process.stderr.write(`[bench] ${label}: the runtime left ${l}; removed\n`);
      await removeCgroupTree(`/${cgroupRoot}`);
      for (const h of hierarchies()) removeEmptyTree(join(h, cgroupRoot));
    }
    await sleep(5000);
  }
  return rows;
}

const binDir = process.env['TSKUBE_TESTBED_BIN'];
if (ctd) {
  await ctd.start();
  ctd.importImages(['registry.k8s.io/pause:3.10', image]);
}
const floors = new Map<string, FloorRow[]>();
const floorNames = ['CRI only', 'CRI, idle CP'] as const;
const floorFailed = (label: string) => (err: unknown) => {
  process.stderr.write(`[bench] ${label} failed: ${err instanceof Error ? err.message : String(err)}\n`);
  return [];
};
if (floorOn) floors.set(floorNames[0], await benchFloor(floorNames[0], undefined).catch(floorFailed(floorNames[0])));
const tb = await up({ log: (m) => process.stderr.write(`[testbed] ${m}\n`), ...(binDir ? { binDir } : {}) });
const kc = new KubeConfig();
kc.loadFromFile(tb.adminKubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const results = new Map<KubeletKind, Result | string>();
try {
  if (floorOn) floors.set(floorNames[1], await benchFloor(floorNames[1], tb).catch(floorFailed(floorNames[1])));
  if (!only || only.includes('tskube')) results.set('tskube', await benchOne('tskube', tb, kc, core));
  if (only && !only.includes('upstream')) results.set('upstream', 'not run (BENCH_KUBELETS)');
  else if (!upstreamKubelet || !statSync(upstreamKubelet, { throwIfNoEntry: false })) results.set('upstream', 'not built (test/testbed/build.sh peers)');
  else results.set('upstream', await benchOne('upstream', tb, kc, core).catch((err: unknown) => `failed: ${err instanceof Error ? err.message : String(err)}`));
} finally {
  await down(tb.dir);
  await ctd?.destroy();
}

const kinds: KubeletKind[] = ['tskube', 'upstream'];
const resultOf = (k: KubeletKind) => {
  const r = results.get(k);
  return typeof r === 'object' ? r : undefined;
};
const rowOf = (k: KubeletKind, pods: number) => resultOf(k)?.rows.find((r) => r.pods === pods);
const gap = (from: number | undefined, to: number | undefined) => (from !== undefined && to !== undefined ? to - from : undefined);
const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? (a / b).toFixed(2) : '-');

const floorOf = (label: string, pods: number) => floors.get(label)?.find((r) => r.pods === pods);
const upstreamP99 = (n: number) => {
  const x = rowOf('upstream', n)?.latencies;
  return x ? percentile(x, 99) : undefined;
};
console.log(
  'Pod start-up, QoS cgroups and admission on: pods created at once, creation to Running seen by a watch (ms; all Running: first creation to last Running)',
);
if (floorOn) console.log("floor rows: the same pods straight through CRI, no kubelet, no API objects: first call to the pod's container started");
printTable(
  ['pods', 'kubelet', 'p50', 'p90', 'p99', 'max', 'all Running', 'p99 / upstream', 'aim'],
  counts.flatMap((n) => [
    ...[...floors.keys()].map((label) => {
      const l = floorOf(label, n)?.latencies ?? [];
      return [
        String(n),
        `floor, ${label}`,
        percentile(l, 50),
        percentile(l, 90),
        percentile(l, 99),
        l.length ? Math.max(...l) : Number.NaN,
        floorOf(label, n)?.allStartedMs ?? Number.NaN,
        ratio(l.length ? percentile(l, 99) : undefined, upstreamP99(n)),
        '',
      ];
    }),
    ...kinds.map((k) => {
      const l = rowOf(k, n)?.latencies ?? [];
      const p99 = (kind: KubeletKind) => {
        const x = rowOf(kind, n)?.latencies;
        return x ? percentile(x, 99) : undefined;
      };
      return [
        String(n),
        k,
        percentile(l, 50),
        percentile(l, 90),
        percentile(l, 99),
        l.length ? Math.max(...l) : Number.NaN,
        rowOf(k, n)?.allRunningMs ?? Number.NaN,
        k === 'tskube' ? ratio(p99('tskube'), p99('upstream')) : Number.NaN,
        k === 'tskube' ? '<= 0.7' : '',
      ];
    }),
  ]),
);
console.log(
  "\nInside containerd (its log): p50 / p90 ms of each call, and of the time between calls (the kubelet's part); the last column: first RunPodSandbox asked to last StartContainer done",
);
const spans: [string, (c: PodStartCalls) => number | undefined][] = [
  ['RunPodSandbox', (c) => gap(c.sandboxAsked, c.sandboxDone)],
  ['-> Create', (c) => gap(c.sandboxDone, c.createAsked)],
  ['CreateContainer', (c) => gap(c.createAsked, c.createDone)],
  ['-> Start', (c) => gap(c.createDone, c.startAsked)],
  ['StartContainer', (c) => gap(c.startAsked, c.startDone)],
];
printTable(
  ['pods', 'kubelet', ...spans.map(([name]) => name), 'all in containerd'],
  counts.flatMap((n) =>
    kinds.map((k) => {
      const calls = rowOf(k, n)?.calls ?? [];
      const cells = spans.map(([, f]) => {
        const v = calls.map(f).filter((x): x is number => x !== undefined);
        return v.length ? `${percentile(v, 50).toFixed(0)} / ${percentile(v, 90).toFixed(0)}` : '-';
      });
      const asked = calls.map((c) => c.sandboxAsked).filter((x): x is number => x !== undefined);
      const done = calls.map((c) => c.startDone).filter((x): x is number => x !== undefined);
      return [String(n), k, ...cells, asked.length && done.length ? Math.max(...done) - Math.min(...asked) : Number.NaN];
    }),
  ),
);
console.log('\nKubelet process: RSS from /proc; CPU as user+system seconds per 10 s of wall time (while starting: total seconds)');
const usageRows: (string | number)[][] = [
  ['idle, no pods', ...kinds.flatMap((k) => [resultOf(k)?.idle.rssMiB ?? Number.NaN, resultOf(k)?.idle.cpu ?? Number.NaN])],
];
for (const n of counts) {
  usageRows.push([`starting ${n} pods (total CPU s)`, ...kinds.flatMap((k) => [Number.NaN, rowOf(k, n)?.startupCpuSeconds ?? Number.NaN])]);
  usageRows.push([`  containerd meanwhile (CPU s)`, ...kinds.flatMap((k) => [Number.NaN, rowOf(k, n)?.containerdCpuSeconds ?? Number.NaN])]);
  usageRows.push([`steady, ${n} pods`, ...kinds.flatMap((k) => [rowOf(k, n)?.steady.rssMiB ?? Number.NaN, rowOf(k, n)?.steady.cpu ?? Number.NaN])]);
}
printTable(['state', ...kinds.flatMap((k) => [`${k} RSS MiB`, `${k} CPU`])], usageRows);
console.log(
  "\nWhere the machine's CPU went while the pods started (CPU s, user+system from /proc, own time plus reaped children's; the window: from just before the first call or creation to the last pod started or Running seen)",
);
const cpuColumns: [string, (n: number) => Map<string, number> | undefined][] = [
  ...[...floors.keys()].map((label): [string, (n: number) => Map<string, number> | undefined] => [`floor, ${label}`, (n) => floorOf(label, n)?.cpu]),
  ...kinds.map((k): [string, (n: number) => Map<string, number> | undefined] => [k, (n) => rowOf(k, n)?.cpu]),
];
printTable(
  ['pods', 'process group', ...cpuColumns.map(([name]) => name)],
  counts.flatMap((n) => [...groupOrder.map((g) => [String(n), g, ...cpuColumns.map(([, of]) => of(n)?.get(g) ?? (of(n) ? 0 : Number.NaN))])]),
);

console.log(
  "\nPer pod while starting: API requests (the API server's apiserver_request_total, all clients; the bench itself makes 1 POST pods per pod) and the kubelet's CRI calls (its kubelet_runtime_operations_total)",
);
const perPod = (m: Map<string, number> | undefined, key: string, n: number) => (m ? ((m.get(key) ?? 0) / n).toFixed(2) : '-');
printTable(
  ['pods', 'request', ...kinds],
  counts.flatMap((n) => {
    const keys = [...new Set(kinds.flatMap((k) => [...(rowOf(k, n)?.api.keys() ?? [])].map((x) => `API ${x}`)))].sort();
    const ops = [...new Set(kinds.flatMap((k) => [...(rowOf(k, n)?.criOps.keys() ?? [])].map((x) => `CRI ${x}`)))].sort();
    return [
      ...keys.map((key) => [String(n), key, ...kinds.map((k) => perPod(rowOf(k, n)?.api, key.slice(4), n))]),
      ...ops.map((key) => [String(n), key, ...kinds.map((k) => perPod(rowOf(k, n)?.criOps, key.slice(4), n))]),
    ];
  }),
);

console.log('\nRatios, tskube / upstream (aim: p99 and RSS each <= 0.7)');
printTable(
  ['measure', 'ratio'],
  [
    ['RSS idle', ratio(resultOf('tskube')?.idle.rssMiB, resultOf('upstream')?.idle.rssMiB)],
    ...counts.flatMap((n) => [
      [`p99, ${n} pods`, ratio(percentile(rowOf('tskube', n)?.latencies ?? [], 99), percentile(rowOf('upstream', n)?.latencies ?? [], 99))],
      [`RSS steady, ${n} pods`, ratio(rowOf('tskube', n)?.steady.rssMiB, rowOf('upstream', n)?.steady.rssMiB)],
    ]),
  ],
);
for (const k of kinds) {
  const r = results.get(k);
  if (typeof r === 'string') console.log(`\n${k}: ${r}`);
}
