/*
 * One worker per pod UID. Each worker runs one operation at a time; while it runs,
 * newer updates replace older pending ones (the latest wins).
 *
 *   update(pod) ─► syncing ──terminate(pod, grace), or a sync says terminal──► terminating ──done──► terminated ──forget()──► (gone)
 *                   │   ▲                                                       │ ▲
 *                   └───┘ resync(uid), retry, requeue                           └─┘ a shorter grace period restarts termination
 *
 * A terminate() aborts a sync in flight (its signal fires) so a deleted pod does not wait
 * for a slow image pull. Syncs that fail are retried with per-pod back-off; a sync may ask
 * to be run again after a delay (crash-loop back-off ends, image pull back-off ends).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { backoffDelay } from '../../common/backoff.js';
import { TskubeError } from '../../common/errors.js';
import { podGracePeriodSeconds } from './plan-termination.js';

export type WorkerPhase = 'syncing' | 'terminating' | 'terminated';

export interface SyncResult {
  /** Run the sync again after this many ms even if nothing changes (a back-off ends). */
  requeueAfterMs?: number;
  /** The pod has finished for good (Succeeded, or Failed): terminate it, with its own grace period. */
  terminal?: boolean;
}

export interface PodWorkerHooks {
  sync(pod: V1Pod, signal: AbortSignal): Promise<SyncResult | undefined>;
  /** Stops every container and the sandbox of the pod within the grace period. */
  terminate(pod: V1Pod, gracePeriodSeconds: number, signal: AbortSignal): Promise<void>;
  /** Called once a pod is terminated (e.g. to finish the API deletion, drop status). */
  terminated?(pod: V1Pod): Promise<void>;
  /** One line per failed operation; the worker retries. */
  onError?(pod: V1Pod, op: 'sync' | 'terminate', err: TskubeError, retryInMs: number): void;
}

interface Worker {
  uid: string;
  phase: WorkerPhase;
  pod: V1Pod;
  /** The grace period of the requested termination, while terminating. */
  grace?: number;
  pending: boolean;
  running?: { op: 'sync' | 'terminate'; controller: AbortController; grace?: number };
  timer?: NodeJS.Timeout;
  failures: number;
}

export interface PodWorkersOptions {
  /** Back-off after a failed operation: min(initial * 2^n, max). */
  retryInitialMs?: number;
  retryMaxMs?: number;
}

export class PodWorkers {
  readonly #workers = new Map<string, Worker>();
  readonly #hooks: PodWorkerHooks;
  readonly #retryInitialMs: number;
  readonly #retryMaxMs: number;
  #idleWaiters: (() => void)[] = [];

  constructor(hooks: PodWorkerHooks, options: PodWorkersOptions = {}) {
    this.#hooks = hooks;
    this.#retryInitialMs = options.retryInitialMs ?? 1000;
    this.#retryMaxMs = options.retryMaxMs ?? 30_000;
  }

  /** The desired state of a pod changed (or is being re-asserted): sync it. */
  update(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) throw new TskubeError('invalid-argument', `pod ${pod.metadata?.namespace}/${pod.metadata?.name} has no metadata.uid`);
    const w = this.#workers.get(uid);
    if (!w) {
      this.#workers.set(uid, { uid, phase: 'syncing', pod, pending: true, failures: 0 });
      this.#kick(uid);
      return;
    }
    // A terminating or terminated pod does not come back: a UID is never reused.
    if (w.phase !== 'syncing') return;
    w.pod = pod;
    w.pending = true;
    this.#kick(uid);
  }

  /** Stop the pod: its containers are killed within the grace period, then it is terminated. */
  terminate(pod: V1Pod, gracePeriodSeconds: number): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    let w = this.#workers.get(uid);
    if (!w) {
      w = { uid, phase: 'terminating', pod, grace: gracePeriodSeconds, pending: true, failures: 0 };
      this.#workers.set(uid, w);
      this.#kick(uid);
      return;
    }
    if (w.phase === 'terminated') return;
    const shorter = w.grace === undefined || gracePeriodSeconds < w.grace;
    if (w.phase === 'terminating' && !shorter) return;
    w.phase = 'terminating';
    w.pod = pod;
    w.grace = gracePeriodSeconds;
    w.pending = true;
    // Abort a sync in flight, and a termination running with a longer grace period.
    if (w.running && (w.running.op === 'sync' || (w.running.grace ?? Infinity) > gracePeriodSeconds)) {
      w.running.controller.abort(new TskubeError('canceled', 'superseded by a termination'));
    }
    this.#kick(uid);
  }

  /** Something changed in the runtime for this pod: run its current operation again. */
  resync(uid: string): void {
    const w = this.#workers.get(uid);
    if (!w || w.phase === 'terminated') return;
    w.pending = true;
    this.#kick(uid);
  }

  /** Drops a terminated worker; the pod is gone from every source. */
  forget(uid: string): boolean {
    const w = this.#workers.get(uid);
    if (w?.phase !== 'terminated') return false;
    clearTimeout(w.timer);
    this.#workers.delete(uid);
    return true;
  }

  phase(uid: string): WorkerPhase | undefined {
    return this.#workers.get(uid)?.phase;
  }

  /** The latest pod the worker was given. */
  pod(uid: string): V1Pod | undefined {
    return this.#workers.get(uid)?.pod;
  }

  /** False only once the pod's containers are known to be stopped. */
  couldHaveRunningContainers(uid: string): boolean {
    const w = this.#workers.get(uid);
    return w !== undefined && w.phase !== 'terminated';
  }

  uids(): string[] {
    return [...this.#workers.keys()];
  }

  /** Resolves when no worker runs or has work pending (for tests and shutdown). */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Aborts everything in flight (shutdown); containers keep running. */
  stop(): void {
    for (const w of this.#workers.values()) {
      clearTimeout(w.timer);
      w.pending = false;
      w.running?.controller.abort(new TskubeError('canceled', 'kubelet stopping'));
    }
  }

  #isIdle(): boolean {
    for (const w of this.#workers.values()) if (w.running || w.pending) return false;
    return true;
  }

  #kick(uid: string): void {
    const w = this.#workers.get(uid);
    if (!w || w.running || !w.pending) return;
    clearTimeout(w.timer);
    w.pending = false;
    void this.#runOnce(w);
  }

  #schedule(w: Worker, ms: number): void {
    clearTimeout(w.timer);
    w.timer = setTimeout(() => {
      w.pending = true;
      this.#kick(w.uid);
    }, ms);
    w.timer.unref?.();
  }

  async #runOnce(w: Worker): Promise<void> {
    const op = w.phase === 'syncing' ? 'sync' : w.phase === 'terminating' ? 'terminate' : undefined;
    if (!op) return this.#settled();
    const controller = new AbortController();
    const grace = w.grace ?? 0;
    w.running = op === 'terminate' ? { op, controller, grace } : { op, controller };
    const pod = w.pod;
    try {
      if (op === 'sync') {
        const result = await this.#hooks.sync(pod, controller.signal);
        w.failures = 0;
        if (result?.terminal && w.phase === 'syncing') {
          w.phase = 'terminating';
          w.grace = podGracePeriodSeconds(pod);
          w.pending = true;
        } else if (result?.requeueAfterMs !== undefined && w.phase === 'syncing') this.#schedule(w, result.requeueAfterMs);
      } else {
        await this.#hooks.terminate(pod, grace, controller.signal);
        w.failures = 0;
        // A newer, shorter termination request restarts the work; otherwise we are done.
        if (!w.pending) {
          w.phase = 'terminated';
          await this.#hooks.terminated?.(pod).catch((err: unknown) => this.#hooks.onError?.(pod, 'terminate', TskubeError.from(err), 0));
        }
      }
    } catch (err) {
      if (!controller.signal.aborted) {
        const delay = backoffDelay({ initialMs: this.#retryInitialMs, maxMs: this.#retryMaxMs, factor: 2, jitter: 0 }, w.failures, 0);
        w.failures++;
        this.#hooks.onError?.(pod, op, TskubeError.from(err), delay);
        this.#schedule(w, delay);
      }
    } finally {
      w.running = undefined;
    }
    if (w.pending) this.#kick(w.uid);
    else this.#settled();
  }

  #settled(): void {
    if (!this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
