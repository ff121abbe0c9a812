// What a pod asks of the node, as the scheduler's resource fit counts it: the larger
// of the regular containers plus sidecars and the init-container peak, pod-level
// resources where set, plus the RuntimeClass overhead.
import type { V1Pod } from '@kubernetes/client-node';
import { podTotal, type ResourceList } from '../cri-requests/pod-resources.js';
import { quantityMillis, quantityValue } from '../../kube/quantity.js';

export interface PodRequests {
  cpuMillis: number;
  memoryBytes: number;
  ephemeralBytes: number;
}

/** Reads one resource out of a resource list (0 when absent), naming the field in any error. */
export const pickResource = (name: string, value: (q: string | number, field: string) => number) => (list: ResourceList, field: string) => {
  const q = list?.[name];
  return q === undefined ? 0 : value(q, `${field}.${name}`);
};

export function podRequests(pod: V1Pod): PodRequests {
  const overhead = pod.spec?.overhead ?? {};
  const total = (name: string, value: (q: string | number, field: string) => number) =>
    podTotal(pod, 'requests', pickResource(name, value)) + pickResource(name, value)(overhead, 'spec.overhead');
  return {
    cpuMillis: total('cpu', quantityMillis),
    memoryBytes: total('memory', quantityValue),
    ephemeralBytes: total('ephemeral-storage', quantityValue),
  };
}

/** Requests of one resource, by upstream's resource names ("pods" counts 1). */
export function podRequest(pod: V1Pod, resource: 'cpu' | 'memory' | 'ephemeral-storage' | 'pods'): number {
  if (resource === 'pods') return 1;
  const r = podRequests(pod);
  return resource === 'cpu' ? r.cpuMillis : resource === 'memory' ? r.memoryBytes : r.ephemeralBytes;
}
