import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { qosClass } from '../pods/qos.js';
import { isSidecar, resourceValue } from './pod-resources.js';

// oom_score_adj values the upstream kubelet gives containers (pkg/kubelet/qos/policy.go).
export const guaranteedOomScoreAdj = -997;
export const bestEffortOomScoreAdj = 1000;

function memoryRequest(pod: V1Pod, c: V1Container): number {
  const init = (pod.spec?.initContainers ?? []).some((i) => i.name === c.name);
  return resourceValue(c.resources?.requests, 'memory', `spec.${init ? 'initContainers' : 'containers'}[${c.name}].resources.requests`) ?? 0;
}

function linear(request: number, capacity: number): number {
  // Integer arithmetic as upstream (1000 * request overflows a double's exact range).
  return 1000 - Number((1000n * BigInt(request)) / BigInt(capacity));
}

/**
 * The container's oom_score_adj: -997 for node-critical pods and Guaranteed pods, 1000 for
 * BestEffort; Burstable scales with the share of node memory the container requests
 * (a container asking for 10% of memory gets 900), so that containers over their request
 * die first. A sidecar scores no higher than the pod's smallest regular container.
 * The result stays within [3, 999] so Burstable sits strictly between the other two.
 */
export function containerOomScoreAdj(pod: V1Pod, container: V1Container, nodeMemoryCapacityBytes: number): number {
  if (pod.spec?.priorityClassName === 'system-node-critical') return guaranteedOomScoreAdj;
  const qos = qosClass(pod);
  if (qos === 'Guaranteed') return guaranteedOomScoreAdj;
  if (qos === 'BestEffort') return bestEffortOomScoreAdj;
  const capacity = nodeMemoryCapacityBytes > 0 ? nodeMemoryCapacityBytes : 1;
  let adj = linear(memoryRequest(pod, container), capacity);
  if (isSidecar(pod, container)) {
    const regular = pod.spec?.containers ?? [];
    if (regular.length > 0) {
      const minRequest = Math.min(...regular.map((c) => memoryRequest(pod, c)));
      adj = Math.min(adj, linear(minRequest, capacity));
    }
  }
  if (adj < 1000 + guaranteedOomScoreAdj) return 1000 + guaranteedOomScoreAdj;
  if (adj === bestEffortOomScoreAdj) return adj - 1;
  return adj;
}
