import type { V1PodStatus } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { mergePodStatus } from '../../src/kubelet/status/merge-pod-status.js';
import { type Json, podStatusPatch } from '../../src/kubelet/status/status-patch.js';

type JsonObject = { [key: string]: Json };
const now = new Date('2026-01-01T00:05:00Z');

describe('podStatusPatch', () => {
  // The expected patches are what upstream's statusutil.PatchPodStatus (CreateTwoWayMergePatch
  // with v1.Pod, k8s.io/apimachinery v0.36.3) makes from the same two statuses.
  it('patches changed conditions by type, keeps the order, replaces container statuses whole', () => {
    const old: JsonObject = {
      phase: 'Running',
      podIP: '10.0.0.1',
      podIPs: [{ ip: '10.0.0.1' }],
      conditions: [
        { type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' },
        { type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' },
      ],
      containerStatuses: [{ name: 'a', ready: true, restartCount: 0, image: 'i', imageID: 'x', state: { running: { startedAt: '2026-01-01T00:00:00Z' } } }],
    };
    const next: JsonObject = {
      ...old,
      conditions: [
        {
          type: 'Ready',
          status: 'False',
          reason: 'ContainersNotReady',
          message: 'containers with unready status: [a]',
          lastTransitionTime: '2026-01-01T00:01:00Z',
        },
        { type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' },
      ],
      containerStatuses: [
        { name: 'a', ready: false, restartCount: 1, image: 'i', imageID: 'x', lastState: {}, state: { waiting: { reason: 'CrashLoopBackOff' } } },
      ],
    };
    expect(podStatusPatch('u1', old, next)).toEqual(
      JSON.parse(
        '{"metadata":{"uid":"u1"},"status":{"$setElementOrder/conditions":[{"type":"Ready"},{"type":"DisruptionTarget"}],"conditions":[{"lastTransitionTime":"2026-01-01T00:01:00Z","message":"containers with unready status: [a]","reason":"ContainersNotReady","status":"False","type":"Ready"}],"containerStatuses":[{"image":"i","imageID":"x","lastState":{},"name":"a","ready":false,"restartCount":1,"state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}}',
      ),
    );
  });

  it('deletes what went with null and $patch: delete', () => {
    const old: JsonObject = {
      phase: 'Running',
      message: 'm',
      reason: 'r',
      conditions: [
        { type: 'Ready', status: 'True' },
        { type: 'ContainersReady', status: 'True' },
        { type: 'PodResizePending', status: 'True', reason: 'Deferred' },
      ],
    };
    const next: JsonObject = {
      phase: 'Failed',
      conditions: [
        { type: 'ContainersReady', status: 'False', reason: 'PodFailed' },
        { type: 'Ready', status: 'False', reason: 'PodFailed' },
      ],
    };
    expect(podStatusPatch('u2', old, next)).toEqual(
      JSON.parse(
        '{"metadata":{"uid":"u2"},"status":{"$setElementOrder/conditions":[{"type":"ContainersReady"},{"type":"Ready"}],"conditions":[{"reason":"PodFailed","status":"False","type":"ContainersReady"},{"reason":"PodFailed","status":"False","type":"Ready"},{"$patch":"delete","type":"PodResizePending"}],"message":null,"phase":"Failed","reason":null}}',
      ),
    );
  });

  it('is nothing when nothing changed', () => {
    const s: JsonObject = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
    expect(podStatusPatch('u', s, structuredClone(s))).toBeUndefined();
  });
});

describe('mergePodStatus', () => {
  const gate = { type: 'example.com/ready-for-traffic', status: 'True' as const };
  const disruption = { type: 'DisruptionTarget', status: 'True' as const, reason: 'TerminationByKubelet', message: 'evicted' };

  it("keeps other writers' conditions and replaces the kubelet's own", () => {
    const api: V1PodStatus = { phase: 'Running', conditions: [gate, { type: 'Ready', status: 'False' }] };
    const next: V1PodStatus = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
    expect(mergePodStatus(api, next, true, now).conditions).toEqual([gate, { type: 'Ready', status: 'True' }]);
  });

  it('holds back a terminal phase and DisruptionTarget while containers may run, then sends both', () => {
    const api: V1PodStatus = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
    const next: V1PodStatus = { phase: 'Failed', reason: 'Evicted', message: 'low on memory', conditions: [{ type: 'Ready', status: 'True' }, disruption] };
    const held = mergePodStatus(api, next, true, now);
    expect(held).toMatchObject({ phase: 'Running' });
    expect(held.reason).toBeUndefined();
    expect(held.conditions?.map((c) => c.type)).toEqual(['Ready']);
    const sent = mergePodStatus(api, next, false, now);
    expect(sent).toMatchObject({ phase: 'Failed', reason: 'Evicted', message: 'low on memory' });
    // A terminal pod is never Ready.
    expect(sent.conditions).toEqual([
      { type: 'Ready', status: 'False', reason: 'PodFailed', lastTransitionTime: now },
      { ...disruption, lastTransitionTime: now },
    ]);
  });
});
