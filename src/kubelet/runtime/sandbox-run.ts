import { mkdir } from 'node:fs/promises';
import type { V1Pod } from '@kubernetes/client-node';
import type { PodSandboxConfig } from '../../gen/cri/runtime/v1/PodSandboxConfig.js';
import type { PodSandboxStatus__Output } from '../../gen/cri/runtime/v1/PodSandboxStatus.js';
import { TskubeError } from '../../common/errors.js';
import type { ExecutorDeps } from './executor-deps.js';

export interface RunningSandbox {
  id: string;
  config: PodSandboxConfig;
  ips: string[];
  /** The runtime's PodSandboxStatus of the new sandbox, when the kubelet asked for it (its IPs). */
  status?: PodSandboxStatus__Output;
}

/** Creates the pod's sandbox (network, namespaces) and returns its ID and IPs. */
export async function runSandbox(deps: ExecutorDeps, pod: V1Pod, attempt: number, signal?: AbortSignal): Promise<RunningSandbox> {
  if (deps.podCgroups) {
    try {
      await deps.podCgroups.ensure(pod);
    } catch (err) {
      const e = TskubeError.from(err);
      deps.events.warning(pod, 'FailedCreatePodContainer', `unable to ensure pod container exists: ${e.detail}`);
      throw e.wrap('making the pod cgroup');
    }
  }
  const config = deps.builders.sandbox(pod, attempt);
  for (const w of deps.builders.sandboxWarnings(pod)) {
    deps.events.warning(pod, w.reason, w.message);
    if (w.nodeMessage) deps.nodeWarning?.(w.reason, w.nodeMessage);
  }
  if (config.logDirectory) await mkdir(config.logDirectory, { recursive: true, mode: 0o755 });
  const opts = signal ? { signal, timeoutMs: 4 * 60_000 } : { timeoutMs: 4 * 60_000 };
  let id: string;
  try {
    const runtimeHandler = deps.builders.runtimeHandler(pod);
    ({ podSandboxId: id } = await deps.cri.runtime.call('RunPodSandbox', { config, runtimeHandler }, opts));
  } catch (err) {
    const e = TskubeError.from(err);
    deps.events.warning(pod, 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${e.detail}`);
    throw e.wrap('creating the pod sandbox');
  }
  // With kubelet-managed networking the kubelet has the ADD result itself; the runtime reports the same addresses.
  const fromResult = deps.network?.podIPs(id);
  if (fromResult?.length) return { id, config, ips: fromResult };
  const { status } = await deps.cri.runtime.call('PodSandboxStatus', { podSandboxId: id }, opts);
  const ips = status?.network?.ip ? [status.network.ip, ...status.network.additionalIps.map((a) => a.ip)] : [];
  return { id, config, ips, ...(status ? { status } : {}) };
}
