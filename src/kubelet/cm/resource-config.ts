// What the kubelet writes into its cgroups (upstream cm.ResourceConfig) and how it
// arrives at it: a pod's cgroup from its requests and limits by QoS class
// (ResourceConfigForPod), the Burstable and BestEffort classes' cpu weight, and the
// kubepods cgroup limited to allocatable (or capacity when not enforced). Pure.
import type { V1Pod } from '@kubernetes/client-node';
import { milliCpuToQuota, milliCpuToShares, minCpuShares } from '../cri-requests/linux-resources.js';
import { pickResource } from '../admission/pod-requests.js';
import { podTotal } from '../cri-requests/pod-resources.js';
import { quantityMillis, quantityValue } from '../../kube/quantity.js';
import { qosClass } from '../pods/qos.js';

export interface ResourceConfig {
  cpuShares?: number;
  /** CFS quota in µs; 0 or absent: no quota. */
  cpuQuota?: number;
  cpuPeriod?: number;
  memoryLimitBytes?: number;
  pidsLimit?: number;
}

export interface PodCgroupOptions {
  /** cpuCFSQuota: limits become CFS quotas. */
  enforceCpuLimits: boolean;
  /** cpuCFSQuotaPeriod in µs. */
  cpuPeriodUs: number;
  /** podPidsLimit; -1 or 0: none. */
  podPidsLimit: number;
}

function overhead(pod: V1Pod, name: string, value: (q: string | number, field: string) => number): number {
  return pickResource(name, value)(pod.spec?.overhead, 'spec.overhead');
}

/** Whether every container (init ones too) declares a limit for the resource. */
function allLimit(pod: V1Pod, name: string): boolean {
  const podLevel = pod.spec?.resources?.limits?.[name];
  if (podLevel !== undefined) return true;
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].every((c) => {
    const q = c.resources?.limits?.[name];
    return q !== undefined && quantityValue(q) !== 0;
  });
}

export function podResourceConfig(pod: V1Pod, o: PodCgroupOptions): ResourceConfig {
  const cpuRequest = podTotal(pod, 'requests', pickResource('cpu', quantityMillis)) + overhead(pod, 'cpu', quantityMillis);
  const cpuLimit = podTotal(pod, 'limits', pickResource('cpu', quantityMillis)) + overhead(pod, 'cpu', quantityMillis);
  const memoryLimit = podTotal(pod, 'limits', pickResource('memory', quantityValue)) + overhead(pod, 'memory', quantityValue);
  const quota = o.enforceCpuLimits ? milliCpuToQuota(cpuLimit, o.cpuPeriodUs) : -1;
  const out: ResourceConfig = {};
  switch (qosClass(pod)) {
    case 'Guaranteed':
      out.cpuShares = milliCpuToShares(cpuRequest);
      out.cpuQuota = quota;
      out.cpuPeriod = o.cpuPeriodUs;
      out.memoryLimitBytes = memoryLimit;
      break;
    case 'Burstable':
      out.cpuShares = milliCpuToShares(cpuRequest);
      if (allLimit(pod, 'cpu')) {
        out.cpuQuota = quota;
        out.cpuPeriod = o.cpuPeriodUs;
      }
      if (allLimit(pod, 'memory')) out.memoryLimitBytes = memoryLimit;
      break;
    case 'BestEffort':
      out.cpuShares = minCpuShares;
      break;
  }
  if (o.podPidsLimit > 0) out.pidsLimit = o.podPidsLimit;
  return out;
}

/** The Burstable class shares the cpu its pods request; BestEffort gets the minimum (upstream qos container manager). */
export function burstableCpuShares(pods: readonly V1Pod[]): number {
  let millis = 0;
  for (const p of pods) if (qosClass(p) === 'Burstable') millis += podTotal(p, 'requests', pickResource('cpu', quantityMillis));
  return milliCpuToShares(millis);
}

export interface NodeResources {
  cpuMillis: number;
  memoryBytes: number;
  /** pid_max. */
  pids: number;
}

export interface Reservation {
  cpuMillis: number;
  memoryBytes: number;
  pids: number;
}

export const noReservation: Reservation = { cpuMillis: 0, memoryBytes: 0, pids: 0 };

/**
 * The kubepods cgroup: capacity, or capacity less kubeReserved and systemReserved when
 * enforceNodeAllocatable has "pods" (the hard eviction threshold is not taken off here,
 * as upstream does not).
 */
export function kubepodsResourceConfig(capacity: NodeResources, reserved: Reservation, enforcePods: boolean): ResourceConfig {
  const r = enforcePods ? reserved : noReservation;
  return {
    cpuShares: milliCpuToShares(Math.max(0, capacity.cpuMillis - r.cpuMillis)),
    memoryLimitBytes: Math.max(0, capacity.memoryBytes - r.memoryBytes),
    ...(capacity.pids > 0 ? { pidsLimit: Math.max(0, capacity.pids - r.pids) } : {}),
  };
}

/** A reserved cgroup (systemReservedCgroup, kubeReservedCgroup) limited to its reservation; cpu only when compressible. */
export function reservedResourceConfig(reserved: Reservation, compressibleOnly: boolean): ResourceConfig {
  const out: ResourceConfig = {};
  if (reserved.cpuMillis > 0) out.cpuShares = milliCpuToShares(reserved.cpuMillis);
  if (compressibleOnly) return out;
  if (reserved.memoryBytes > 0) out.memoryLimitBytes = reserved.memoryBytes;
  if (reserved.pids > 0) out.pidsLimit = reserved.pids;
  return out;
}
