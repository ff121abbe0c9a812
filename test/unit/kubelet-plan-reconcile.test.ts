import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { planReconcile, type ReconcileInput } from '../../src/kubelet/pods/plan-reconcile.js';
import type { WorkerPhase } from '../../src/kubelet/pods/pod-workers.js';

const pod = (uid: string, extra: V1Pod['metadata'] = {}, grace = 30): V1Pod => ({
  metadata: { uid, name: uid, namespace: 'default', ...extra },
  spec: { containers: [], terminationGracePeriodSeconds: grace },
});

function input(over: Partial<ReconcileInput>): ReconcileInput {
  return { desired: new Map(), workers: new Map(), lastKnown: new Map(), inRuntime: new Set(), sourcesReady: true, isFinished: () => false, ...over };
}
const summary = (i: ReconcileInput) =>
  planReconcile(i).map((a) =>
    a.kind === 'remove'
      ? `remove ${a.uid}`
      : a.kind === 'terminate'
        ? `terminate ${a.pod.metadata?.uid} ${a.gracePeriodSeconds}s (${a.why})`
        : `${a.kind} ${a.pod.metadata?.uid}`,
  );

describe('planReconcile', () => {
  it('syncs wanted pods and terminates deleted ones with their deletion grace period', () => {
    const desired = new Map([
      ['a', pod('a')],
      ['b', pod('b', { deletionTimestamp: new Date(), deletionGracePeriodSeconds: 5 })],
    ]);
    expect(summary(input({ desired }))).toEqual(['sync a', 'terminate b 5s (deleted)']);
  });

  it('completes the API deletion of a deleted pod whose containers already stopped', () => {
    const desired = new Map([['a', pod('a', { deletionTimestamp: new Date() })]]);
    const actions = planReconcile(input({ desired, workers: new Map([['a', 'terminated' as WorkerPhase]]) }));
    expect(actions.map((a) => a.kind)).toEqual(['finish-deletion']);
  });

  it('stops the containers of a finished pod once, then leaves it alone', () => {
    const desired = new Map([['a', pod('a')]]);
    expect(summary(input({ desired, isFinished: () => true, workers: new Map([['a', 'syncing' as WorkerPhase]]) }))).toEqual(['terminate a 30s (finished)']);
    expect(summary(input({ desired, isFinished: () => true, workers: new Map([['a', 'terminated' as WorkerPhase]]) }))).toEqual([]);
  });

  it('terminates pods no source wants, then removes them once terminated', () => {
    const lastKnown = new Map([['a', pod('a', {}, 12)]]);
    expect(summary(input({ workers: new Map([['a', 'syncing' as WorkerPhase]]), lastKnown }))).toEqual(['terminate a 12s (no longer wanted by any source)']);
    expect(summary(input({ workers: new Map([['a', 'terminated' as WorkerPhase]]), lastKnown }))).toEqual(['remove a']);
  });

  it('adopts what runs: runtime leftovers are killed only after every source listed', () => {
    const inRuntime = new Set(['a', 'ghost']);
    const desired = new Map([['a', pod('a')]]);
    expect(summary(input({ desired, inRuntime, sourcesReady: false }))).toEqual(['sync a']);
    expect(summary(input({ desired, inRuntime, sourcesReady: true }))).toEqual([
      'sync a',
      'terminate ghost 0s (left in the runtime by a pod that no longer exists)',
    ]);
  });
});
