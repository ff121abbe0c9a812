import { TskubeError } from '../../../common/errors.js';
import type { ContainerStats__Output } from '../../../gen/cri/runtime/v1/ContainerStats.js';
import type { PodSandboxStats__Output } from '../../../gen/cri/runtime/v1/PodSandboxStats.js';
import type { KubeletHost } from '../kubelet-host.js';
import { buildSummary } from './build-summary.js';
import type { NodeSampler } from './node-sampler.js';
import type { Summary } from './summary-types.js';

/**
 * Samples the node and asks the runtime for its pod and container stats, then builds the
 * summary. A runtime without ListPodSandboxStats (older CRI implementations) still gives
 * container stats, from which pod numbers are summed.
 */
export async function collectSummary(host: KubeletHost, sampler: NodeSampler, options: { onlyCpuAndMemory?: boolean } = {}): Promise<Summary> {
  const call = { timeoutMs: 10_000 };
  const [node, pods, sandboxStats, containerStats] = await Promise.all([
    sampler.sample(options),
    host.runtimePods(),
    host.cri.runtime.call('ListPodSandboxStats', {}, call).then(
      (r): PodSandboxStats__Output[] => r.stats,
      (err: unknown) => {
        if (TskubeError.from(err).code === 'unimplemented') return [];
        throw err;
      },
    ),
    host.cri.runtime.call('ListContainerStats', {}, call).then((r): ContainerStats__Output[] => r.stats),
  ]);
  return buildSummary({
    nodeName: host.nodeName,
    node,
    pods,
    sandboxStats,
    containerStats,
    podStartTime: (uid) => {
      const t = host.podStatus(uid)?.startTime;
      return t === undefined ? undefined : new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');
    },
    ...(options.onlyCpuAndMemory ? { onlyCpuAndMemory: true } : {}),
  });
}
