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
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { detectHostIPs } from '../src/kubelet/kubelet.js';
import { privateContainerd } from '../test/support/private-containerd.js';
import type { KubeletKind } from './lib/kubelets.js';
import { processUsage, residentParts } from './lib/proc.js';
import { runningContainers, sleepImage, sleepPod, standaloneKubelet } from './lib/standalone.js';
import { printTable } from './lib/stats.js';
import { tskubeRoot } from './lib/root.js';

const counts = (process.env['BENCH_PODS'] ?? '0,30,110').split(',').map(Number);
const settleSeconds = Number(process.env['BENCH_SETTLE_SECONDS'] ?? 30);
const root = tskubeRoot;
const upstreamKubelet = process.env['TSKUBE_UPSTREAM_KUBELET'] ?? '';
const pauseImage = 'registry.k8s.io/pause:3.10';
const namespace = 'bench-memory';
const nodeIP = detectHostIPs()[0] ?? '127.0.0.1';

interface Sample {
  pods: number;
  rssMiB: number;
  anonMiB: number;
  fileMiB: number;
  /** CPU (user + system) from the kubelet's start to the sample. */
  cpuSeconds: number;
  /** CPU per second of wall time while the count settled: what the kubelet costs at rest with these pods. */
  settleCpuMsPerS: number;
}

async function benchOne(kind: KubeletKind, endpoint: string): Promise<Sample[]> {
  const k = await standaloneKubelet({ kind, bench: 'memory', endpoint, namespace, root, upstreamKubelet, nodeIP });
  const samples: Sample[] = [];
  try {
    const pid = k.start();
    for (const pods of counts) {
      for (let i = 0; i < pods; i++) writeFileSync(join(k.manifests, `p${i}.yaml`), stringify(sleepPod(namespace, i)));
      await k.until(`${kind}: ${pods} pods running`, async () => (await runningContainers(k.cri, namespace)) === pods, 600_000);
      const settleStart = processUsage(pid).cpuSeconds;
      await k.sleep(settleSeconds * 1000);
      const usage = processUsage(pid);
      const settleCpuMsPerS = ((usage.cpuSeconds - settleStart) * 1000) / settleSeconds;
      samples.push({ pods, rssMiB: usage.rssMiB, ...residentParts(pid), cpuSeconds: usage.cpuSeconds, settleCpuMsPerS });
      process.stderr.write(`[${kind}] ${JSON.stringify(samples.at(-1))}\n`);
    }
    return samples;
  } catch (err) {
    throw new Error(`${String(err)}; the kubelet's last words: ${k.lastWords()}`);
  } finally {
    await k.stop();
  }
}

const ctd = privateContainerd({ cri: true, pods: true });
const results = new Map<KubeletKind, Sample[] | string>();
try {
  await ctd.start();
  ctd.importImages([pauseImage, sleepImage]);
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
console.log(
  `\nKubelet resident memory (MiB), standalone, static pods (host network, sleep), ${settleSeconds} s after the last one runs;` +
    ' CPU: seconds since the start, and ms per second while settling',
);
printTable(
  ['pods', ...kinds.flatMap((k) => [`${k} RSS`, `${k} anon`, `${k} file`, `${k} CPU s`, `${k} ms/s`]), 'tskube/upstream'],
  counts.map((n) => {
    const t = at('tskube', n);
    const u = at('upstream', n);
    return [
      n,
      ...kinds.flatMap((k) => {
        const s = at(k, n);
        return [mib(s?.rssMiB), mib(s?.anonMiB), mib(s?.fileMiB), s ? s.cpuSeconds.toFixed(2) : '-', s ? s.settleCpuMsPerS.toFixed(1) : '-'];
      }),
      t && u ? (t.rssMiB / u.rssMiB).toFixed(2) : '-',
    ];
  }),
);
for (const k of kinds) {
  const r = results.get(k);
  if (typeof r === 'string') console.log(`\n${k}: ${r}`);
}
