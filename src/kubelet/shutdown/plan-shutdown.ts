// The graceful node shutdown order (upstream nodeshutdown manager): regular pods first,
// with shutdownGracePeriod - shutdownGracePeriodCriticalPods to stop in, then critical
// pods with shutdownGracePeriodCriticalPods; no pod gets more than its own grace period.
import type { V1Pod } from '@kubernetes/client-node';
import { isCriticalPod } from '../admission/critical-pods.js';

export interface ShutdownGroup {
  pods: V1Pod[];
  /** Seconds each pod of the group has. */
  gracePeriodSeconds: number;
  /** How long the group as a whole may take (ms). */
  budgetMs: number;
}

export function planShutdown(pods: readonly V1Pod[], shutdownGracePeriodMs: number, criticalGracePeriodMs: number): ShutdownGroup[] {
  const regularMs = Math.max(0, shutdownGracePeriodMs - criticalGracePeriodMs);
  const groups: ShutdownGroup[] = [
    { pods: pods.filter((p) => !isCriticalPod(p)), gracePeriodSeconds: Math.floor(regularMs / 1000), budgetMs: regularMs },
    { pods: pods.filter(isCriticalPod), gracePeriodSeconds: Math.floor(criticalGracePeriodMs / 1000), budgetMs: criticalGracePeriodMs },
  ];
  return groups.filter((g) => g.pods.length > 0);
}

export const nodeShutdownStop = {
  reason: 'Terminated',
  message: 'Pod was terminated in response to imminent node shutdown.',
  disruption: 'Pod was terminated in response to imminent node shutdown.',
};
