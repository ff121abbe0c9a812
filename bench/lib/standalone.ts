// A standalone kubelet (static pods only, no API server) on a private containerd, for
// benches that need no control plane and no kubelet lock (bench/probes, bench/memory).
import { existsSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CriClient } from '../../src/cri-client/index.js';
import { detectCgroupLayout } from '../../src/kubelet/cm/cgroup-layout.js';
import { cgroupDirs } from '../../src/kubelet/cm/plan-cgroup-writes.js';
import { removeCgroupTree } from '../../test/support/cgroups.js';
import { upstreamSafeConfig } from './kubelets.js';

/** The KubeletConfiguration both kubelets run with: static pods from dir/manifests, no server, cgroups under cgroupRoot. */
export function standaloneConfig(dir: string, endpoint: string, cgroupRoot: string): object {
  const config = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    containerRuntimeEndpoint: endpoint,
    cgroupDriver: 'cgroupfs',
    cgroupRoot,
    staticPodPath: join(dir, 'manifests'),
    enableServer: false,
    healthzPort: 0,
    readOnlyPort: 0,
    podLogsDir: join(dir, 'logs'),
    maxPods: 110,
    // Standalone: no API server to ask about callers (and no server: enableServer is off).
    authentication: { webhook: { enabled: false }, anonymous: { enabled: false } },
    authorization: { mode: 'AlwaysAllow' },
  };
  // Both get the settings that keep the upstream one harmless (image GC and eviction off among them).
  return { ...config, ...upstreamSafeConfig() };
}

/** The cgroup v1 hierarchies mounted under /sys/fs/cgroup (none on a pure v2 host). */
function v1Hierarchies(): string[] {
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) return [];
  return readdirSync('/sys/fs/cgroup', { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => join('/sys/fs/cgroup', e.name));
}

/** Removes a cgroup folder and the (emptied) ones below it, deepest first. */
function removeEmptyTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeEmptyTree(join(dir, e.name));
  rmdirSync(dir);
}

/**
 * Makes the cgroup root in every hierarchy (name=systemd too: the upstream kubelet wants it
 * to exist already) and returns its removal, which takes what the kubelet left below it.
 */
export async function makeCgroupRoot(cgroupRoot: string): Promise<() => Promise<void>> {
  const dirs = [...new Set([...cgroupDirs(await detectCgroupLayout(), cgroupRoot), ...v1Hierarchies().map((h) => join(h, cgroupRoot))])];
  for (const d of dirs) mkdirSync(d, { recursive: true });
  return async () => {
    await removeCgroupTree(cgroupRoot);
    for (const d of dirs) removeEmptyTree(d);
  };
}

export async function runningContainers(cri: CriClient, namespace: string): Promise<number> {
  const { containers } = await cri.runtime.call('ListContainers', {
    filter: { state: { state: 'CONTAINER_RUNNING' }, labelSelector: { 'io.kubernetes.pod.namespace': namespace } },
  });
  return containers.length;
}

/** Stops and removes every sandbox on the (private) runtime. */
export async function removeAllPods(cri: CriClient): Promise<void> {
  const { items } = await cri.runtime.call('ListPodSandbox', {});
  await Promise.all(
    items.map(async (s) => {
      await cri.runtime.call('StopPodSandbox', { podSandboxId: s.id }).catch(() => undefined);
      await cri.runtime.call('RemovePodSandbox', { podSandboxId: s.id }).catch(() => undefined);
    }),
  );
}
