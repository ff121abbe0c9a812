// bench/cri: 30 sandboxes + containers through the tskube CRI client, one after the
// other; p50/p99 of each call as the client saw it, beside containerd's own time for
// the same call (from its log), and the wall time of `tskube crictl ps -a`.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CriClient } from '../src/cri-client/index.js';
import { readContainerdLog, serverDurations, type CriCall } from './lib/containerd-log.js';
import { percentile, printTable } from './lib/stats.js';
import { tskubeRoot } from './lib/root.js';

const count = Number(process.env['BENCH_PODS'] ?? 30);
const endpoint = process.env['CONTAINER_RUNTIME_ENDPOINT'] ?? 'unix:///run/containerd/containerd.sock';
const logPath = process.env['CONTAINERD_LOG'] ?? '/var/log/tskube-containerd.log';
const root = tskubeRoot;
const image = 'localhost/tskube/busybox:latest';
const label = { 'tskube.bench/run': String(process.pid) };
const logRoot = `/tmp/tskube-bench-${process.pid}`;

const client = new CriClient({ endpoint, timeoutMs: 60_000 });
const clientMs = new Map<CriCall, { key: string; ms: number }[]>();
async function timed<T>(call: CriCall, key: (r: T) => string, run: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const r = await run();
  const list = clientMs.get(call) ?? [];
  list.push({ key: `${call} ${key(r)}`, ms: performance.now() - t0 });
  clientMs.set(call, list);
  return r;
}

const started = new Date(Date.now() - 1000);
const pods: string[] = [];
try {
  for (let i = 0; i < count; i++) {
    const name = `bench-${process.pid}-${i}`;
    const config = {
      metadata: { name, namespace: 'tskube-bench', uid: `${process.pid}-${i}`, attempt: 0 },
      labels: label,
      logDirectory: `${logRoot}/${name}`,
      linux: {},
    };
    const { podSandboxId } = await timed(
      'RunPodSandbox',
      (r: { podSandboxId: string }) => r.podSandboxId,
      () => client.runtime.call('RunPodSandbox', { config }),
    );
    pods.push(podSandboxId);
    const { containerId } = await timed(
      'CreateContainer',
      (r: { containerId: string }) => r.containerId,
      () =>
        client.runtime.call('CreateContainer', {
          podSandboxId,
          sandboxConfig: config,
          config: { metadata: { name: 'sleep' }, image: { image }, command: ['sleep', '3600'], labels: label, logPath: 'sleep.log' },
        }),
    );
    await timed(
      'StartContainer',
      () => containerId,
      () => client.runtime.call('StartContainer', { containerId }),
    );
  }

  // The CLI, measured as a user runs it: a new process each time, 30 containers listed.
  const cli = join(root, 'bin/tskube');
  const cliMs: number[] = [];
  if (existsSync(cli)) {
    const run = () => execFileSync(cli, ['crictl', '-r', endpoint, 'ps', '-a'], { stdio: ['ignore', 'pipe', 'pipe'] });
    run(); // warm the compile cache once
    for (let i = 0; i < 15; i++) {
      const t0 = performance.now();
      run();
      cliMs.push(performance.now() - t0);
    }
  }

  for (const podSandboxId of pods.splice(0)) {
    await timed(
      'StopPodSandbox',
      () => podSandboxId,
      () => client.runtime.call('StopPodSandbox', { podSandboxId }),
    );
    await timed(
      'RemovePodSandbox',
      () => podSandboxId,
      () => client.runtime.call('RemovePodSandbox', { podSandboxId }),
    );
  }

  const server = existsSync(logPath) ? serverDurations(readContainerdLog(logPath), started) : new Map<string, number>();
  const rows: (string | number)[][] = [];
  for (const [call, samples] of clientMs) {
    const c = samples.map((s) => s.ms);
    const s = samples.map((x) => server.get(x.key)).filter((x): x is number => x !== undefined);
    // Overhead per call: what the client spent beyond containerd's own time.
    const over = samples.flatMap((x) => (server.has(x.key) ? [x.ms - (server.get(x.key) as number)] : []));
    const p50 = percentile(c, 50);
    rows.push([
      call,
      p50,
      percentile(c, 99),
      percentile(s, 50),
      percentile(s, 99),
      percentile(over, 50),
      s.length ? (percentile(over, 50) / percentile(s, 50)) * 100 : NaN,
    ]);
  }
  console.log(`CRI calls through the tskube client, ${count} sandboxes + containers, sequential (ms)`);
  printTable(['call', 'client p50', 'client p99', 'containerd p50', 'containerd p99', 'overhead p50', 'overhead %'], rows);
  if (!server.size) console.log(`(no containerd timings: ${logPath} missing; set CONTAINERD_LOG)`);
  if (cliMs.length) {
    console.log(`\n\`tskube crictl ps -a\` with ${count} containers, new process each run, ${cliMs.length} runs (ms)`);
    printTable(
      ['command', 'p50', 'p90', 'min', 'max', 'aim'],
      [['tskube crictl ps -a', percentile(cliMs, 50), percentile(cliMs, 90), Math.min(...cliMs), Math.max(...cliMs), '< 150']],
    );
  }
} finally {
  for (const podSandboxId of pods) {
    await client.runtime.call('StopPodSandbox', { podSandboxId }).catch(() => undefined);
    await client.runtime.call('RemovePodSandbox', { podSandboxId }).catch(() => undefined);
  }
  client.close();
  rmSync(logRoot, { recursive: true, force: true });
}
