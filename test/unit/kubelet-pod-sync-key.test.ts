import type { V1Pod } from '@kubernetes/client-node';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { PodReconciler } from '../../src/kubelet/pods/pod-reconciler.js';
import { podSyncKey } from '../../src/kubelet/pods/pod-sync-key.js';
import type { PodWorkers, WorkerPhase } from '../../src/kubelet/pods/pod-workers.js';

const pod = (over: Partial<V1Pod> = {}): V1Pod => ({
  metadata: { uid: 'u1', name: 'web', namespace: 'default', resourceVersion: '1', ...over.metadata },
  spec: { containers: [{ name: 'app', image: 'busybox' }], ...over.spec },
  status: { phase: 'Pending', ...over.status },
});

describe('podSyncKey', () => {
  it("does not change with the kubelet's own status writes or the resourceVersion", () => {
    const after = pod({
      metadata: { resourceVersion: '2' },
      status: {
        phase: 'Running',
        podIP: '10.88.0.5',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [{ name: 'app', image: 'busybox', imageID: '', ready: true, restartCount: 0 }],
      },
    });
    expect(podSyncKey(after)).toBe(podSyncKey(pod()));
  });

  it("changes with the spec, the metadata, other writers' conditions and a terminal phase", () => {
    const base = podSyncKey(pod());
    expect(podSyncKey(pod({ spec: { containers: [{ name: 'app', image: 'busybox:2' }] } }))).not.toBe(base);
    expect(podSyncKey(pod({ metadata: { labels: { a: 'b' } } }))).not.toBe(base);
    expect(podSyncKey(pod({ metadata: { deletionTimestamp: new Date(0) } }))).not.toBe(base);
    expect(podSyncKey(pod({ status: { conditions: [{ type: 'example.com/gate', status: 'True' }] } }))).not.toBe(base);
    expect(podSyncKey(pod({ status: { phase: 'Failed', reason: 'Evicted' } }))).not.toBe(base);
  });
});

/** Workers that only record the resourceVersion of each pod they are handed. */
function recordingWorkers(): { workers: PodWorkers; updates: string[] } {
  const phases = new Map<string, WorkerPhase>();
  const updates: string[] = [];
  const workers = {
    update: (p: V1Pod) => {
      phases.set(p.metadata?.uid ?? '', 'syncing');
      updates.push(p.metadata?.resourceVersion ?? '');
    },
    phase: (uid: string) => phases.get(uid),
    uids: () => [...phases.keys()],
    terminate: () => undefined,
    forget: () => true,
  } as unknown as PodWorkers;
  return { workers, updates };
}

describe('PodReconciler between resyncs', () => {
  it('hands a pod over when it is new or changed, not for a status-only update; the periodic resync hands every pod over', async () => {
    const { workers, updates } = recordingWorkers();
    const r = new PodReconciler({
      workers,
      sources: ['api'],
      runtimeUids: async () => new Set(),
      isFinished: () => false,
      remove: async () => undefined,
      finishDeletion: async () => undefined,
      log: pino({ level: 'silent' }),
    });
    r.setPods('api', [pod()]);
    await r.reconcileOnce(false);
    r.setPods('api', [pod({ metadata: { resourceVersion: '2' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } })]);
    await r.reconcileOnce(false);
    expect(updates).toEqual(['1']);
    r.setPods('api', [pod({ metadata: { resourceVersion: '3', labels: { tier: 'web' } } })]);
    await r.reconcileOnce(false);
    expect(updates).toEqual(['1', '3']);
    await r.reconcileOnce(true);
    expect(updates).toEqual(['1', '3', '3']);
  });
});
