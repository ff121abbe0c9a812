import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TskubeError } from '../../src/common/errors.js';
import { podStatusEqual } from '../../src/kubelet/pods/compute-pod-status.js';
import type { PodStatusApi } from '../../src/kubelet/status/pod-status-api.js';
import { StatusManager } from '../../src/kubelet/status/status-manager.js';
import { testPod, tick, useFakeClock } from '../support/pod-lifecycle-harness.js';

/** An API server's pod status endpoint: what it holds, and failures to hand out first. */
class StatusEndpoint implements PodStatusApi {
  readonly written = new Map<string, V1PodStatus[]>();
  readonly failures: TskubeError[] = [];
  async patchStatus(_namespace: string, name: string, _uid: string, status: V1PodStatus): Promise<void> {
    const f = this.failures.shift();
    if (f) throw f;
    this.written.set(name, [...(this.written.get(name) ?? []), status]);
  }
  async deleteFinal(): Promise<void> {}
  async get(): Promise<V1Pod | undefined> {
    return undefined;
  }
}

const running = (ip: string): V1PodStatus => ({ phase: 'Running', podIP: ip, conditions: [] });

describe('StatusManager', () => {
  let api: StatusEndpoint;
  let errors: string[];
  let manager: StatusManager;
  let controller: AbortController;
  beforeEach(() => {
    useFakeClock();
    api = new StatusEndpoint();
    errors = [];
    manager = new StatusManager({ api, equal: podStatusEqual, onError: (pod, err) => errors.push(`${pod.metadata?.name}: ${err.message}`), retryMs: 2000 });
    controller = new AbortController();
    void manager.run(controller.signal);
  });
  afterEach(() => {
    controller.abort();
    vi.useRealTimers();
  });

  it('writes a status once, and again only when it changes', async () => {
    const pod = testPod('web', { containers: [] });
    manager.set(pod, running('10.88.0.2'));
    await tick(100);
    manager.set(pod, running('10.88.0.2'));
    await tick(100);
    manager.set(pod, running('10.88.0.3'));
    await tick(100);
    expect(api.written.get('web')?.map((s) => s.podIP)).toEqual(['10.88.0.2', '10.88.0.3']);
    expect(manager.statusOf(pod.metadata?.uid ?? '')?.podIP).toBe('10.88.0.3');
  });

  it('retries a failed write after retryMs, with one error line per failure', async () => {
    const pod = testPod('web', { containers: [] });
    api.failures.push(new TskubeError('unavailable', 'PATCH pods/web/status: connection refused'));
    manager.set(pod, running('10.88.0.2'));
    await tick(100);
    expect(api.written.get('web')).toBeUndefined();
    expect(errors).toEqual(['web: unavailable: PATCH pods/web/status: connection refused']);
    await tick(1800);
    expect(api.written.get('web')).toBeUndefined();
    await tick(200);
    expect(api.written.get('web')?.map((s) => s.podIP)).toEqual(['10.88.0.2']);
  });

  it('forgets a pod the API server no longer has (404) or that is another pod now (UID precondition)', async () => {
    const gone = testPod('gone', { containers: [] });
    const replaced = testPod('replaced', { containers: [] });
    api.failures.push(new TskubeError('not-found', 'pods "gone" not found'), new TskubeError('failed-precondition', 'UID mismatch'));
    manager.set(gone, running('10.88.0.2'));
    manager.set(replaced, running('10.88.0.3'));
    await tick(5000);
    expect(manager.statusOf(gone.metadata?.uid ?? '')).toBeUndefined();
    expect(manager.statusOf(replaced.metadata?.uid ?? '')).toBeUndefined();
    expect(api.written.size).toBe(0);
    expect(errors).toEqual([]);
  });

  it('writes every pod again when asked (the API was away)', async () => {
    const pod = testPod('web', { containers: [] });
    manager.set(pod, running('10.88.0.2'));
    await tick(100);
    manager.markAllDirty();
    await tick(100);
    expect(api.written.get('web')).toHaveLength(2);
  });
});
