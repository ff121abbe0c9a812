// What of a pod object a sync reads, as one string, so the reconciler can tell a change that
// needs a sync from one that does not. Left out: what changes with every write
// (metadata.resourceVersion, managedFields) and the status fields the kubelet writes itself.
// Kept: the spec and the rest of the metadata, and what other writers put in the status
// (their conditions: readiness gates, DisruptionTarget; a terminal phase with its reason).
// Upstream's pod config makes the same cut: a status-only update is a RECONCILE, which
// syncs the pod only when its readiness gates need it, not an UPDATE. Pure.
import type { V1Pod } from '@kubernetes/client-node';
import { kubeletConditions } from '../status/merge-pod-status.js';

export function podSyncKey(pod: V1Pod): string {
  const { resourceVersion: _rv, managedFields: _mf, ...metadata } = pod.metadata ?? {};
  const s = pod.status ?? {};
  const terminal = s.phase === 'Succeeded' || s.phase === 'Failed';
  const status = {
    conditions: (s.conditions ?? []).filter((c) => !kubeletConditions.has(c.type)),
    phase: terminal ? s.phase : undefined,
    reason: s.reason,
    message: s.message,
    qosClass: s.qosClass,
  };
  return JSON.stringify([metadata, pod.spec, status]);
}
