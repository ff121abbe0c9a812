import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InMemoryRuntime } from '../support/in-memory-runtime.js';
import { container, type PodHarness, startPodHarness, testImage, testPod, tickUntil, useFakeClock } from '../support/pod-lifecycle-harness.js';

/** Seconds from each instance's exit to the next instance's start. */
function restartGapsSeconds(rt: InMemoryRuntime, pod: string, name: string): number[] {
  const all = rt.containersOf(pod, name);
  return all.slice(1).map((c, i) => Number(c.startedAt - all[i]!.finishedAt) / 1e9);
}

describe('CrashLoopBackOff on the in-memory runtime (fake clock)', () => {
  let rt: InMemoryRuntime;
  let h: PodHarness | undefined;
  beforeEach(() => {
    useFakeClock();
    rt = new InMemoryRuntime({ images: [{ ref: testImage }] });
    rt.program('app', { exitAfterMs: 100, exitCode: 1 });
  });
  afterEach(async () => {
    await h?.destroy();
    vi.useRealTimers();
  });

  it('restarts a crashing container at once, then after 10 s, 20 s, 40 s, naming the back-off in its waiting state', async () => {
    h = startPodHarness({ runtime: rt });
    const pod = testPod('web', { containers: [container('app')] });
    h.setPods([pod]);
    await tickUntil(() => rt.containersOf('web', 'app').length === 5, 120_000);
    const gaps = restartGapsSeconds(rt, 'web', 'app');
    // Each restart comes when its back-off ends, give or take the relist period.
    expect(gaps.map((g, i) => g - [0, 10, 20, 40][i]!).every((late) => late >= 0 && late < 1.5)).toBe(true);
    expect(rt.containersOf('web', 'app').map((c) => c.attempt)).toEqual([0, 1, 2, 3, 4]);

    // The fifth instance exits too; the back-off before the sixth is 80 s.
    await tickUntil(() => h?.status(pod)?.containerStatuses?.[0]?.state?.waiting?.message?.startsWith('back-off 1m20s') === true);
    const status = h.status(pod)?.containerStatuses?.[0];
    const lastExit = rt.containersOf('web', 'app').at(-1)!.finishedAt;
    const nextAt = new Date(Number(lastExit / 1_000_000n) + 80_000).toISOString().replace(/\.\d+Z$/, 'Z');
    expect(status?.state?.waiting?.message).toBe(
      `back-off 1m20s restarting failed container=app pod=web_default(${pod.metadata?.uid}); next restart at ${nextAt}`,
    );
    expect(status?.restartCount).toBe(4);
    expect(status?.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(h.eventsOf(pod)).toContain(`BackOff: Back-off restarting failed container app in pod web_default(${pod.metadata?.uid})`);
  });

  it('caps the back-off at maxContainerRestartPeriod', async () => {
    h = startPodHarness({ runtime: rt, overrides: { maxContainerRestartPeriodMs: 15_000 } });
    const pod = testPod('web', { containers: [container('app')] });
    h.setPods([pod]);
    await tickUntil(() => rt.containersOf('web', 'app').length === 5, 120_000);
    const gaps = restartGapsSeconds(rt, 'web', 'app');
    expect(gaps.map((g, i) => g - [0, 10, 15, 15][i]!).every((late) => late >= 0 && late < 1.5)).toBe(true);
  });

  it('does not restart a container that exits 0 under restartPolicy OnFailure, and backs off one that fails', async () => {
    rt.program('ok', { exitAfterMs: 100, exitCode: 0 });
    h = startPodHarness({ runtime: rt });
    const pod = testPod('web', { restartPolicy: 'OnFailure', containers: [container('app'), container('ok')] });
    h.setPods([pod]);
    await tickUntil(() => rt.containersOf('web', 'app').length === 3, 60_000);
    expect(rt.containersOf('web', 'ok').map((c) => [c.state, c.exitCode])).toEqual([['CONTAINER_EXITED', 0]]);
  });
});
