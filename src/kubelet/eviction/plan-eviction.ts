/*
 * The eviction manager's decision (upstream eviction manager synchronize), pure over
 * observed stats and its own remembered state:
 *
 *   observe ─► thresholds met (or met before and not yet reclaimed past minReclaim)
 *           ─► node conditions (held for evictionPressureTransitionPeriod after the last sighting)
 *           ─► thresholds past their grace period ─► the first by priority (memory first)
 *           ─► disk: reclaim images and dead containers first; else rank the active pods
 *              (usage above requests, then priority, then usage) and evict the first non-critical one
 */
import type { V1Pod } from '@kubernetes/client-node';
import { isCriticalPod } from '../admission/critical-pods.js';
import { podRequests } from '../admission/pod-requests.js';
import { formatBytes } from '../../kube/quantity.js';
import type { NodeStats } from '../stats/node-stats.js';
import { amount, conditionOf, type EvictionThreshold, resourceOf, type Signal } from './thresholds.js';

export interface Observation {
  available: number;
  capacity: number;
}

export type Observations = Partial<Record<Signal, Observation>>;

export function observe(stats: NodeStats): Observations {
  return {
    'memory.available': { available: stats.memory.availableBytes, capacity: stats.memory.capacityBytes },
    'nodefs.available': { available: stats.nodefs.availableBytes, capacity: stats.nodefs.capacityBytes },
    'nodefs.inodesFree': { available: stats.nodefs.inodesFree, capacity: stats.nodefs.inodes },
    'imagefs.available': { available: stats.imagefs.availableBytes, capacity: stats.imagefs.capacityBytes },
    'imagefs.inodesFree': { available: stats.imagefs.inodesFree, capacity: stats.imagefs.inodes },
    'pid.available': { available: Math.max(0, stats.pids.max - stats.pids.running), capacity: stats.pids.max },
  };
}

const key = (t: EvictionThreshold) => `${t.signal}/${t.hard ? 'hard' : 'soft'}`;

export interface EvictionState {
  firstObservedAt: ReadonlyMap<string, number>;
  conditionLastObservedAt: ReadonlyMap<'memory' | 'disk' | 'pid', number>;
  /** Thresholds acted on last time: they hold until reclaimed past minReclaim. */
  met: readonly EvictionThreshold[];
}

export const initialEvictionState: EvictionState = { firstObservedAt: new Map(), conditionLastObservedAt: new Map(), met: [] };

export interface EvictionInput {
  thresholds: readonly EvictionThreshold[];
  observations: Observations;
  state: EvictionState;
  now: number;
  pressureTransitionPeriodMs: number;
  /** Pods that run or may run, with their usage (from the stats), for ranking. */
  pods: readonly V1Pod[];
  usage: NodeStats['pods'];
  /** evictionMaxPodGracePeriod (seconds) for soft evictions. */
  maxPodGracePeriodSeconds: number;
}

export interface EvictionPlan {
  state: EvictionState;
  pressure: { memory: boolean; disk: boolean; pid: boolean };
  /** The threshold to act on now, if any. */
  reclaim?: { signal: Signal; resource: string; threshold: EvictionThreshold };
  /** The pod to evict if node-level reclaim does not help (disk) or at once (memory, pids). */
  evict?: { pod: V1Pod; gracePeriodSeconds: number; message: string };
}

function isMet(t: EvictionThreshold, o: Observations, withMinReclaim: boolean): boolean {
  const obs = o[t.signal];
  if (!obs) return false;
  const limit = amount(t.value, obs.capacity) + (withMinReclaim && t.minReclaim ? amount(t.minReclaim, obs.capacity) : 0);
  return obs.available < limit;
}

const signalOrder: Signal[] = ['memory.available', 'pid.available', 'nodefs.available', 'nodefs.inodesFree', 'imagefs.available', 'imagefs.inodesFree'];

export function planEviction(input: EvictionInput): EvictionPlan {
  const { thresholds, observations: o, state, now } = input;
  const metNow = thresholds.filter((t) => isMet(t, o, false));
  const unresolved = state.met.filter((t) => isMet(t, o, true) && !metNow.some((m) => key(m) === key(t)));
  const met = [...metNow, ...unresolved];

  const firstObservedAt = new Map<string, number>();
  for (const t of met) firstObservedAt.set(key(t), state.firstObservedAt.get(key(t)) ?? now);
  const conditionLastObservedAt = new Map(state.conditionLastObservedAt);
  for (const t of met) conditionLastObservedAt.set(conditionOf(t.signal), now);
  const within = (c: 'memory' | 'disk' | 'pid') => {
    const at = conditionLastObservedAt.get(c);
    return at !== undefined && now - at < input.pressureTransitionPeriodMs;
  };
  const pressure = { memory: within('memory'), disk: within('disk'), pid: within('pid') };
  for (const c of ['memory', 'disk', 'pid'] as const) if (!pressure[c]) conditionLastObservedAt.delete(c);

  const due = met.filter((t) => now - (firstObservedAt.get(key(t)) ?? now) >= t.gracePeriodMs);
  const next: EvictionState = { firstObservedAt, conditionLastObservedAt, met: due };
  const first = [...due].sort((a, b) => signalOrder.indexOf(a.signal) - signalOrder.indexOf(b.signal))[0];
  if (!first) return { state: next, pressure };
  const resource = resourceOf(first.signal);
  const plan: EvictionPlan = { state: next, pressure, reclaim: { signal: first.signal, resource, threshold: first } };
  const ranked = rankPods(first.signal, input.pods, input.usage);
  const victim = ranked.find((p) => !isCriticalPod(p));
  if (!victim) return plan;
  const own = victim.spec?.terminationGracePeriodSeconds ?? 30;
  const gracePeriodSeconds = first.hard ? 0 : input.maxPodGracePeriodSeconds > 0 ? Math.min(input.maxPodGracePeriodSeconds, own) : own;
  plan.evict = { pod: victim, gracePeriodSeconds, message: evictionMessage(first, o, victim, input.usage) };
  return plan;
}

const priorityOf = (p: V1Pod) => p.spec?.priority ?? 0;

function usageOf(signal: Signal, pod: V1Pod, usage: NodeStats['pods']): number {
  const u = usage.get(pod.metadata?.uid ?? '');
  if (!u) return 0;
  if (signal === 'memory.available') return u.memoryWorkingSetBytes;
  if (signal === 'pid.available') return 0;
  return u.ephemeralBytes;
}

function requestOf(signal: Signal, pod: V1Pod): number {
  const r = podRequests(pod);
  if (signal === 'memory.available') return r.memoryBytes;
  if (signal.endsWith('.available')) return r.ephemeralBytes;
  return 0;
}

/** Upstream's ranking: pods using more than they asked for first, then lower priority, then more usage (above requests for memory). */
export function rankPods(signal: Signal, pods: readonly V1Pod[], usage: NodeStats['pods']): V1Pod[] {
  const exceeds = (p: V1Pod) => (signal === 'pid.available' ? false : usageOf(signal, p, usage) > requestOf(signal, p));
  const over = (p: V1Pod) => usageOf(signal, p, usage) - (signal === 'memory.available' ? requestOf(signal, p) : 0);
  return [...pods].sort((a, b) => {
    if (exceeds(a) !== exceeds(b)) return exceeds(a) ? -1 : 1;
    if (priorityOf(a) !== priorityOf(b)) return priorityOf(a) - priorityOf(b);
    return over(b) - over(a);
  });
}

/** Upstream's message: the resource, the threshold and what was available, then what the pod's containers used against their requests. */
export function evictionMessage(t: EvictionThreshold, o: Observations, pod: V1Pod, usage: NodeStats['pods']): string {
  const resource = resourceOf(t.signal);
  const obs = o[t.signal] ?? { available: 0, capacity: 0 };
  const fmt = (n: number) => (resource === 'memory' || resource === 'ephemeral-storage' ? formatBytes(n) : String(n));
  let message = `The node was low on resource: ${resource}. Threshold quantity: ${fmt(amount(t.value, obs.capacity))}, available: ${fmt(obs.available)}. `;
  if (t.signal === 'memory.available') {
    const u = usage.get(pod.metadata?.uid ?? '');
    for (const c of pod.spec?.containers ?? []) {
      const used = u?.containers.find((x) => x.name === c.name)?.memoryWorkingSetBytes ?? 0;
      const q = c.resources?.requests?.['memory'];
      const request = q === undefined ? 0 : podRequests({ spec: { containers: [{ name: c.name, resources: { requests: { memory: q } } }] } }).memoryBytes;
      if (used > request)
        message += `Container ${c.name} was using ${formatBytes(used)}, request is ${formatBytes(request)}, has larger consumption of ${resource}. `;
    }
  }
  return message;
}
