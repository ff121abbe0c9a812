import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InMemoryRuntime } from '../support/in-memory-runtime.js';
import { container, type PodHarness, startPodHarness, testImage, testPod, tick, tickUntil, useFakeClock } from '../support/pod-lifecycle-harness.js';

describe('PodReconciler on the in-memory runtime', () => {
  let rt: InMemoryRuntime;
  let h: PodHarness;
  beforeEach(() => {
    useFakeClock();
    rt = new InMemoryRuntime({ images: [{ ref: testImage }] });
  });
  afterEach(async () => {
    await h.destroy();
    vi.useRealTimers();
  });

  it('terminates and removes a pod no source wants any more: containers, sandbox, pod and log directories', async () => {
    h = startPodHarness({ runtime: rt });
    const keep = testPod('keep', { containers: [container('app')] });
    const drop = testPod('drop', { terminationGracePeriodSeconds: 5, containers: [container('app')] });
    h.setPods([keep, drop]);
    await tickUntil(() => h.status(keep)?.phase === 'Running' && h.status(drop)?.phase === 'Running');
    const podDir = join(h.rootDir, 'pods', drop.metadata?.uid ?? '');
    const logDir = join(h.podLogsRoot, `default_drop_${drop.metadata?.uid}`);
    expect(existsSync(podDir) && existsSync(logDir)).toBe(true);
    h.setPods([keep]);
    await tickUntil(() => rt.sandboxesOf('drop').length === 0 && !existsSync(podDir) && !existsSync(logDir));
    expect(h.eventsOf(drop)).toContain('Killing: Stopping container app');
    expect(h.status(drop)).toBeUndefined();
    expect(rt.containersOf('keep', 'app').map((c) => c.state)).toEqual(['CONTAINER_RUNNING']);
  });

  it('leaves a runtime pod nobody claims alone until every source has listed, then removes it', async () => {
    // A pod from before (another kubelet run) that neither source will list.
    const before = startPodHarness({ runtime: rt });
    const stray = testPod('stray', { containers: [container('app')] });
    before.setPods([stray]);
    await tickUntil(() => before.status(stray)?.phase === 'Running');
    await before.destroy();

    h = startPodHarness({ runtime: rt, sources: ['file', 'api'] });
    h.setPods([], 'api');
    await tick(15_000);
    // The file source has not listed: the stray pod may still be wanted.
    expect(rt.containersOf('stray', 'app').map((c) => c.state)).toEqual(['CONTAINER_RUNNING']);
    h.setPods([], 'file');
    await tickUntil(() => rt.sandboxesOf('stray').length === 0);
  });

  it('terminates a pod the API deletes, with its deletion grace period', async () => {
    h = startPodHarness({ runtime: rt });
    rt.program('app', { ignoresSigterm: true });
    const pod = testPod('web', { containers: [container('app')] });
    h.setPods([pod]);
    await tickUntil(() => h.status(pod)?.phase === 'Running');
    const deleted = { ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date(), deletionGracePeriodSeconds: 7 } };
    h.setPods([deleted]);
    const took = await tickUntil(() => rt.containersOf('web', 'app')[0]?.state === 'CONTAINER_EXITED');
    // SIGTERM is ignored: the SIGKILL comes when the 7 s grace period is over.
    expect(took).toBeGreaterThanOrEqual(7000);
    expect(took).toBeLessThan(9000);
    expect(rt.containersOf('web', 'app')[0]?.exitCode).toBe(137);
    expect(rt.calls.find((c) => c.method === 'StopContainer')?.request).toMatchObject({ timeout: '7' });
  });
});
