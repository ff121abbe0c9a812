import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InMemoryRuntime } from '../support/in-memory-runtime.js';
import { container, type PodHarness, startPodHarness, testImage, testPod, tick, tickUntil, useFakeClock } from '../support/pod-lifecycle-harness.js';

describe('a kubelet restart on the in-memory runtime', () => {
  let rt: InMemoryRuntime;
  let first: PodHarness;
  let second: PodHarness | undefined;
  beforeEach(() => {
    useFakeClock();
    rt = new InMemoryRuntime({ images: [{ ref: testImage }] });
    first = startPodHarness({ runtime: rt });
  });
  afterEach(async () => {
    await second?.destroy();
    await first.destroy();
    vi.useRealTimers();
  });

  it('adopts what runs (no container stopped, created or started again) and removes only pods gone meanwhile', async () => {
    rt.program('job', { exitAfterMs: 200 });
    const web = testPod('web', { initContainers: [container('init', { restartPolicy: 'Always' })], containers: [container('app')] });
    const job = testPod('job', { restartPolicy: 'Never', containers: [container('job')] });
    const gone = testPod('gone', { containers: [container('app')] });
    first.setPods([web, job, gone]);
    await tickUntil(() => first.status(web)?.phase === 'Running' && first.status(job)?.phase === 'Succeeded' && first.status(gone)?.phase === 'Running');
    await tickUntil(() => rt.sandboxesOf('job')[0]?.state === 'SANDBOX_NOTREADY');
    const before = first.status(web)?.containerStatuses;
    await first.stop();

    const callsBefore = rt.calls.length;
    second = startPodHarness({ runtime: rt, dir: first.dir });
    // The API lists what is still bound here; `gone` was deleted while the kubelet was away.
    second.setPods([web, job]);
    await tickUntil(() => second?.status(web)?.phase === 'Running' && second?.status(job)?.phase === 'Succeeded');
    await tickUntil(() => rt.sandboxesOf('gone').length === 0);
    await tick(15_000);

    const after = rt.callLog().slice(callsBefore);
    expect(after.filter((l) => /^(RunPodSandbox|CreateContainer|StartContainer)/.test(l))).toEqual([]);
    expect(after.filter((l) => l.startsWith('StopContainer'))).toEqual(['StopContainer gone/app']);
    // Besides removing `gone`, only the finished job's (already stopped) sandbox is stopped again, idempotently.
    expect(new Set(after.filter((l) => /^(Stop|Remove)PodSandbox/.test(l)))).toEqual(
      new Set(['StopPodSandbox gone', 'RemovePodSandbox gone', 'StopPodSandbox job']),
    );
    expect(second.status(web)?.containerStatuses).toEqual(before);
    expect(rt.containersOf('web').map((c) => [c.attempt, c.state])).toEqual([
      [0, 'CONTAINER_RUNNING'],
      [0, 'CONTAINER_RUNNING'],
    ]);
  });
});
