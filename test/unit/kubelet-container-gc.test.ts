import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InMemoryRuntime } from '../support/in-memory-runtime.js';
import { container, type PodHarness, startPodHarness, testImage, testPod, tick, tickUntil, useFakeClock } from '../support/pod-lifecycle-harness.js';

describe('ContainerGc on the in-memory runtime', () => {
  let rt: InMemoryRuntime;
  let h: PodHarness;
  beforeEach(() => {
    useFakeClock();
    rt = new InMemoryRuntime({ images: [{ ref: testImage }] });
    h = startPodHarness({ runtime: rt, overrides: { containerGcPeriodMs: 60_000 } });
  });
  afterEach(async () => {
    await h.destroy();
    vi.useRealTimers();
  });

  it('keeps the newest instance of a container (one dead one in all), removing older ones with their logs and links', async () => {
    rt.program('app', { exitAfterMs: 100, exitCode: 1 });
    const pod = testPod('web', { containers: [container('app'), container('steady')] });
    h.setPods([pod]);
    await tickUntil(() => rt.containersOf('web', 'app').length === 4, 60_000);
    const logDir = join(h.podLogsRoot, `default_web_${pod.metadata?.uid}`, 'app');
    expect(readdirSync(logDir).sort()).toEqual(['0.log', '1.log', '2.log', '3.log']);
    // The minute's collection comes due; the newest instance is dead, and it is the one kept.
    await tickUntil(() => rt.containersOf('web', 'app').length === 1 && readdirSync(logDir).length === 1, 60_000);
    expect(rt.containersOf('web', 'app').map((c) => c.attempt)).toEqual([3]);
    expect(readdirSync(logDir)).toEqual(['3.log']);
    const links = readdirSync(h.linksDir).filter((l) => l.startsWith('web_default_app-'));
    expect(links.sort()).toEqual(
      rt
        .containersOf('web', 'app')
        .map((c) => `web_default_app-${c.id}.log`)
        .sort(),
    );
    expect(rt.containersOf('web', 'steady').map((c) => c.state)).toEqual(['CONTAINER_RUNNING']);
  });

  it('removes an old sandbox once none of its containers is left, and sweeps the logs of pods that are gone', async () => {
    const pod = testPod('web', { containers: [container('app')] });
    h.setPods([pod]);
    await tickUntil(() => h.status(pod)?.phase === 'Running');
    for (const n of [2, 3]) {
      rt.killSandbox(rt.sandboxesOf('web').at(-1)!.id);
      await tickUntil(() => rt.sandboxesOf('web').length === n && rt.containersOf('web', 'app').at(-1)?.state === 'CONTAINER_RUNNING');
    }
    // A log directory left by a pod that was removed while the kubelet was away.
    const leftover = join(h.podLogsRoot, 'default_gone_11111111-2222-3333-4444-555555555555');
    mkdirSync(join(leftover, 'app'), { recursive: true });
    // GC works on the relist cache: let it catch up.
    await h.lifecycle.cache.all(true);
    await h.lifecycle.gc.collectOnce();
    // app 0 goes (app 2 runs, app 1 is the dead one kept), and with it sandbox 0, now empty.
    expect(rt.containersOf('web', 'app').map((c) => c.attempt)).toEqual([1, 2]);
    expect(rt.sandboxesOf('web').map((s) => s.attempt)).toEqual([1, 2]);
    expect(existsSync(leftover)).toBe(false);
    await tick(100);
  });
});
