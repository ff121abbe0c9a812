// bench/volumes: what volumes cost a pod's start, on the tskube kubelet and beside it the
// upstream one (built from the control plane's Go module), one after the other on the real
// containerd, each joined to a real control plane by TLS bootstrap.
//
// For each kubelet: 30 pods created at once with no volumes at all, then 30 pods each
// with its own ConfigMap, its own Secret and a projected service-account token; time from
// creation to Running as a watch sees it (p50/p99). And the API reads the volumes cost:
// requests to configmaps, secrets and serviceaccounts/token from the API server's own
// apiserver_request_total, while the pods start and in a steady minute after, per pod,
// plus the watches held open (a watch per referenced object is upstream's strategy too).
// Last, every pod's ConfigMap is edited at once: time from the update's response to the new
// content in the pod's volume file, read on the node (p50/p99), with both kubelets at their
// default syncFrequency (1 m).
//
// The upstream kubelet runs in a private mount namespace (bench/lib/kubelets.ts): its
// tmpfs mounts stay there, so its containers see the volume directories without them.
// Its timings still include mounting and writing every volume.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Pod, Watch } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { CriClient } from '../src/cri-client/index.js';
import { detectCgroupLayout } from '../src/kubelet/cm/cgroup-layout.js';
import { cgroupDirs } from '../src/kubelet/cm/plan-cgroup-writes.js';
import { eventually } from '../test/testbed/eventually.ts';
import { down, type Testbed, up } from '../test/testbed/index.ts';
import { freePorts } from '../test/testbed/ports.ts';
import { removeCgroupTree } from '../test/support/cgroups.js';
import { unmountUnder } from '../test/support/mounts.js';
import { type KubeletKind, startKubelet, stopKubelet, upstreamSafeConfig } from './lib/kubelets.js';
import { processUsage } from './lib/proc.js';
import { percentile, printTable } from './lib/stats.js';
import { tskubeRoot } from './lib/root.js';

const podCount = Number(process.env['BENCH_PODS'] ?? 30);
const steadySeconds = Number(process.env['BENCH_STEADY_SECONDS'] ?? 60);
const root = tskubeRoot;
const upstreamKubelet = process.env['TSKUBE_UPSTREAM_KUBELET'] ?? '';
const endpoint = 'unix:///run/containerd/containerd.sock';
const image = 'localhost/tskube/busybox:latest';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 180_000) => eventually(what, probe, timeoutMs, 250);

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${file} ${args.join(' ')}: exit ${code}`))));
  });
}

/** The path in every cgroup hierarchy mounted, named ones (v1's name=systemd) included. */
async function everyHierarchy(path: string): Promise<string[]> {
  const layout = await detectCgroupLayout();
  if (layout.version === 2) return cgroupDirs(layout, path);
  const mounted = readdirSync('/sys/fs/cgroup', { withFileTypes: true }).filter((e) => e.isDirectory());
  return mounted.map((e) => join('/sys/fs/cgroup', e.name) + path);
}

/** Removes a cgroup left without processes, its children first (removeCgroupTree knows only the controllers' hierarchies). */
function removeEmptyTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeEmptyTree(join(dir, e.name));
  rmdirSync(dir);
}

/** The API requests that matter here, by "resource verb", from the API server's metrics. */
type RequestCounts = Map<string, number>;
const counted = ['configmaps', 'secrets', 'serviceaccounts/token'];

async function requestCounts(tb: Testbed): Promise<{ counts: RequestCounts; watches: number }> {
  const text = await run(tb.kubectl, ['--kubeconfig', tb.adminKubeconfig, 'get', '--raw', '/metrics']);
  const counts: RequestCounts = new Map();
  let watches = 0;
  for (const line of text.split('\n')) {
    const label = (name: string) => new RegExp(`[{,]${name}="([^"]*)"`).exec(line)?.[1] ?? '';
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    const resource = label('resource') + (label('subresource') ? `/${label('subresource')}` : '');
    if (!counted.includes(resource)) continue;
    if (line.startsWith('apiserver_request_total{')) {
      const key = `${resource} ${label('verb')}`;
      counts.set(key, (counts.get(key) ?? 0) + value);
    } else if (line.startsWith('apiserver_longrunning_requests{') && label('verb') === 'WATCH') {
      watches += value;
    }
  }
  return { counts, watches };
}

function diff(after: RequestCounts, before: RequestCounts): RequestCounts {
  const out: RequestCounts = new Map();
  for (const [k, v] of after) if (v - (before.get(k) ?? 0) > 0) out.set(k, v - (before.get(k) ?? 0));
  return out;
}

interface SetResult {
  p50: number;
  p99: number;
}

interface Result {
  plain: SetResult;
  volumes: SetResult;
  /** ConfigMap edit to new content in the volume file. */
  update: SetResult;
  /** Requests while the volume pods started, and in the steady window after. */
  starting: RequestCounts;
  steady: RequestCounts;
  watches: number;
  rssMiB: number;
  plainRssMiB: number;
}

function benchPod(name: string, namespace: string, nodeName: string, withVolumes: boolean): V1Pod {
  const volumes = [
    { name: 'config', configMap: { name: `${name}-config` } },
    { name: 'creds', secret: { secretName: `${name}-secret` } },
    { name: 'token', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600 } }] } },
  ];
  return {
    metadata: { name, namespace },
    spec: {
      nodeName,
      terminationGracePeriodSeconds: 1,
      // The pods have exactly the volumes named here: no kube-api-access-* added.
      automountServiceAccountToken: false,
      containers: [
        {
          name: 'main',
          image,
          imagePullPolicy: 'IfNotPresent',
          command: ['sleep', '3600'],
          ...(withVolumes ? { volumeMounts: volumes.map((v) => ({ name: v.name, mountPath: `/v/${v.name}` })) } : {}),
        },
      ],
      ...(withVolumes ? { volumes } : {}),
    },
  };
}

/** Creates the pods at once; creation to Running as a watch sees it (ms). */
async function startPods(kc: KubeConfig, core: CoreV1Api, namespace: string, pods: V1Pod[]): Promise<SetResult> {
  const created = new Map<string, number>();
  const runningAt = new Map<string, number>();
  const req = await new Watch(kc).watch(
    `/api/v1/namespaces/${namespace}/pods`,
    {},
    (_type, obj: V1Pod) => {
      const name = obj.metadata?.name ?? '';
      if (obj.status?.phase === 'Running' && !runningAt.has(name)) runningAt.set(name, performance.now());
    },
    () => undefined,
  );
  try {
    await Promise.all(
      pods.map(async (p) => {
        created.set(p.metadata?.name ?? '', performance.now());
        await core.createNamespacedPod({ namespace, body: p });
      }),
    );
    await until(`${pods.length} pods Running`, async () => ([...created.keys()].every((n) => runningAt.has(n)) ? true : undefined));
  } finally {
    req.abort();
  }
  const latencies = [...created].map(([name, t]) => (runningAt.get(name) ?? Number.NaN) - t);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/**
 * Edits every pod's ConfigMap at once; time from each update's response to its new content
 * in the pod's configMap volume on the node (ms). Both kubelets keep configMap volumes on
 * disk, where the bench can read them (the upstream one's tmpfs mounts are out of its sight).
 */
async function propagate(core: CoreV1Api, namespace: string, rootDir: string): Promise<SetResult> {
  const pods = (await core.listNamespacedPod({ namespace })).items;
  const file = (p: V1Pod) => join(rootDir, 'pods', p.metadata?.uid ?? '', 'volumes/kubernetes.io~configmap/config/app.conf');
  const updated = new Map<string, number>();
  const seenAt = new Map<string, number>();
  await Promise.all(
    pods.map(async (p) => {
      const name = p.metadata?.name ?? '';
      await core.patchNamespacedConfigMap(
        { name: `${name}-config`, namespace, body: { data: { 'app.conf': `pod=${name} edited\n` } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      updated.set(name, performance.now());
    }),
  );
  await until(
    'every edit in its pod',
    async () => {
      for (const p of pods) {
        const name = p.metadata?.name ?? '';
        if (seenAt.has(name)) continue;
        if (readFileSync(file(p), 'utf8').endsWith('edited\n')) seenAt.set(name, performance.now());
      }
      return seenAt.size === pods.length ? true : undefined;
    },
    300_000,
  );
  const latencies = pods.map((p) => (seenAt.get(p.metadata?.name ?? '') ?? Number.NaN) - (updated.get(p.metadata?.name ?? '') ?? Number.NaN));
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/**
 * Deletes the pods and waits until the kubelet has stopped every sandbox too (the API
 * object goes first), so the next set does not start beside the last one's teardown.
 */
async function deletePods(core: CoreV1Api, namespace: string): Promise<void> {
  await core.deleteCollectionNamespacedPod({ namespace });
  await until('the pods to go', async () => ((await core.listNamespacedPod({ namespace })).items.length === 0 ? true : undefined));
  const cri = new CriClient({ endpoint, timeoutMs: 30_000 });
  try {
    await until('their sandboxes stopped', async () => {
      const filter = { labelSelector: { 'io.kubernetes.pod.namespace': namespace }, state: { state: 'SANDBOX_READY' as const } };
      return (await cri.runtime.call('ListPodSandbox', { filter })).items.length === 0 ? true : undefined;
    });
  } finally {
    cri.close();
  }
}

async function benchOne(kind: KubeletKind, tb: Testbed, kc: KubeConfig, core: CoreV1Api): Promise<Result> {
  const nodeName = `bench-vol-${kind}-${process.pid}`;
  const namespace = nodeName;
  const dir = mkdtempSync(join(tmpdir(), `tskube-bench-vol-${kind}-`));
  const [apiPort = 0] = await freePorts(1);
  const config: Record<string, unknown> & { cgroupRoot: string } = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    containerRuntimeEndpoint: endpoint,
    cgroupDriver: 'cgroupfs',
    healthzPort: 0,
    readOnlyPort: 0,
    address: '127.0.0.1',
    port: apiPort,
    podLogsDir: join(dir, 'logs'),
    maxPods: 110,
    // Its own cgroup root: a kubelet removes pod cgroups it does not own.
    cgroupRoot: `/tskube-bench-vol-${kind}-${process.pid}`,
  };
  writeFileSync(join(dir, 'config.yaml'), stringify(kind === 'tskube' ? config : { ...config, ...upstreamSafeConfig() }));
  // The upstream kubelet wants its cgroup root to exist in every hierarchy, the named systemd one too (tskube makes it).
  const cgroupRootDirs = await everyHierarchy(config.cgroupRoot);
  for (const d of cgroupRootDirs) mkdirSync(d, { recursive: true });
  const kubelet = startKubelet({ kind, dir, nodeName, bootstrapKubeconfig: tb.bootstrapKubeconfig, root, upstreamKubelet });
  // The upstream kubelet's log goes to a file whose tail is shown if it fails; tskube's warnings show as they come.
  const logFile = join(dir, 'kubelet.log');
  kubelet.stderr?.on('data', (d: Buffer) => {
    if (kind === 'tskube') process.stderr.write(`[${kind}] ${d}`);
    else appendFileSync(logFile, d);
  });
  try {
    await until(`${kind}: node Ready`, async () => {
      if (kubelet.exitCode !== null) throw new Error(`${kind} kubelet exited with ${kubelet.exitCode}`);
      return (await core.readNode({ name: nodeName })).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? true : undefined;
    });
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await until("the namespace's default ServiceAccount", () => core.readNamespacedServiceAccount({ name: 'default', namespace }));
    const names = Array.from({ length: podCount }, (_, i) => `p${i}`);
    for (const n of names) {
      await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: `${n}-config` }, data: { 'app.conf': `pod=${n}\n` } } });
      await core.createNamespacedSecret({ namespace, body: { metadata: { name: `${n}-secret` }, stringData: { password: `pw-${n}` } } });
    }

    const plain = await startPods(
      kc,
      core,
      namespace,
      names.map((n) => benchPod(n, namespace, nodeName, false)),
    );
    const plainRssMiB = processUsage(kubelet.pid ?? 0).rssMiB;
    await deletePods(core, namespace);
    const before = await requestCounts(tb);
    const volumes = await startPods(
      kc,
      core,
      namespace,
      names.map((n) => benchPod(n, namespace, nodeName, true)),
    );
    const started = await requestCounts(tb);
    await sleep(steadySeconds * 1000);
    const steady = await requestCounts(tb);
    const rssMiB = processUsage(kubelet.pid ?? 0).rssMiB;
    const update = await propagate(core, namespace, join(dir, 'root'));
    await deletePods(core, namespace);
    return {
      plain,
      volumes,
      update,
      starting: diff(started.counts, before.counts),
      steady: diff(steady.counts, started.counts),
      watches: steady.watches - before.watches,
      rssMiB,
      plainRssMiB,
    };
  } catch (err) {
    if (kind === 'upstream' && existsSync(logFile))
      process.stderr.write(`[upstream] last log lines:\n${readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n')}\n`);
    throw err;
  } finally {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    await until('the namespace pods to go', async () => ((await core.listNamespacedPod({ namespace })).items.length === 0 ? true : undefined)).catch(
      () => undefined,
    );
    await stopKubelet(kubelet, endpoint, namespace);
    await core.deleteNode({ name: nodeName }).catch(() => undefined);
    unmountUnder(dir);
    rmSync(dir, { recursive: true, force: true });
    await removeCgroupTree(config.cgroupRoot);
    for (const d of cgroupRootDirs) removeEmptyTree(d);
    for (const name of readdirSync('/var/log/containers').filter((n) => n.includes(`_${namespace}_`)))
      rmSync(join('/var/log/containers', name), { force: true });
  }
}

const binDir = process.env['TSKUBE_TESTBED_BIN'];
const tb = await up({ log: (m) => process.stderr.write(`[testbed] ${m}\n`), ...(binDir ? { binDir } : {}) });
const kc = new KubeConfig();
kc.loadFromFile(tb.adminKubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const results = new Map<KubeletKind, Result | string>();
try {
  // One kubelet alone (BENCH_ONLY=tskube|upstream) only to look into it, never to compare.
  const only = process.env['BENCH_ONLY'];
  if (only !== 'upstream') results.set('tskube', await benchOne('tskube', tb, kc, core));
  if (only === 'tskube') results.set('upstream', 'skipped (BENCH_ONLY=tskube)');
  else if (!upstreamKubelet || !statSync(upstreamKubelet, { throwIfNoEntry: false })) results.set('upstream', 'not built (test/testbed/build.sh peers)');
  else results.set('upstream', await benchOne('upstream', tb, kc, core).catch((err: unknown) => `failed: ${err instanceof Error ? err.message : String(err)}`));
} finally {
  await down(tb.dir);
}

const kinds: KubeletKind[] = ['tskube', 'upstream'];
const get = (k: KubeletKind) => {
  const r = results.get(k);
  return typeof r === 'object' ? r : undefined;
};
console.log(`\nPod start-up with and without volumes: ${podCount} pods created at once, creation to Running seen by a watch (ms)`);
printTable(
  ['pods', ...kinds.flatMap((k) => [`${k} p50`, `${k} p99`])],
  [
    ['no volumes', ...kinds.flatMap((k) => [get(k)?.plain.p50 ?? Number.NaN, get(k)?.plain.p99 ?? Number.NaN])],
    ['configMap + secret + token', ...kinds.flatMap((k) => [get(k)?.volumes.p50 ?? Number.NaN, get(k)?.volumes.p99 ?? Number.NaN])],
  ],
);
console.log(`\nConfigMap edit to new content in the running pod's volume: ${podCount} ConfigMaps edited at once (ms)`);
printTable(
  ['', ...kinds.flatMap((k) => [`${k} p50`, `${k} p99`])],
  [['configMap update', ...kinds.flatMap((k) => [get(k)?.update.p50 ?? Number.NaN, get(k)?.update.p99 ?? Number.NaN])]],
);
const keys = [...new Set(kinds.flatMap((k) => [...(get(k)?.starting.keys() ?? []), ...(get(k)?.steady.keys() ?? [])]))].sort();
console.log(`\nAPI requests per pod (apiserver_request_total), while the ${podCount} volume pods started and in the ${steadySeconds} s after`);
printTable(
  ['resource verb', ...kinds.flatMap((k) => [`${k} starting`, `${k} steady`])],
  keys.map((key) => [key, ...kinds.flatMap((k) => [(get(k)?.starting.get(key) ?? 0) / podCount, (get(k)?.steady.get(key) ?? 0) / podCount])]),
);
console.log('\nWatches on configmaps and secrets held open with the volume pods running; the kubelet RSS with each set of pods running');
printTable(
  ['kubelet', 'watches', 'RSS MiB, no volumes', 'RSS MiB, volumes'],
  kinds.map((k) => [k, get(k)?.watches ?? Number.NaN, get(k)?.plainRssMiB ?? Number.NaN, get(k)?.rssMiB ?? Number.NaN]),
);
for (const k of kinds) {
  const r = results.get(k);
  if (typeof r === 'string') console.log(`\n${k}: ${r}`);
}
