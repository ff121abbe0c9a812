// The status the kubelet sends, merged with the one the API holds, as upstream's status
// manager merges them (mergePodStatus): conditions other writers own (readiness gates,
// DisruptionTarget set by the eviction API or the taint manager) are kept; the kubelet's
// own conditions are its own; DisruptionTarget and a terminal phase wait until no
// container can still run, so a pod is never reported finished while it runs. Pure.
import type { V1PodCondition, V1PodStatus } from '@kubernetes/client-node';

/** Conditions the kubelet owns: every other one is kept as the API has it. */
export const kubeletConditions: ReadonlySet<string> = new Set([
  'PodScheduled',
  'Ready',
  'Initialized',
  'ContainersReady',
  'PodResizeInProgress',
  'PodResizePending',
  'PodReadyToStartContainers',
]);

/** Conditions the kubelet shares with other writers (upstream's PodConditionSharedByKubelet). */
const sharedConditions: ReadonlySet<string> = new Set(['DisruptionTarget']);

const isTerminal = (phase: string | undefined) => phase === 'Succeeded' || phase === 'Failed';

function wholeSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

/**
 * `next` (what the kubelet computed) merged into `api` (what the API server holds).
 * `couldHaveRunningContainers`: the pod worker has not yet finished stopping the pod.
 */
export function mergePodStatus(api: V1PodStatus, next: V1PodStatus, couldHaveRunningContainers: boolean, now: Date): V1PodStatus {
  const toTerminal = !isTerminal(api.phase) && isTerminal(next.phase);
  const conditions: V1PodCondition[] = (api.conditions ?? []).filter((c) => !kubeletConditions.has(c.type));
  for (const c of next.conditions ?? []) {
    if (kubeletConditions.has(c.type)) conditions.push(c);
    else if (sharedConditions.has(c.type) && toTerminal && !couldHaveRunningContainers) {
      // Sent only now: its transition time is when it is sent, unless the API has it already.
      const before = (api.conditions ?? []).find((x) => x.type === c.type);
      const sent = { ...c, lastTransitionTime: before && before.status === c.status ? before.lastTransitionTime : wholeSeconds(now) };
      const i = conditions.findIndex((x) => x.type === c.type);
      if (i >= 0) conditions[i] = sent;
      else conditions.push(sent);
    }
  }
  const merged: V1PodStatus = { ...next, conditions };
  // What the kubelet does not write stays as the API has it.
  if (api.resourceClaimStatuses) merged.resourceClaimStatuses = api.resourceClaimStatuses;
  else delete merged.resourceClaimStatuses;
  if (toTerminal && couldHaveRunningContainers) {
    setOrDelete(merged, 'phase', api.phase);
    setOrDelete(merged, 'reason', api.reason);
    setOrDelete(merged, 'message', api.message);
  }
  if (isTerminal(merged.phase)) {
    const reason = merged.phase === 'Failed' ? 'PodFailed' : 'PodCompleted';
    for (const type of ['ContainersReady', 'Ready']) {
      const i = conditions.findIndex((c) => c.type === type);
      const c = conditions[i];
      if (c?.status === 'True') conditions[i] = { ...c, status: 'False', reason, lastTransitionTime: wholeSeconds(now) };
    }
  }
  return merged;
}

function setOrDelete(status: V1PodStatus, key: 'phase' | 'reason' | 'message', value: string | undefined): void {
  if (value === undefined) delete status[key];
  else status[key] = value;
}
