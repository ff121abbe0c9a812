import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { decode, encode } from '../../src/kube/codec.js';
import type { Json } from '../../src/kubelet/status/status-patch.js';
import { applyStatusPatch } from '../support/strategic-patch.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TskubeError } from '../../src/common/errors.js';
import { podStatusEqual } from '../../src/kubelet/pods/compute-pod-status.js';
import type { PodStatusApi } from '../../src/kubelet/status/pod-status-api.js';
import { StatusManager } from '../../src/kubelet/status/status-manager.js';
import { testPod, tick, useFakeClock } from '../support/pod-lifecycle-harness.js';

/** An API server's pod status endpoint: the pods it holds, the patches it took, and failures to hand out first. */
class StatusEndpoint implements PodStatusApi {
  readonly pods = new Map<string, V1Pod>();
  readonly patches = new Map<string, { [key: string]: Json }[]>();
  readonly failures: TskubeError[] = [];
  async patchStatus(_namespace: string, name: string, patch: { [key: string]: Json }): Promise<void> {
    const f = this.failures.shift();
    if (f) throw f;
    this.patches.set(name, [...(this.patches.get(name) ?? []), patch]);
    const pod = this.pods.get(name);
    if (!pod) throw new TskubeError('not-found', `pods "${name}" not found`);
    const status = applyStatusPatch(encode('V1PodStatus', pod.status ?? {}) as { [key: string]: Json }, patch['status'] as { [key: string]: Json });
    this.pods.set(name, { ...pod, status: decode('V1Pod', { status }).status ?? {} });
  }
  async deleteFinal(): Promise<void> {}
  async get(): Promise<V1Pod | undefined> {
    return undefined;
  }
  /** The pod as the API holds it (what the kubelet's watch would show). */
  add(pod: V1Pod): V1Pod {
    this.pods.set(pod.metadata?.name ?? '', structuredClone(pod));
    return pod;
  }
  written(name: string): V1PodStatus | undefined {
    return this.pods.get(name)?.status;
  }
}

const runningWith = (ip: string): V1PodStatus => ({ phase: 'Running', podIP: ip, conditions: [] });

describe('StatusManager', () => {
  let api: StatusEndpoint;
  let errors: string[];
  let manager: StatusManager;
  let controller: AbortController;
  let running: Set<string>;
  beforeEach(() => {
    useFakeClock();
    api = new StatusEndpoint();
    errors = [];
    running = new Set();
    manager = new StatusManager({
      api,
      target: (pod) => api.pods.get(pod.metadata?.name ?? ''),
      couldHaveRunningContainers: (uid) => running.has(uid),
      equal: podStatusEqual,
      onError: (pod, err) => errors.push(`${pod.metadata?.name}: ${err.message}`),
      retryMs: 2000,
    });
    controller = new AbortController();
    void manager.run(controller.signal);
  });
  afterEach(() => {
    controller.abort();
    vi.useRealTimers();
  });

  it('writes a status once, and again only when it changes, patching only what changed', async () => {
    const pod = api.add(testPod('web', { containers: [] }));
    manager.set(pod, runningWith('10.88.0.2'));
    await tick(100);
    manager.set(pod, runningWith('10.88.0.2'));
    await tick(100);
    manager.set(pod, runningWith('10.88.0.3'));
    await tick(100);
    expect(api.patches.get('web')).toEqual([
      { metadata: { uid: pod.metadata?.uid }, status: { phase: 'Running', podIP: '10.88.0.2' } },
      { metadata: { uid: pod.metadata?.uid }, status: { podIP: '10.88.0.3' } },
    ]);
    expect(api.written('web')?.podIP).toBe('10.88.0.3');
    expect(manager.statusOf(pod.metadata?.uid ?? '')?.podIP).toBe('10.88.0.3');
  });

  it('retries a failed write after retryMs, with one error line per failure', async () => {
    const pod = api.add(testPod('web', { containers: [] }));
    api.failures.push(new TskubeError('unavailable', 'PATCH pods/web/status: connection refused'));
    manager.set(pod, runningWith('10.88.0.2'));
    await tick(100);
    expect(api.written('web')?.podIP).toBeUndefined();
    expect(errors).toEqual(['web: unavailable: PATCH pods/web/status: connection refused']);
    await tick(1800);
    expect(api.written('web')?.podIP).toBeUndefined();
    await tick(200);
    expect(api.written('web')?.podIP).toBe('10.88.0.2');
  });

  it('forgets a pod the API server no longer has (404) or that is another pod now (UID precondition)', async () => {
    const gone = api.add(testPod('gone', { containers: [] }));
    const replaced = api.add(testPod('replaced', { containers: [] }));
    api.failures.push(new TskubeError('not-found', 'pods "gone" not found'), new TskubeError('failed-precondition', 'UID mismatch'));
    manager.set(gone, runningWith('10.88.0.2'));
    manager.set(replaced, runningWith('10.88.0.3'));
    await tick(5000);
    expect(manager.statusOf(gone.metadata?.uid ?? '')).toBeUndefined();
    expect(manager.statusOf(replaced.metadata?.uid ?? '')).toBeUndefined();
    expect(api.written('gone')).toBeUndefined();
    expect(errors).toEqual([]);
  });

  it('keeps conditions other writers set (a readiness gate, DisruptionTarget) and patches its own by type', async () => {
    const gate = { type: 'example.com/gate', status: 'True', lastTransitionTime: new Date('2026-01-01T00:00:00Z') };
    const pod = api.add({ ...testPod('gated', { containers: [] }), status: { phase: 'Pending', conditions: [gate] } });
    manager.set(pod, { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] });
    await tick(100);
    expect(api.written('gated')?.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual(['example.com/gate=True', 'Ready=True']);
    const [patch] = api.patches.get('gated') ?? [];
    expect(patch?.['status']).toMatchObject({ '$setElementOrder/conditions': [{ type: 'example.com/gate' }, { type: 'Ready' }] });
  });

  it('writes a terminal phase only once the pod worker has stopped the containers', async () => {
    const pod = api.add({ ...testPod('evicted', { containers: [] }), status: { phase: 'Running' } });
    const uid = pod.metadata?.uid ?? '';
    running.add(uid);
    const disruption = { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message: 'evicted' };
    manager.set(pod, { phase: 'Failed', reason: 'Evicted', message: 'low on memory', conditions: [disruption] });
    await tick(100);
    expect(api.written('evicted')).toMatchObject({ phase: 'Running' });
    expect(api.written('evicted')?.conditions ?? []).toEqual([]);
    running.delete(uid);
    manager.recheck(uid);
    await tick(100);
    expect(api.written('evicted')).toMatchObject({ phase: 'Failed', reason: 'Evicted', conditions: [expect.objectContaining({ type: 'DisruptionTarget' })] });
  });

  it('writes nothing for a pod the API does not show (a runtime leftover), and writes a late one when its object appears', async () => {
    const orphan = { metadata: { uid: 'orphan-uid', name: 'orphan-1234', namespace: '' }, spec: { containers: [] } };
    const mirrored = testPod('static-node1', { containers: [] });
    manager.set(orphan, runningWith('10.88.0.9'));
    manager.set(mirrored, runningWith('10.88.0.8'));
    await tick(100);
    expect(api.patches.size).toBe(0);
    api.add(mirrored);
    manager.targetsChanged();
    await tick(100);
    expect([...api.patches.keys()]).toEqual(['static-node1']);
    expect(errors).toEqual([]);
  });
});

describe('StatusManager with a slow API server', () => {
  /** Each PATCH takes 100 ms; it records how many were in flight at once, in all and per pod. */
  class SlowEndpoint extends StatusEndpoint {
    inFlight = 0;
    maxInFlight = 0;
    readonly perPod = new Map<string, number>();
    maxPerPod = 0;
    override async patchStatus(namespace: string, name: string, patch: { [key: string]: Json }): Promise<void> {
      this.inFlight++;
      this.perPod.set(name, (this.perPod.get(name) ?? 0) + 1);
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      this.maxPerPod = Math.max(this.maxPerPod, this.perPod.get(name) ?? 0);
      try {
        await new Promise((r) => setTimeout(r, 100));
        await super.patchStatus(namespace, name, patch);
      } finally {
        this.inFlight--;
        this.perPod.set(name, (this.perPod.get(name) ?? 1) - 1);
      }
    }
  }
  afterEach(() => vi.useRealTimers());

  it('writes several pods at once, one write per pod at a time, and a status set during its write after it', async () => {
    useFakeClock();
    const api = new SlowEndpoint();
    const manager = new StatusManager({ api, target: (pod) => api.pods.get(pod.metadata?.name ?? ''), equal: podStatusEqual, maxConcurrentWrites: 3 });
    const controller = new AbortController();
    void manager.run(controller.signal);
    const pods = Array.from({ length: 7 }, (_, i) => api.add(testPod(`p${i}`, { containers: [] })));
    for (const [i, pod] of pods.entries()) manager.set(pod, runningWith(`10.88.0.${i + 10}`));
    await tick(50);
    // p0's write is in flight: its newer status waits for it, then goes.
    manager.set(pods[0] as V1Pod, runningWith('10.88.0.99'));
    await tick(1000);
    controller.abort();
    expect(api.maxInFlight).toBe(3);
    expect(api.maxPerPod).toBe(1);
    expect(pods.slice(1).map((p) => api.written(p.metadata?.name ?? '')?.podIP)).toEqual([11, 12, 13, 14, 15, 16].map((n) => `10.88.0.${n}`));
    expect(api.patches.get('p0')?.map((p) => (p['status'] as { podIP?: string }).podIP)).toEqual(['10.88.0.10', '10.88.0.99']);
  });
});
