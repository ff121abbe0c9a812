// spec.activeDeadlineSeconds as upstream's active deadline handler enforces it: counted
// from the status's startTime (a pod without one has not started, so no deadline yet),
// and once passed the pod is Failed with reason DeadlineExceeded and its containers stop.
import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { KubeletStop } from './terminal-status.js';

export const deadlineExceeded: KubeletStop = {
  reason: 'DeadlineExceeded',
  message: 'Pod was active on the node longer than the specified deadline',
};

/** When the pod's active deadline passes (ms since the epoch), or undefined when it has none yet. */
export function activeDeadlineAt(pod: V1Pod, status: V1PodStatus | undefined): number | undefined {
  const seconds = pod.spec?.activeDeadlineSeconds;
  const start = status?.startTime;
  if (seconds === undefined || seconds === null || !start) return undefined;
  const startMs = new Date(start).getTime();
  return Number.isNaN(startMs) ? undefined : startMs + seconds * 1000;
}
