import type { V1Pod } from '@kubernetes/client-node';
import { podGracePeriodSeconds } from './plan-termination.js';
import type { WorkerPhase } from './pod-workers.js';

export interface ReconcileInput {
  /** Every pod some source wants on this node, by UID. */
  desired: ReadonlyMap<string, V1Pod>;
  /** Pods the workers know, with their phase. */
  workers: ReadonlyMap<string, WorkerPhase>;
  /** The last pod object each worker was given, for terminating pods no source has any more. */
  lastKnown: ReadonlyMap<string, V1Pod>;
  /** Pod UIDs with sandboxes or containers in the runtime. */
  inRuntime: ReadonlySet<string>;
  /** Whether every source has delivered its first full list: before that, absence means nothing. */
  sourcesReady: boolean;
  /** Whether a pod's phase is final (Succeeded/Failed) per its latest status. */
  isFinished: (uid: string) => boolean;
}

export type ReconcileAction =
  | { kind: 'sync'; pod: V1Pod }
  | { kind: 'terminate'; pod: V1Pod; gracePeriodSeconds: number; why: string }
  | { kind: 'remove'; uid: string; why: string }
  /** A deleted pod whose containers are already stopped (it had finished): complete the API deletion. */
  | { kind: 'finish-deletion'; pod: V1Pod };

/** A stand-in for a pod that only the runtime still knows (e.g. deleted while the kubelet was down). */
export function orphanPod(uid: string): V1Pod {
  return { metadata: { uid, name: `orphan-${uid.slice(0, 8)}`, namespace: '' }, spec: { containers: [], terminationGracePeriodSeconds: 0 } };
}

/**
 * Decides, for every pod the kubelet has anything to do with, whether to sync it,
 * terminate it (deleted, finished, or no longer wanted) or remove what is left of it
 * (terminated and wanted by no source). Runtime leftovers of pods nobody wants are
 * terminated only once all sources have listed, so a restart adopts instead of killing.
 */
export function planReconcile(input: ReconcileInput): ReconcileAction[] {
  const actions: ReconcileAction[] = [];
  for (const [uid, pod] of input.desired) {
    if (pod.metadata?.deletionTimestamp) {
      if (input.workers.get(uid) === 'terminated') actions.push({ kind: 'finish-deletion', pod });
      else actions.push({ kind: 'terminate', pod, gracePeriodSeconds: podGracePeriodSeconds(pod), why: 'deleted' });
    } else if (input.isFinished(uid) && input.workers.get(uid) !== 'terminated') {
      // A finished pod keeps its API object but none of its containers run any more.
      actions.push({ kind: 'terminate', pod, gracePeriodSeconds: podGracePeriodSeconds(pod), why: 'finished' });
    } else if (!input.isFinished(uid)) {
      actions.push({ kind: 'sync', pod });
    }
  }
  for (const [uid, phase] of input.workers) {
    if (input.desired.has(uid)) continue;
    const pod = input.lastKnown.get(uid) ?? orphanPod(uid);
    if (phase === 'terminated') actions.push({ kind: 'remove', uid, why: 'no longer wanted by any source' });
    else actions.push({ kind: 'terminate', pod, gracePeriodSeconds: podGracePeriodSeconds(pod), why: 'no longer wanted by any source' });
  }
  if (input.sourcesReady) {
    for (const uid of input.inRuntime) {
      if (input.desired.has(uid) || input.workers.has(uid)) continue;
      actions.push({ kind: 'terminate', pod: orphanPod(uid), gracePeriodSeconds: 0, why: 'left in the runtime by a pod that no longer exists' });
    }
  }
  return actions;
}
