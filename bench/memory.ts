// bench/memory: the kubelet's resident memory with no pods, then 30, then 110 (the default
// maxPods), under tskube's kubelet and under the upstream one (built from the control
// plane's Go module), one after the other on a private containerd: no other kubelet sees
// these pods, and neither kubelet shares its runtime with another.
//
// Both run standalone with the pods as static pods (host network, `sleep`), so the figure
// is the kubelet's own: no API server, no watches (bench/volumes has those). Each count is
// measured once every pod of it runs and BENCH_SETTLE_SECONDS more have passed. RSS splits
// as the kernel counts it: anonymous (the heap: V8's and malloc's) and file-backed (pages
// of the binary and its libraries).
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CriClient } from '../src/cri-client/index.js';
import { detectHostIPs } from '../src/kubelet/kubelet.js';
import { privateContainerd } from '../test/support/private-containerd.js';
import { eventually } from '../test/testbed/eventually.ts';
import { type KubeletKind, startKubelet } from './lib/kubelets.js';
import { processUsage, residentParts } from './lib/proc.js';
import { makeCgroupRoot, removeAllPods, runningContainers, standaloneConfig } from './lib/standalone.js';
import { printTable } from './lib/stats.js';

const counts = (process.env['BENCH_PODS'] ?? '0,30,110').split(',').map(Number);
const settleSeconds = Number(process.env['BENCH_SETTLE_SECONDS'] ?? 30);
const root = process.env['TSKUBE_ROOT'] ?? process.cwd();
const upstreamKubelet = process.env['TSKUBE_UPSTREAM_KUBELET'] ?? '';
const image = 'localhost/tskube/busybox:latest';
const pauseImage = 'registry.k8s.io/pause:3.10';
const namespace = 'bench-memory';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nodeIP = detectHostIPs()[0] ?? '127.0.0.1';

interface Sample {
  pods: number;
  rssMiB: number;
  anonMiB: number;
  fileMiB: number;
}

function staticPod(i: number): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `p${i}`, namespace },
    spec: {
      hostNetwork: true,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'main', image, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }],
    },
  };
}

async function benchOne(kind: KubeletKind, endpoint: string): Promise<Sample[]> {
  const dir = mkdtempSync(join(tmpdir(), `tskube-bench-memory-${kind}-`));
  const manifests = join(dir, 'manifests');
  mkdirSync(manifests);
  const cgroupRoot = `/tskube-bench-memory-${kind}`;
  writeFileSync(join(dir, 'config.yaml'), stringify(standaloneConfig(dir, endpoint, cgroupRoot)));
  const removeCgroupRoot = await makeCgroupRoot(cgroupRoot);
  const cri = new CriClient({ endpoint, timeoutMs: 60_000 });
  const kubelet = startKubelet({ kind, dir, nodeName: `bench-memory-${kind}`, nodeIP, root, upstreamKubelet });
  let stderr = '';
  kubelet.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<never>((_, reject) => kubelet.once('exit', (code) => reject(new Error(`${kind} kubelet exited (${code})`))));
  exited.catch(() => undefined);
  const pid = kubelet.pid ?? 0;
  const samples: Sample[] = [];
  try {
    for (const pods of counts) {
      for (let i = 0; i < pods; i++) writeFileSync(join(manifests, `p${i}.yaml`), stringify(staticPod(i)));
      await Promise.race([
        eventually(`${kind}: ${pods} pods running`, async () => ((await runningContainers(cri, namespace)) === pods ? true : undefined), 600_000, 1000),
        exited,
      ]);
      await Promise.race([sleep(settleSeconds * 1000), exited]);
      samples.push({ pods, rssMiB: processUsage(pid).rssMiB, ...residentParts(pid) });
      process.stderr.write(`[${kind}] ${JSON.stringify(samples.at(-1))}\n`);
    }
    return samples;
  } catch (err) {
    throw new Error(`${String(err)}; the kubelet's last words: ${stderr}`);
  } finally {
    kubelet.kill('SIGTERM');
    await new Promise((r) => (kubelet.exitCode === null ? kubelet.once('exit', r) : r(undefined)));
    await removeAllPods(cri);
    cri.close();
    await removeCgroupRoot();
    rmSync(dir, { recursive: true, force: true });
  }
}

const ctd = privateContainerd({ cri: true, pods: true });
const results = new Map<KubeletKind, Sample[] | string>();
try {
  await ctd.start();
  ctd.importImages([pauseImage, image]);
  const only = process.env['BENCH_ONLY'];
  if (only !== 'upstream') results.set('tskube', await benchOne('tskube', ctd.endpoint));
  if (only === 'tskube') results.set('upstream', 'skipped (BENCH_ONLY=tskube)');
  else if (!upstreamKubelet || !statSync(upstreamKubelet, { throwIfNoEntry: false })) results.set('upstream', 'not built (test/testbed/build.sh peers)');
  else results.set('upstream', await benchOne('upstream', ctd.endpoint).catch((err: unknown) => `failed: ${String(err)}`));
} finally {
  await ctd.destroy();
}

const kinds: KubeletKind[] = ['tskube', 'upstream'];
const at = (kind: KubeletKind, pods: number) => {
  const r = results.get(kind);
  return typeof r === 'object' ? r.find((s) => s.pods === pods) : undefined;
};
const mib = (n: number | undefined) => (n === undefined ? '-' : n.toFixed(1));
console.log(`\nKubelet resident memory (MiB), standalone, static pods (host network, sleep), ${settleSeconds} s after the last one runs`);
printTable(
  ['pods', ...kinds.flatMap((k) => [`${k} RSS`, `${k} anon`, `${k} file`]), 'tskube/upstream'],
  counts.map((n) => {
    const t = at('tskube', n);
    const u = at('upstream', n);
    return [
      n,
      ...kinds.flatMap((k) => [mib(at(k, n)?.rssMiB), mib(at(k, n)?.anonMiB), mib(at(k, n)?.fileMiB)]),
      t && u ? (t.rssMiB / u.rssMiB).toFixed(2) : '-',
    ];
  }),
);
for (const k of kinds) {
  const r = results.get(k);
  if (typeof r === 'string') console.log(`\n${k}: ${r}`);
}
