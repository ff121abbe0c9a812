import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { PodWorkers, type PodWorkerHooks } from '../../src/kubelet/pods/pod-workers.js';

const pod = (uid: string, generation = 1): V1Pod => ({ metadata: { uid, name: `p-${uid}`, namespace: 'default', generation } });
const gen = (p: V1Pod) => p.metadata?.generation ?? 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function recorder(overrides: Partial<PodWorkerHooks> = {}) {
  const log: string[] = [];
  const hooks: PodWorkerHooks = {
    async sync(p) {
      log.push(`sync ${p.metadata?.uid} g${gen(p)}`);
      await sleep(20);
    },
    async terminate(p, grace) {
      log.push(`terminate ${p.metadata?.uid} grace=${grace}`);
      await sleep(20);
    },
    async terminated(p) {
      log.push(`terminated ${p.metadata?.uid}`);
    },
    ...overrides,
  };
  return { log, hooks };
}

describe('PodWorkers', () => {
  it('runs one operation at a time per pod, and the latest update wins', async () => {
    const { log, hooks } = recorder();
    const w = new PodWorkers(hooks);
    w.update(pod('a', 1));
    w.update(pod('a', 2));
    w.update(pod('a', 3));
    await w.idle();
    // g1 was already running; g2 was replaced by g3 before it could start.
    expect(log).toEqual(['sync a g1', 'sync a g3']);
  });

  it('works on different pods concurrently', async () => {
    const { log, hooks } = recorder();
    const w = new PodWorkers(hooks);
    w.update(pod('a'));
    w.update(pod('b'));
    await sleep(5);
    expect(log).toEqual(['sync a g1', 'sync b g1']);
    await w.idle();
  });

  it('aborts a sync in flight when the pod is terminated, then terminates it once', async () => {
    let aborted = false;
    const { log, hooks } = recorder({
      async sync(p, signal) {
        log.push(`sync ${p.metadata?.uid}`);
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
        aborted = signal.aborted;
      },
    });
    const w = new PodWorkers(hooks);
    w.update(pod('a'));
    await sleep(5);
    w.terminate(pod('a'), 30);
    w.update(pod('a', 9)); // ignored: a terminating pod does not sync again
    await w.idle();
    expect(aborted).toBe(true);
    expect(log).toEqual(['sync a', 'terminate a grace=30', 'terminated a']);
    expect(w.phase('a')).toBe('terminated');
    expect(w.couldHaveRunningContainers('a')).toBe(false);
    expect(w.forget('a')).toBe(true);
    expect(w.uids()).toEqual([]);
  });

  it('restarts termination when a shorter grace period arrives, ignores a longer one', async () => {
    const { log, hooks } = recorder();
    const w = new PodWorkers(hooks);
    w.terminate(pod('a'), 30);
    await sleep(5);
    w.terminate(pod('a'), 60);
    w.terminate(pod('a'), 0);
    await w.idle();
    expect(log).toEqual(['terminate a grace=30', 'terminate a grace=0', 'terminated a']);
  });

  it('retries a failed sync with back-off and reports each failure', async () => {
    let calls = 0;
    const errors: string[] = [];
    const { hooks } = recorder({
      async sync() {
        calls++;
        if (calls < 3) throw new Error(`boom ${calls}`);
      },
      onError: (_p, op, err, retryIn) => errors.push(`${op} ${err.message} retry ${retryIn}`),
    });
    const w = new PodWorkers(hooks, { retryInitialMs: 10, retryMaxMs: 15 });
    w.update(pod('a'));
    await expect.poll(() => calls, { timeout: 1000 }).toBe(3);
    expect(errors).toEqual(['sync unknown: boom 1 retry 10', 'sync unknown: boom 2 retry 15']);
  });

  it('runs a sync again when it asks to be requeued', async () => {
    let calls = 0;
    const { hooks } = recorder({
      async sync() {
        calls++;
        return calls === 1 ? { requeueAfterMs: 20 } : {};
      },
    });
    const w = new PodWorkers(hooks);
    w.update(pod('a'));
    await expect.poll(() => calls, { timeout: 1000 }).toBe(2);
  });

  it('rejects a pod without a UID, naming it', () => {
    const w = new PodWorkers(recorder().hooks);
    expect(() => w.update({ metadata: { name: 'x', namespace: 'ns' } })).toThrow('pod ns/x has no metadata.uid');
  });

  it('terminates a pod whose sync says it is terminal, with its own grace period', async () => {
    const { log, hooks } = recorder({
      async sync(p) {
        log.push(`sync ${p.metadata?.uid} g${gen(p)}`);
        return { terminal: true };
      },
    });
    const w = new PodWorkers(hooks);
    w.update({ ...pod('a'), spec: { containers: [], terminationGracePeriodSeconds: 7 } });
    await w.idle();
    expect(log).toEqual(['sync a g1', 'terminate a grace=7', 'terminated a']);
    expect(w.phase('a')).toBe('terminated');
  });
});
