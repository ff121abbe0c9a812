import type { ContainerStatus__Output } from '../../../gen/cri/runtime/v1/ContainerStatus.js';
import type { PodSandboxStatus__Output } from '../../../gen/cri/runtime/v1/PodSandboxStatus.js';
import { rfc3339Nano, zeroTimeRfc3339 } from './go-format.js';

// crictl inspect / inspectp print the status with every field (unset messages as null)
// and its times as RFC 3339 strings instead of nanosecond counts.

/** A container status as `crictl inspect` prints it. */
export function containerStatusJson(cs: ContainerStatus__Output): Record<string, unknown> {
  const started = cs.state !== 'CONTAINER_CREATED';
  const finished = cs.state === 'CONTAINER_EXITED' || (cs.state === 'CONTAINER_UNKNOWN' && BigInt(cs.finishedAt || 0) > 0n);
  return {
    ...cs,
    createdAt: rfc3339Nano(cs.createdAt),
    startedAt: started ? rfc3339Nano(cs.startedAt) : zeroTimeRfc3339,
    finishedAt: finished ? rfc3339Nano(cs.finishedAt) : zeroTimeRfc3339,
  };
}

/** A pod sandbox status as `crictl inspectp` prints it. */
export function podStatusJson(ps: PodSandboxStatus__Output): Record<string, unknown> {
  return { ...ps, createdAt: rfc3339Nano(ps.createdAt) };
}
