/*
 * The pod lifecycle event generator: relists the runtime every second, keeps the last
 * view per pod UID, and tells the pod workers which pods changed (a container exited,
 * a sandbox died). A sync that just acted asks for a fresh view: one from a relist that
 * started after it asked, so it sees its own actions; concurrent asks share one relist.
 * Relists are ordered by a sequence number, not the clock, so two in the same
 * millisecond are still told apart.
 */
import { TskubeError } from '../../common/errors.js';
import type { PodRuntimeState } from '../pods/runtime-state.js';
import type { RuntimeObserver } from './runtime-observer.js';
import { sleep } from '../../common/sleep.js';
import type { PodSandboxStatus__Output } from '../../gen/cri/runtime/v1/PodSandboxStatus.js';

export interface RuntimeCacheOptions {
  intervalMs?: number;
  onPodChanged?: (uid: string) => void;
  /** One line when relisting starts failing and one when it recovers. */
  onHealth?: (healthy: boolean, err?: TskubeError) => void;
  /** After each successful relist: how long it took and when it started (ms), for the PLEG metrics. */
  onRelisted?: (durationMs: number, startedAt: number) => void;
  now?: () => number;
}

/** A compact fingerprint of what matters for syncing: ids, phases, exit codes. */
function fingerprint(state: PodRuntimeState): string {
  return [
    ...state.sandboxes.map((s) => `s:${s.id}:${s.phase}:${s.ips.join(',')}`),
    ...state.containers.map((c) => `c:${c.id}:${c.phase}:${c.exitCode ?? ''}`),
  ].join('|');
}

export class RuntimeCache {
  readonly #observer: RuntimeObserver;
  readonly #intervalMs: number;
  readonly #onPodChanged: (uid: string) => void;
  readonly #onHealth: (healthy: boolean, err?: TskubeError) => void;
  readonly #onRelisted: (durationMs: number, startedAt: number) => void;
  readonly #now: () => number;
  #pods = new Map<string, PodRuntimeState>();
  #prints = new Map<string, string>();
  #updatedAt = 0;
  /** The sequence number of the last relist started, and of the one whose result is held (0: none yet). */
  #startedSeq = 0;
  #heldSeq = 0;
  #inflight: Promise<Map<string, PodRuntimeState>> | undefined;
  #healthy = true;
  #lastError: TskubeError | undefined;

  constructor(observer: RuntimeObserver, options: RuntimeCacheOptions = {}) {
    this.#observer = observer;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#onPodChanged = options.onPodChanged ?? (() => undefined);
    this.#onHealth = options.onHealth ?? (() => undefined);
    this.#onRelisted = options.onRelisted ?? (() => undefined);
    this.#now = options.now ?? Date.now;
  }

  /** When the last successful relist finished (ms since the epoch); 0 before the first. */
  get updatedAt(): number {
    return this.#updatedAt;
  }

  get lastError(): TskubeError | undefined {
    return this.#healthy ? undefined : this.#lastError;
  }

  /** The runtime view of every kubelet-made pod: the last one, or with `fresh` one relisted after this call. */
  async all(fresh = false): Promise<Map<string, PodRuntimeState>> {
    if (!fresh && this.#heldSeq > 0) return this.#pods;
    return this.#relist();
  }

  async pod(uid: string, fresh = false): Promise<PodRuntimeState | undefined> {
    return (await this.all(fresh)).get(uid);
  }

  /** A new sandbox's status, from the call that made it: the relists take it instead of asking again. */
  knowSandbox(id: string, status: PodSandboxStatus__Output): void {
    this.#observer.knowSandbox(id, status);
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.#relist().catch(() => undefined);
      await sleep(this.#intervalMs, signal);
    }
  }

  #relist(): Promise<Map<string, PodRuntimeState>> {
    // Everyone asking while a relist runs gets a relist that started after they asked.
    const askedAfter = this.#startedSeq;
    const chained = (this.#inflight ?? Promise.resolve(this.#pods))
      .catch(() => this.#pods)
      .then(() => (this.#heldSeq > askedAfter ? this.#pods : this.#doRelist()));
    this.#inflight = chained;
    void chained
      .finally(() => {
        if (this.#inflight === chained) this.#inflight = undefined;
      })
      .catch(() => undefined);
    return chained;
  }

  async #doRelist(): Promise<Map<string, PodRuntimeState>> {
    const started = this.#now();
    const seq = ++this.#startedSeq;
    let pods: Map<string, PodRuntimeState>;
    try {
      pods = await this.#observer.relist();
    } catch (err) {
      const e = TskubeError.from(err);
      this.#lastError = e;
      if (this.#healthy) {
        this.#healthy = false;
        this.#onHealth(false, e);
      }
      throw e;
    }
    if (!this.#healthy) {
      this.#healthy = true;
      this.#onHealth(true);
    }
    this.#onRelisted(this.#now() - started, started);
    const prints = new Map<string, string>();
    for (const [uid, state] of pods) prints.set(uid, fingerprint(state));
    const changed = new Set<string>();
    for (const [uid, print] of prints) if (this.#prints.get(uid) !== print) changed.add(uid);
    for (const uid of this.#prints.keys()) if (!prints.has(uid)) changed.add(uid);
    this.#pods = pods;
    this.#prints = prints;
    this.#updatedAt = started;
    this.#heldSeq = seq;
    for (const uid of changed) this.#onPodChanged(uid);
    return pods;
  }
}
