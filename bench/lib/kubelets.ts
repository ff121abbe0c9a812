// Starting the tskube kubelet or the upstream one (built by `test/testbed/build.sh peers`)
// the same way for benchmarks, on the shared containerd, one at a time.
//
// The upstream kubelet runs in a private mount namespace where the three kernel settings
// it would otherwise change (vm.overcommit_memory, kernel.panic, kernel.panic_on_oops)
// already read as it wants them, with failCgroupV1 off (these machines are cgroup v1) and
// makeIPTablesUtilChains off: it leaves the host's sysctls and firewall as they were. Its
// mounts (volumes) stay in that namespace and go with it; its certificates and the files
// it keeps at fixed paths under /var/lib/kubelet go to the bench's folder.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CriClient } from '../../src/cri-client/index.js';

export type KubeletKind = 'tskube' | 'upstream';

/** The settings the upstream kubelet needs to run harmlessly here, on top of a bench's own. */
export function upstreamSafeConfig(): Record<string, unknown> {
  return {
    failCgroupV1: false,
    failSwapOn: false,
    makeIPTablesUtilChains: false,
    // Neither image GC nor eviction may touch the shared containerd's images during a bench.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: { 'memory.available': '1Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
  };
}

export interface KubeletStart {
  kind: KubeletKind;
  /** A folder of the bench's: config.yaml is there, root/ and kubelet.kubeconfig go there. */
  dir: string;
  nodeName: string;
  /** Joins the cluster by TLS bootstrap with this; without it the kubelet runs standalone (static pods only). */
  bootstrapKubeconfig?: string;
  /** bin/tskube's folder's parent (the repository). */
  root: string;
  /** The upstream kubelet's binary. */
  upstreamKubelet: string;
  nodeIP?: string;
}

export function startKubelet(o: KubeletStart): ChildProcess {
  const flags = [
    '--config',
    join(o.dir, 'config.yaml'),
    '--root-dir',
    join(o.dir, 'root'),
    '--hostname-override',
    o.nodeName,
    ...(o.nodeIP ? ['--node-ip', o.nodeIP] : []),
    ...(o.bootstrapKubeconfig ? ['--bootstrap-kubeconfig', o.bootstrapKubeconfig, '--kubeconfig', join(o.dir, 'kubelet.kubeconfig')] : []),
    // Upstream's default is /var/lib/kubelet/pki whatever the root dir: keep certificates in the bench's folder.
    '--cert-dir',
    join(o.dir, 'pki'),
  ];
  if (o.kind === 'tskube') {
    return spawn(join(o.root, 'bin/tskube'), ['kubelet', ...flags], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, TSKUBE_LOG_LEVEL: process.env['BENCH_TSKUBE_LOG_LEVEL'] ?? 'warn' },
    });
  }
  // Files holding the values the upstream kubelet wants, bound over /proc/sys in its own mount namespace.
  const wanted: Record<string, string> = { 'vm/overcommit_memory': '1', 'kernel/panic': '10', 'kernel/panic_on_oops': '1' };
  const binds = Object.entries(wanted).map(([key, value]) => {
    const file = join(o.dir, `sysctl-${key.replace('/', '-')}`);
    writeFileSync(file, `${value}\n`);
    return `mount --bind ${file} /proc/sys/${key}`;
  });
  // It also keeps files at fixed paths under /var/lib/kubelet (device-plugins): give it a folder of the bench's there.
  mkdirSync(join(o.dir, 'var-lib-kubelet'), { recursive: true });
  binds.push(`if [ -d /var/lib/kubelet ]; then mount --bind ${join(o.dir, 'var-lib-kubelet')} /var/lib/kubelet; fi`);
  const runner = join(o.dir, 'run-upstream.sh');
  writeFileSync(runner, `#!/bin/sh\nset -e\n${binds.join('\n')}\nexec "$@"\n`);
  chmodSync(runner, 0o755);
  return spawn('unshare', ['--mount', '--propagation', 'private', runner, o.upstreamKubelet, ...flags, '--v=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Stops a bench's kubelet and then removes the sandboxes it left in the bench's namespace
 * (a kubelet stopped with pods still on it leaves them running on the shared containerd).
 */
export async function stopKubelet(kubelet: ChildProcess, endpoint: string, namespace: string): Promise<void> {
  kubelet.kill('SIGTERM');
  await new Promise((r) => (kubelet.exitCode === null ? kubelet.once('exit', r) : r(undefined)));
  const cri = new CriClient({ endpoint, timeoutMs: 30_000 });
  try {
    // A runtime restarted meanwhile must not stop the rest of a bench's clean-up.
    const { items } = await cri.runtime
      .call('ListPodSandbox', { filter: { labelSelector: { 'io.kubernetes.pod.namespace': namespace } } })
      .catch(() => ({ items: [] }));
    for (const s of items) {
      await cri.runtime.call('StopPodSandbox', { podSandboxId: s.id }).catch(() => undefined);
      await cri.runtime.call('RemovePodSandbox', { podSandboxId: s.id }).catch(() => undefined);
    }
  } finally {
    cri.close();
  }
}
