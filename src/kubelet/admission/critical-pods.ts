// Which pods the kubelet treats as critical (upstream kubelet types IsCriticalPod):
// static pods, mirror pods and pods whose priority is system-critical or above. They
// pass the node-pressure admission check, may preempt other pods to fit, and are never
// evicted for pressure.
import type { V1Pod } from '@kubernetes/client-node';
import { configMirrorAnnotation, configSourceAnnotation } from '../pods/labels.js';

/** scheduling.SystemCriticalPriority: twice the highest user-definable priority (1e9). */
export const systemCriticalPriority = 2_000_000_000;

export function isStaticPod(pod: V1Pod): boolean {
  const source = pod.metadata?.annotations?.[configSourceAnnotation];
  return source !== undefined && source !== 'api';
}

export function isMirrorPod(pod: V1Pod): boolean {
  return pod.metadata?.annotations?.[configMirrorAnnotation] !== undefined;
}

export function isCriticalPod(pod: V1Pod): boolean {
  if (isStaticPod(pod) || isMirrorPod(pod)) return true;
  const priority = pod.spec?.priority;
  return priority !== undefined && priority >= systemCriticalPriority;
}

/** Whether `preemptor` may push `preemptee` off the node (upstream Preemptable). */
export function preemptable(preemptor: V1Pod, preemptee: V1Pod): boolean {
  if (isCriticalPod(preemptor) && !isCriticalPod(preemptee)) return true;
  const a = preemptor.spec?.priority;
  const b = preemptee.spec?.priority;
  return a !== undefined && b !== undefined && a > b;
}
