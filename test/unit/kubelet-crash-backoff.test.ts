import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { TskubeError } from '../../src/common/errors.js';
import { formatGoDuration } from '../../src/common/go-duration.js';
import { CrashBackoff, crashBackoffKey, crashLoopEventMessage, crashLoopMessage, exitedAtMs, recordRestarts } from '../../src/kubelet/pods/crash-backoff.js';
import type { PodRuntimeState } from '../../src/kubelet/pods/runtime-state.js';

const T0 = 1_700_000_000_000;
const app = { name: 'app', image: 'img' };
const key = crashBackoffKey('uid-1', app);

/** Simulates a container that crashes `runMs` after each restart, restarting as soon as allowed. */
function crashLoop(backoff: CrashBackoff, crashes: number, runMs: number): number[] {
  const delays: number[] = [];
  let now = T0;
  for (let i = 0; i < crashes; i++) {
    const finishedAt = now + runMs;
    const retry = backoff.retryAt(key, finishedAt);
    now = retry !== undefined && retry > finishedAt ? retry : finishedAt;
    expect(backoff.isInBackoffSince(key, finishedAt, now)).toBe(false);
    delays.push(backoff.next(key, finishedAt, now));
  }
  return delays;
}

describe('CrashBackoff', () => {
  it('doubles from 10s to the 300s cap', () => {
    expect(crashLoop(new CrashBackoff(), 9, 1_000)).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000, 300_000]);
  });

  it('honours crashLoopBackOff.maxContainerRestartPeriod', () => {
    expect(crashLoop(new CrashBackoff({ maxMs: 30_000 }), 5, 1_000)).toEqual([10_000, 20_000, 30_000, 30_000, 30_000]);
  });

  it('is in back-off for exactly the current delay after the exit', () => {
    const b = new CrashBackoff();
    b.next(key, T0, T0);
    const finished = T0 + 2_000;
    expect(b.isInBackoffSince(key, finished, finished)).toBe(true);
    expect(b.isInBackoffSince(key, finished, finished + 9_999)).toBe(true);
    expect(b.isInBackoffSince(key, finished, finished + 10_000)).toBe(false);
    expect(b.retryAt(key, finished)).toBe(finished + 10_000);
  });

  it('an unknown key is never in back-off', () => {
    const b = new CrashBackoff();
    expect(b.isInBackoffSince(key, T0, T0)).toBe(false);
    expect(b.retryAt(key, T0)).toBeUndefined();
    expect(b.delayMs(key)).toBe(0);
  });

  it.each([
    ['ran 9 min: keeps doubling', 9 * 60_000, 20_000],
    ['ran exactly 10 min: keeps doubling', 10 * 60_000, 20_000],
    ['ran just over 10 min: reset to 10s', 10 * 60_000 + 1, 10_000],
    ['ran an hour: reset to 10s', 3_600_000, 10_000],
  ])('after a restart the container %s', (_, runMs, expected) => {
    const b = new CrashBackoff();
    b.next(key, T0, T0);
    const finished = T0 + runMs;
    expect(b.isInBackoffSince(key, finished, finished + 1)).toBe(runMs <= 600_000);
    expect(b.next(key, finished, finished + 10_000)).toBe(expected);
  });

  it('the reset window follows the configured max (2 × max)', () => {
    const b = new CrashBackoff({ maxMs: 60_000 });
    b.next(key, T0, T0);
    expect(b.isInBackoffSince(key, T0 + 120_001, T0 + 120_002)).toBe(false);
    expect(b.isInBackoffSince(key, T0 + 119_000, T0 + 119_001)).toBe(true);
  });

  it('gc forgets keys idle for more than 2 × max, keeps the others', () => {
    const b = new CrashBackoff();
    const other = crashBackoffKey('uid-1', { name: 'side', image: 'img' });
    b.next(key, T0, T0);
    b.next(other, T0 + 500_000, T0 + 500_000);
    b.gc(T0 + 600_001);
    expect(b.delayMs(key)).toBe(0);
    expect(b.delayMs(other)).toBe(10_000);
    expect(b.size).toBe(1);
  });

  it('a new image or new resources give a new key, so a fixed spec starts without the old delay', () => {
    expect(crashBackoffKey('uid-1', { ...app, image: 'img:2' })).not.toBe(key);
    expect(crashBackoffKey('uid-1', { ...app, resources: { limits: { memory: '1Gi' } } })).not.toBe(key);
    expect(crashBackoffKey('uid-1', { ...app, resources: {} })).toBe(key);
  });

  it('forgetPod drops only that pod', () => {
    const b = new CrashBackoff();
    b.next(key, T0, T0);
    b.next(crashBackoffKey('uid-2', app), T0, T0);
    b.forgetPod('uid-1');
    expect(b.delayMs(key)).toBe(0);
    expect(b.delayMs(crashBackoffKey('uid-2', app))).toBe(10_000);
  });

  it('rejects a max below the initial delay', () => {
    expect(() => new CrashBackoff({ maxMs: 5_000 })).toThrow(TskubeError);
    expect(() => new CrashBackoff({ maxMs: 0 })).toThrow(/invalid-argument/);
  });
});

describe('recordRestarts', () => {
  const state: PodRuntimeState = {
    uid: 'uid-1',
    name: 'web',
    namespace: 'default',
    sandboxes: [],
    containers: [
      {
        id: 'b',
        name: 'app',
        sandboxId: 's',
        attempt: 1,
        phase: 'exited',
        createdAt: 2n,
        finishedAt: BigInt(T0 + 5_000) * 1_000_000n,
        exitCode: 1,
        image: 'i',
        imageRef: 'r',
      },
      {
        id: 'a',
        name: 'app',
        sandboxId: 's',
        attempt: 0,
        phase: 'exited',
        createdAt: 1n,
        finishedAt: BigInt(T0) * 1_000_000n,
        exitCode: 1,
        image: 'i',
        imageRef: 'r',
      },
    ],
  };

  it('measures from the newest exited instance', () => {
    expect(exitedAtMs(state, 'app')).toBe(T0 + 5_000);
    expect(exitedAtMs(state, 'none')).toBeUndefined();
  });

  it('moves the back-off only for containers that ran before', () => {
    const b = new CrashBackoff();
    const pod: V1Pod = { spec: { containers: [app, { name: 'fresh', image: 'img' }] } };
    recordRestarts(
      b,
      pod,
      state,
      [
        { name: 'app', kind: 'regular', attempt: 2 },
        { name: 'fresh', kind: 'regular', attempt: 0 },
      ],
      T0 + 6_000,
    );
    expect(b.delayMs(key)).toBe(10_000);
    expect(b.delayMs(crashBackoffKey('uid-1', { name: 'fresh', image: 'img' }))).toBe(0);
  });
});

describe('messages', () => {
  const pod: V1Pod = { metadata: { name: 'crashy', namespace: 'prod', uid: '1234-abcd' } };

  it.each([
    [10_000, 'back-off 10s restarting failed container=app pod=crashy_prod(1234-abcd)'],
    [40_000, 'back-off 40s restarting failed container=app pod=crashy_prod(1234-abcd)'],
    [80_000, 'back-off 1m20s restarting failed container=app pod=crashy_prod(1234-abcd)'],
    [300_000, 'back-off 5m0s restarting failed container=app pod=crashy_prod(1234-abcd)'],
  ])('waiting message for %d ms', (ms, text) => {
    expect(crashLoopMessage(pod, 'app', ms)).toBe(text);
  });

  it('event message', () => {
    expect(crashLoopEventMessage(pod, 'app')).toBe('Back-off restarting failed container app in pod crashy_prod(1234-abcd)');
  });

  it.each([
    [0, '0s'],
    [500, '500ms'],
    [1_500, '1.5s'],
    [20_000, '20s'],
    [160_000, '2m40s'],
    [3_600_000, '1h0m0s'],
    [3_725_000, '1h2m5s'],
  ])('formatGoDuration(%d) = %s', (ms, text) => {
    expect(formatGoDuration(ms)).toBe(text);
  });
});
