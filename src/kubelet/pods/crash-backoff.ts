// Crash-loop back-off, per container of a pod, as the upstream kubelet does it.
//
//   no entry ──restart──► delay 10s ──restart──► 20s ──► 40s ──► … ──► max (300s)
//        ▲                    │                                          │
//        └──── the instance that exited had run for more than 2 × max ◄─┘
//              since the last restart (or gc after 2 × max idle)
//
// A restart is recorded when it happens (`next`). A later exit is "in back-off" while
// less than the current delay has passed since it finished; the container may start at
// finishedAt + delay. Time is always a parameter (ms since the epoch): nothing here
// reads a clock, so the planner that asks and the tests that check stay pure.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { fnv32a } from '../../common/fnv.js';
import { canonicalJson } from '../cri-requests/container-hash.js';
import { backoffDelay } from '../../common/backoff.js';
import { formatGoDuration } from '../../common/go-duration.js';
import { TskubeError } from '../../common/errors.js';
import type { ContainerToStart } from './pod-actions.js';
import type { PodRuntimeState } from './runtime-state.js';
import { anyContainerSpec, latestExited, nsToMs } from './container-outcome.js';
import { podDescription } from './pod-names.js';

export const defaultInitialBackoffMs = 10_000;
/** KubeletConfiguration crashLoopBackOff.maxContainerRestartPeriod defaults to 300s. */
export const defaultMaxBackoffMs = 300_000;

export interface CrashBackoffOptions {
  initialMs?: number;
  maxMs?: number;
}

interface Entry {
  /** Restarts since the back-off was armed (0: the first restart). */
  restarts: number;
  delayMs: number;
  /** When the back-off last moved (the last restart), ms since the epoch. */
  lastUpdate: number;
}

export class CrashBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly #entries = new Map<string, Entry>();

  constructor(options: CrashBackoffOptions = {}) {
    const initialMs = options.initialMs ?? defaultInitialBackoffMs;
    const maxMs = options.maxMs ?? defaultMaxBackoffMs;
    if (!(initialMs > 0) || !(maxMs > 0)) {
      throw new TskubeError('invalid-argument', `crash back-off: initial (${initialMs} ms) and max (${maxMs} ms) must be positive`);
    }
    if (initialMs > maxMs) {
      throw new TskubeError('invalid-argument', `crash back-off: initial ${initialMs} ms exceeds maxContainerRestartPeriod ${maxMs} ms`);
    }
    this.initialMs = initialMs;
    this.maxMs = maxMs;
  }

  /** The current delay for a key, 0 when it has none. */
  delayMs(key: string): number {
    return this.#entries.get(key)?.delayMs ?? 0;
  }

  /**
   * Whether a container that finished at `finishedAt` must still wait at `now`. An instance
   * that ran for more than 2 × max since the last restart is stable: no back-off.
   */
  isInBackoffSince(key: string, finishedAt: number, now: number): boolean {
    const e = this.#entries.get(key);
    if (!e || this.#expired(e, finishedAt)) return false;
    return now - finishedAt < e.delayMs;
  }

  /** When a container that finished at `finishedAt` may start again, if it must wait at all. */
  retryAt(key: string, finishedAt: number): number | undefined {
    const e = this.#entries.get(key);
    if (!e || this.#expired(e, finishedAt)) return undefined;
    return finishedAt + e.delayMs;
  }

  /**
   * Records a restart at `now` of a container whose previous instance finished at
   * `finishedAt`: the first restart (or the first after a long run) arms the initial
   * delay, each later one doubles it up to max. Returns the new delay.
   */
  next(key: string, finishedAt: number, now: number): number {
    const e = this.#entries.get(key);
    const restarts = !e || this.#expired(e, finishedAt) ? 0 : e.restarts + 1;
    const delayMs = backoffDelay({ initialMs: this.initialMs, maxMs: this.maxMs, factor: 2, jitter: 0 }, restarts, 0);
    this.#entries.set(key, { restarts, delayMs, lastUpdate: now });
    return delayMs;
  }

  reset(key: string): void {
    this.#entries.delete(key);
  }

  /** Forgets keys untouched for more than 2 × max (pods long gone, containers long stable). */
  gc(now: number): void {
    for (const [key, e] of this.#entries) {
      if (now - e.lastUpdate > 2 * this.maxMs) this.#entries.delete(key);
    }
  }

  /** Drops every key of one pod (the pod was deleted). */
  forgetPod(uid: string): void {
    const prefix = `${uid}/`;
    for (const key of this.#entries.keys()) if (key.startsWith(prefix)) this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }

  #expired(e: Entry, eventTime: number): boolean {
    return eventTime - e.lastUpdate > 2 * this.maxMs;
  }
}

/**
 * The back-off key of one container of one pod. Like upstream's, it changes with the
 * container's image and resources, so a fixed spec starts without the broken one's delay.
 */
export function crashBackoffKey(podUid: string, container: Pick<V1Container, 'name' | 'image' | 'resources'>): string {
  const spec = fnv32a(`${container.image ?? ''}/${canonicalJson(container.resources ?? {})}`).toString(16);
  return `${podUid}/${container.name}/${spec}`;
}

/** When the newest exited instance of a container finished, in ms (back-off counts from it). */
export function exitedAtMs(state: PodRuntimeState, name: string): number | undefined {
  const exited = latestExited(state, name);
  if (!exited) return undefined;
  return nsToMs(exited.finishedAt ?? exited.startedAt ?? exited.createdAt);
}

/**
 * Records, just before the executor starts them, the restarts among `started`: each
 * container that has an exited instance moves its back-off on. Upstream does this at the
 * same point (before the start, whether or not the start then succeeds).
 */
export function recordRestarts(backoff: CrashBackoff, pod: V1Pod, state: PodRuntimeState, started: readonly ContainerToStart[], now: number): void {
  for (const c of started) {
    const finishedAt = exitedAtMs(state, c.name);
    const spec = anyContainerSpec(pod, c.name);
    if (finishedAt !== undefined && spec) backoff.next(crashBackoffKey(state.uid, spec), finishedAt, now);
  }
}

/** The CrashLoopBackOff waiting message, worded exactly as upstream words it. */
export function crashLoopMessage(pod: V1Pod, containerName: string, delayMs: number): string {
  return `back-off ${formatGoDuration(delayMs)} restarting failed container=${containerName} pod=${podDescription(pod)}`;
}

/** The BackOff event message upstream records for the same situation. */
export function crashLoopEventMessage(pod: V1Pod, containerName: string): string {
  return `Back-off restarting failed container ${containerName} in pod ${podDescription(pod)}`;
}
