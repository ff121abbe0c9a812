// The status the kubelet reports for a pod it stops or refuses on its own: phase
// Failed with a reason and message (Evicted, Preempting, Terminated for node shutdown,
// or an admission reason), and for a pod it stops the DisruptionTarget condition
// upstream adds (reason TerminationByKubelet). Pure.
import type { V1Pod, V1PodCondition, V1PodStatus } from '@kubernetes/client-node';
import { qosClass } from './qos.js';

export interface KubeletStop {
  reason: string;
  message: string;
  /** The DisruptionTarget condition's message; none for a pod refused at admission. */
  disruption?: string;
}

export function kubeletFailedStatus(pod: V1Pod, current: V1PodStatus | undefined, stop: KubeletStop, now: Date): V1PodStatus {
  const status: V1PodStatus = { ...(current ?? {}), phase: 'Failed', reason: stop.reason, message: stop.message, qosClass: qosClass(pod) };
  if (stop.disruption !== undefined) {
    const condition: V1PodCondition = {
      type: 'DisruptionTarget',
      status: 'True',
      reason: 'TerminationByKubelet',
      message: stop.disruption,
      lastTransitionTime: new Date(Math.floor(now.getTime() / 1000) * 1000),
    };
    if (pod.metadata?.generation !== undefined) condition.observedGeneration = pod.metadata.generation;
    status.conditions = [...(current?.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget'), condition];
  }
  return status;
}
