import type { V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { KubeletStop } from '../../src/kubelet/pods/terminal-status.js';
import { planShutdown } from '../../src/kubelet/shutdown/plan-shutdown.js';
import { ShutdownManager } from '../../src/kubelet/shutdown/shutdown-manager.js';

const pod = (uid: string, priority?: number): V1Pod => ({
  metadata: { uid, name: uid },
  spec: { containers: [], ...(priority !== undefined ? { priority } : {}) },
});

describe('graceful node shutdown', () => {
  it('stops regular pods first with what the critical ones do not need, then the critical pods', () => {
    const groups = planShutdown([pod('a'), pod('critical', 2_000_000_000), pod('b')], 30_000, 10_000);
    expect(groups.map((g) => [g.pods.map((p) => p.metadata?.uid), g.gracePeriodSeconds, g.budgetMs])).toEqual([
      [['a', 'b'], 20, 20_000],
      [['critical'], 10, 10_000],
    ]);
  });

  it('runs the sequence: refuses new pods from the start, stops each group before the next, with upstream reason and message', async () => {
    const order: string[] = [];
    const done = new Map<string, () => void>();
    const stoppedPromises = new Map<string, Promise<void>>();
    const manager = new ShutdownManager({
      gracePeriodMs: 30_000,
      criticalGracePeriodMs: 10_000,
      activePods: () => [pod('a'), pod('critical', 2_000_000_000)],
      stop: (p: V1Pod, stop: KubeletStop, grace: number) => {
        const uid = p.metadata?.uid ?? '';
        order.push(`${uid}:${stop.reason}:${grace}`);
        stoppedPromises.set(uid, new Promise((r) => done.set(uid, r)));
      },
      stopped: (p) => stoppedPromises.get(p.metadata?.uid ?? '') ?? Promise.resolve(),
      log: pino({ level: 'silent' }),
    });
    const running = manager.shutdown();
    expect(manager.shuttingDown).toBe(true);
    await new Promise((r) => setImmediate(r));
    // The critical pod waits until the regular one has stopped.
    expect(order).toEqual(['a:Terminated:20']);
    done.get('a')?.();
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['a:Terminated:20', 'critical:Terminated:10']);
    done.get('critical')?.();
    await running;
  });
});
