// The runtime's floor for a pod start-up bench: the same pods' sandboxes and containers
// started straight through CRI with no kubelet and no API objects, all at once as a kubelet
// asks (RunPodSandbox, then CreateContainer and StartContainer per container), with the
// configs the tskube kubelet builds for them (cri-requests), so the runtime does the same
// work: same image, the runtime's CNI network, pod cgroups under a cgroup root of the
// bench's, the termination-message and /etc/hosts mounts, log files.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { CriClient } from '../../src/cri-client/index.js';
import { buildContainerConfig, buildSandboxConfig, containerLogPath, parseResolvConf } from '../../src/kubelet/cri-requests/index.js';
import { managedHostsFile } from '../../src/kubelet/volumes/etc-hosts.js';

export interface FloorRun {
  endpoint: string;
  /** The bench's pods (as it would create them through the API); each gets a UID here. */
  pods: V1Pod[];
  /** A folder of the run's own: logs, termination-message and hosts files. */
  dir: string;
  /** A cgroup root of the run's own, e.g. "/tskube-bench-floor-123"; the pods' cgroups go below it. */
  cgroupRoot: string;
  /** The kubelets' clusterDNS and clusterDomain, for the same resolv.conf. */
  clusterDNS: string[];
  clusterDomain: string;
}

export interface FloorResult {
  /** Per pod: from the moment all pods were asked for to its last container started (ms). */
  latencies: number[];
  /** From the first call to the last container started. */
  allStartedMs: number;
}

/** CNI's host-local IPAM keeps one file per allocated address, holding the sandbox's ID. */
const ipamDir = '/var/lib/cni/networks';
const callTimeoutMs = 4 * 60_000;

/** Starts every pod at once straight through CRI and times each; removeFloorPods undoes it. */
export async function startFloorPods(o: FloorRun): Promise<FloorResult> {
  const cri = new CriClient({ endpoint: o.endpoint, timeoutMs: callTimeoutMs });
  try {
    // The kubelets ask ImageStatus per pod; the floor asks once per image, before the clock starts.
    const images = new Map<string, { ref: string; user: { username?: string } } | undefined>();
    for (const image of new Set(o.pods.flatMap((p) => (p.spec?.containers ?? []).map((c) => c.image ?? '')))) {
      const status = await cri.image.call('ImageStatus', { image: { image } });
      images.set(image, status.image ? { ref: status.image.id, user: status.image.username ? { username: status.image.username } : {} } : undefined);
    }
    const hostResolv = parseResolvConf(readFileSync('/etc/resolv.conf', 'utf8'));
    const resources = { nodeMemoryCapacityBytes: totalmem(), cgroupV2: existsSync('/sys/fs/cgroup/cgroup.controllers'), cpuCFSQuota: true };
    const t0 = performance.now();
    // allSettled: a failed pod must not leave the others' calls running into the clean-up.
    const settled = await Promise.allSettled(
      o.pods.map(async (p) => {
        const pod: V1Pod = {
          ...p,
          metadata: { ...p.metadata, uid: randomUUID() },
          spec: { dnsPolicy: 'ClusterFirst', ...p.spec, containers: p.spec?.containers ?? [] },
        };
        const uid = pod.metadata?.uid ?? '';
        const sandboxConfig = buildSandboxConfig(pod, 0, {
          nodeName: 'floor',
          clusterDNS: o.clusterDNS,
          clusterDomain: o.clusterDomain,
          hostResolv,
          cgroupParent: `${o.cgroupRoot}/kubepods/burstable/pod${uid}`,
          podLogsRoot: join(o.dir, 'logs'),
          resources,
        });
        const podDir = join(o.dir, 'pods', uid);
        mkdirSync(podDir, { recursive: true });
        const { podSandboxId } = await cri.runtime.call('RunPodSandbox', { config: sandboxConfig, runtimeHandler: '' });
        const ips: string[] = [];
        for (const container of pod.spec?.containers ?? []) {
          const image = images.get(container.image ?? '');
          // A kubelet would pull it; the floor starts only what the runtime has.
          if (!image) throw new Error(`${container.image}: not in the runtime (ImageStatus found nothing)`);
          const messageFile = join(podDir, `${container.name}-termination-log`);
          writeFileSync(messageFile, '');
          const hostsFile = join(podDir, 'etc-hosts');
          writeFileSync(hostsFile, managedHostsFile(ips, pod.metadata?.name ?? '', ''));
          const config = buildContainerConfig(pod, container, 0, {
            ...resources,
            env: [],
            imageRef: image.ref,
            podIPs: ips,
            mounts: [
              { containerPath: '/etc/hosts', hostPath: hostsFile, readonly: false },
              { containerPath: '/dev/termination-log', hostPath: messageFile, readonly: false },
            ],
            imageUser: image.user,
          });
          mkdirSync(join(sandboxConfig.logDirectory ?? '', containerLogPath(container.name, 0), '..'), { recursive: true });
          const { containerId } = await cri.runtime.call('CreateContainer', { podSandboxId, config, sandboxConfig });
          await cri.runtime.call('StartContainer', { containerId });
        }
        return performance.now() - t0;
      }),
    );
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) {
      const n = settled.filter((r) => r.status === 'rejected').length;
      throw new Error(`${n} of ${o.pods.length} pods did not start; the first: ${String(failed.reason)}`, { cause: failed.reason });
    }
    const latencies = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    return { latencies, allStartedMs: Math.max(...latencies) };
  } finally {
    cri.close();
  }
}

/**
 * Stops and removes every sandbox of the pods' namespace (their containers, network
 * namespaces and CNI addresses go with them), then checks host-local's allocations for any
 * sandbox of theirs left behind and frees it; removes the run's folder. Safe to call after a
 * failed start. Returns what it had to free by hand (nothing, when the runtime tore down all).
 */
export async function removeFloorPods(endpoint: string, namespace: string, dir: string): Promise<string[]> {
  const cri = new CriClient({ endpoint, timeoutMs: callTimeoutMs });
  const leftovers: string[] = [];
  try {
    const { items } = await cri.runtime.call('ListPodSandbox', { filter: { labelSelector: { 'io.kubernetes.pod.namespace': namespace } } });
    const ids = new Set(items.map((s) => s.id));
    await Promise.all(
      items.map(async (s) => {
        await cri.runtime.call('StopPodSandbox', { podSandboxId: s.id }).catch(() => undefined);
        await cri.runtime.call('RemovePodSandbox', { podSandboxId: s.id }).catch((err: unknown) => leftovers.push(`sandbox ${s.id}: ${String(err)}`));
      }),
    );
    for (const network of existsSync(ipamDir) ? readdirSync(ipamDir) : []) {
      for (const f of readdirSync(join(ipamDir, network))) {
        const file = join(ipamDir, network, f);
        let owner: string;
        try {
          owner = readFileSync(file, 'utf8').split('\n')[0]?.trim() ?? '';
        } catch {
          continue;
        }
        if (!ids.has(owner)) continue;
        rmSync(file, { force: true });
        leftovers.push(`CNI address ${network}/${f} of sandbox ${owner}`);
      }
    }
  } finally {
    cri.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return leftovers;
}
