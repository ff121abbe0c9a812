// bench/pod-startup: 30 pods created at once on a node run by the tskube kubelet
// (joined to a real control plane by TLS bootstrap, on the real containerd); time from
// creation to Running as a watch sees it; the kubelet's RSS and CPU idle and with 30 pods.
// Pods are bound with spec.nodeName, so the figure is the kubelet's, not the scheduler's.
import { CoreV1Api, KubeConfig, Watch, type V1Pod } from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { down, up } from '../test/testbed/index.ts';
import { CriClient } from '../src/cri-client/index.js';
import { processUsage } from './lib/proc.js';
import { removeCgroupTree } from '../test/support/cgroups.js';
import { percentile, printTable } from './lib/stats.js';

const count = Number(process.env['BENCH_PODS'] ?? 30);
const root = process.env['TSKUBE_ROOT'] ?? process.cwd();
const endpoint = 'unix:///run/containerd/containerd.sock';
const nodeName = `bench-${process.pid}`;
const namespace = `bench-${process.pid}`;
const cgroupRoot = `tskube-bench-${process.pid}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

// Bundled, the testbed cannot find build.sh beside itself: the wrapper built and names the binaries.
const binDir = process.env['TSKUBE_TESTBED_BIN'];
const tb = await up({ log: (m) => process.stderr.write(`[testbed] ${m}\n`), ...(binDir ? { binDir } : {}) });
const dir = mkdtempSync(join(tmpdir(), 'tskube-bench-kubelet-'));
const kc = new KubeConfig();
kc.loadFromFile(tb.adminKubeconfig);
const core = kc.makeApiClient(CoreV1Api);
writeFileSync(
  join(dir, 'config.yaml'),
  // Its own cgroup root: the QoS cgroups and admission are on (upstream's defaults), and a kubelet
  // removes pod cgroups it does not own, so it must not share /kubepods with anyone.
  `apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncontainerRuntimeEndpoint: ${endpoint}\ncgroupDriver: cgroupfs\nmaxPods: 110\npodLogsDir: ${dir}/logs\ncgroupRoot: /${cgroupRoot}\nhealthzPort: 0\n`,
);
const kubelet = spawn(
  join(root, 'bin/tskube'),
  [
    'kubelet',
    '--config',
    join(dir, 'config.yaml'),
    '--root-dir',
    join(dir, 'root'),
    '--hostname-override',
    nodeName,
    '--bootstrap-kubeconfig',
    tb.bootstrapKubeconfig,
    '--kubeconfig',
    join(dir, 'kubelet.kubeconfig'),
  ],
  {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, TSKUBE_LOG_LEVEL: 'warn' },
  },
);
kubelet.stderr.on('data', (d: Buffer) => process.stderr.write(`[kubelet] ${d}`));
const pid = kubelet.pid as number;

try {
  await until('the node to be Ready', async () =>
    (await core.readNode({ name: nodeName })).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? true : undefined,
  );
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await sleep(5000);
  const idle0 = processUsage(pid);
  await sleep(10_000);
  const idle1 = processUsage(pid);

  const created = new Map<string, number>();
  const running = new Map<string, number>();
  const watch = new Watch(kc);
  const req = await watch.watch(
    `/api/v1/namespaces/${namespace}/pods`,
    {},
    (_type, obj: V1Pod) => {
      const name = obj.metadata?.name ?? '';
      if (obj.status?.phase === 'Running' && !running.has(name)) running.set(name, performance.now());
    },
    () => undefined,
  );

  const pods: V1Pod[] = Array.from({ length: count }, (_, i) => ({
    metadata: { name: `p${i}`, namespace },
    spec: {
      nodeName,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'sleep', image: 'localhost/tskube/busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }],
    },
  }));
  const cpuBefore = processUsage(pid).cpuSeconds;
  await Promise.all(
    pods.map(async (p) => {
      created.set(p.metadata!.name!, performance.now());
      await core.createNamespacedPod({ namespace, body: p });
    }),
  );
  await until(`${count} pods Running`, async () => (running.size >= count ? true : undefined), 180_000);
  const startupCpu = processUsage(pid).cpuSeconds - cpuBefore;
  req.abort();
  await sleep(10_000);
  const busy0 = processUsage(pid);
  await sleep(10_000);
  const busy1 = processUsage(pid);

  const latencies = [...created].map(([name, t]) => (running.get(name) ?? NaN) - t);
  console.log(`Pod start-up through the tskube kubelet: ${count} pods created at once, creation to Running seen by a watch (ms)`);
  printTable(
    ['pods', 'p50', 'p90', 'p99', 'max', 'aim p99'],
    [[String(count), percentile(latencies, 50), percentile(latencies, 90), percentile(latencies, 99), Math.max(...latencies), '< 5000']],
  );
  console.log('\nKubelet process (RSS from /proc; CPU as user+system seconds per 10 s of wall time)');
  printTable(
    ['state', 'RSS MiB', 'CPU s / 10 s', 'aim RSS'],
    [
      ['idle, no pods', idle1.rssMiB, idle1.cpuSeconds - idle0.cpuSeconds, ''],
      [`starting ${count} pods (total CPU s)`, NaN, startupCpu, ''],
      [`steady, ${count} pods`, busy1.rssMiB, busy1.cpuSeconds - busy0.cpuSeconds, '< 150'],
    ],
  );
} finally {
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  await until('the pods to go', async () => ((await core.listNamespacedPod({ namespace })).items.length === 0 ? true : undefined), 120_000).catch(
    () => undefined,
  );
  kubelet.kill('SIGTERM');
  await new Promise((r) => kubelet.once('exit', r));
  const cri = new CriClient({ endpoint, timeoutMs: 30_000 });
  const { items } = await cri.runtime.call('ListPodSandbox', { filter: { labelSelector: { 'io.kubernetes.pod.namespace': namespace } } });
  for (const s of items) {
    await cri.runtime.call('StopPodSandbox', { podSandboxId: s.id }).catch(() => undefined);
    await cri.runtime.call('RemovePodSandbox', { podSandboxId: s.id }).catch(() => undefined);
  }
  cri.close();
  await down(tb.dir);
  rmSync(dir, { recursive: true, force: true });
  await removeCgroupTree(`/${cgroupRoot}`);
  // The kubelet links container logs in the host's /var/log/containers; its pod log dir is gone now.
  for (const name of readdirSync('/var/log/containers').filter((n) => n.includes(`_${namespace}_`))) rmSync(join('/var/log/containers', name), { force: true });
}
