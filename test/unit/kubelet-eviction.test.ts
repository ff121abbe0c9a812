import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { defaultKubeletConfiguration } from '../../src/kubelet/options/defaults.js';
import { type EvictionInput, initialEvictionState, planEviction, rankPods } from '../../src/kubelet/eviction/plan-eviction.js';
import { evictionThresholds } from '../../src/kubelet/eviction/thresholds.js';
import { planImageGc } from '../../src/kubelet/gc/plan-image-gc.js';
import type { PodUsage } from '../../src/kubelet/stats/node-stats.js';

const Mi = 2 ** 20;
const Gi = 2 ** 30;
const pod = (uid: string, extra: Partial<NonNullable<V1Pod['spec']>> = {}, containers: V1Container[] = [{ name: 'c' }]): V1Pod => ({
  metadata: { uid, name: uid, namespace: 'default' },
  spec: { containers, terminationGracePeriodSeconds: 30, ...extra },
});
const usage = (entries: [string, number][]) =>
  new Map<string, PodUsage>(
    entries.map(([uid, ws]) => [uid, { uid, memoryWorkingSetBytes: ws, ephemeralBytes: 0, containers: [{ name: 'c', memoryWorkingSetBytes: ws }] }]),
  );

function config(over: Record<string, unknown>) {
  return { ...defaultKubeletConfiguration(), ...over };
}

function input(over: Partial<EvictionInput>): EvictionInput {
  return {
    thresholds: evictionThresholds(config({ evictionHard: { 'memory.available': '1Gi' } })),
    observations: { 'memory.available': { available: 4 * Gi, capacity: 16 * Gi } },
    state: initialEvictionState,
    now: 1_000_000,
    pressureTransitionPeriodMs: 300_000,
    pods: [],
    usage: new Map(),
    maxPodGracePeriodSeconds: 0,
    ...over,
  };
}

describe('planEviction', () => {
  it('does nothing above the thresholds', () => {
    const plan = planEviction(input({}));
    expect(plan.pressure).toEqual({ memory: false, disk: false, pid: false });
    expect(plan.evict).toBeUndefined();
  });

  it('under a hard memory threshold: MemoryPressure, and the pod most above its requests is evicted at once with upstream message', () => {
    const hog = pod('hog');
    const within = pod('within', {}, [{ name: 'c', resources: { requests: { memory: '512Mi' } } }]);
    const plan = planEviction(
      input({
        observations: { 'memory.available': { available: 512 * Mi, capacity: 16 * Gi } },
        pods: [within, hog],
        usage: usage([
          ['hog', 300 * Mi],
          ['within', 400 * Mi],
        ]),
      }),
    );
    expect(plan.pressure.memory).toBe(true);
    expect(plan.evict).toEqual({
      pod: hog,
      gracePeriodSeconds: 0,
      message:
        'The node was low on resource: memory. Threshold quantity: 1Gi, available: 512Mi. Container c was using 300Mi, request is 0, has larger consumption of memory. ',
    });
  });

  it('waits out a soft threshold grace period, then evicts with the pod grace capped by evictionMaxPodGracePeriod', () => {
    const thresholds = evictionThresholds(
      config({ evictionHard: {}, evictionSoft: { 'memory.available': '2Gi' }, evictionSoftGracePeriod: { 'memory.available': '1m' } }),
    );
    const low = { 'memory.available': { available: Gi, capacity: 16 * Gi } };
    const first = planEviction(input({ thresholds, observations: low, pods: [pod('a')], maxPodGracePeriodSeconds: 10 }));
    expect(first.pressure.memory).toBe(true);
    expect(first.evict).toBeUndefined();
    const later = planEviction(
      input({ thresholds, observations: low, pods: [pod('a')], state: first.state, now: 1_000_000 + 60_000, maxPodGracePeriodSeconds: 10 }),
    );
    expect(later.evict?.gracePeriodSeconds).toBe(10);
  });

  it('holds pressure for the transition period, and until minimum reclaim is passed', () => {
    const thresholds = evictionThresholds(config({ evictionHard: { 'memory.available': '1Gi' }, evictionMinimumReclaim: { 'memory.available': '500Mi' } }));
    const low = planEviction(input({ thresholds, observations: { 'memory.available': { available: 900 * Mi, capacity: 16 * Gi } } }));
    // Above the threshold but not by minReclaim: still acted on.
    const almost = planEviction(
      input({ thresholds, state: low.state, now: 1_010_000, observations: { 'memory.available': { available: 1200 * Mi, capacity: 16 * Gi } } }),
    );
    expect(almost.reclaim?.signal).toBe('memory.available');
    const fine = planEviction(
      input({ thresholds, state: almost.state, now: 1_020_000, observations: { 'memory.available': { available: 2 * Gi, capacity: 16 * Gi } } }),
    );
    expect(fine.reclaim).toBeUndefined();
    expect(fine.pressure.memory).toBe(true);
    const after = planEviction(
      input({ thresholds, state: fine.state, now: 1_010_000 + 300_000, observations: { 'memory.available': { available: 2 * Gi, capacity: 16 * Gi } } }),
    );
    expect(after.pressure.memory).toBe(false);
  });

  it('never evicts critical pods; ranks by exceeding requests, then priority, then usage', () => {
    const critical = pod('critical', { priority: 2_000_000_000 });
    const plan = planEviction(
      input({ observations: { 'memory.available': { available: 0, capacity: 16 * Gi } }, pods: [critical], usage: usage([['critical', Gi]]) }),
    );
    expect(plan.evict).toBeUndefined();
    const low = pod('low', { priority: 0 });
    const high = pod('high', { priority: 1000 });
    const big = pod('big', { priority: 0 });
    expect(
      rankPods(
        'memory.available',
        [high, low, big],
        usage([
          ['high', 10 * Mi],
          ['low', 10 * Mi],
          ['big', 100 * Mi],
        ]),
      ).map((p) => p.metadata?.uid),
    ).toEqual(['big', 'low', 'high']);
  });

  it('reports disk and PID pressure from their signals', () => {
    const thresholds = evictionThresholds(config({ evictionHard: { 'nodefs.available': '10%', 'pid.available': '1000' } }));
    const plan = planEviction(
      input({
        thresholds,
        observations: { 'nodefs.available': { available: 5, capacity: 100 }, 'pid.available': { available: 500, capacity: 4_000_000 } },
      }),
    );
    expect(plan.pressure).toEqual({ memory: false, disk: true, pid: true });
    expect(plan.reclaim?.signal).toBe('pid.available');
  });
});

describe('planImageGc', () => {
  const img = (id: string, over: Partial<Parameters<typeof planImageGc>[0][number]> = {}) => ({
    id,
    sizeBytes: 100,
    firstDetected: 0,
    lastUsed: 0,
    inUse: false,
    pinned: false,
    ...over,
  });
  const policy = { highThresholdPercent: 85, lowThresholdPercent: 80, minAgeMs: 120_000, maxAgeMs: 0 };

  it('frees nothing below the high threshold', () => {
    expect(planImageGc([img('a')], { capacityBytes: 1000, availableBytes: 500 }, policy, 1_000_000)).toEqual({ remove: [], wanted: 0, freed: 0 });
  });

  it('above it, removes unused, unpinned images old enough, least recently used first, down to the low threshold', () => {
    const images = [
      img('new', { firstDetected: 999_000 }),
      img('used', { inUse: true }),
      img('pause', { pinned: true }),
      img('b', { lastUsed: 50 }),
      img('a', { lastUsed: 10 }),
    ];
    expect(planImageGc(images, { capacityBytes: 1000, availableBytes: 100 }, policy, 1_000_000)).toEqual({ remove: ['a'], wanted: 100, freed: 100 });
    // Not enough eligible: the caller reports FreeDiskSpaceFailed.
    expect(planImageGc(images, { capacityBytes: 10_000, availableBytes: 100 }, policy, 1_000_000)).toMatchObject({ wanted: 1900, freed: 200 });
  });

  it('removes images unused for longer than imageMaximumGCAge whatever the usage', () => {
    expect(
      planImageGc(
        [img('old', { lastUsed: 0 }), img('recent', { lastUsed: 900_000 })],
        { capacityBytes: 1000, availableBytes: 900 },
        { ...policy, maxAgeMs: 500_000 },
        1_000_000,
      ).remove,
    ).toEqual(['old']);
  });
});
