/*
 * Joins the pod sources to the pod workers. Each source reports its full set of pods
 * for this node (API pods bound here, static pods from files); whenever a set changes,
 * the runtime shows a pod nobody knows, or the periodic resync fires, planReconcile says
 * what each pod needs and the reconciler hands it to the workers.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { planReconcile, type ReconcileAction } from './plan-reconcile.js';
import { podSyncKey } from './pod-sync-key.js';
import { podKey } from './pod-names.js';
import type { PodSourceName } from './pod-source.js';
import type { PodWorkers } from './pod-workers.js';
import { sleep } from '../../common/sleep.js';
import { errorMessage } from '../../common/errors.js';

export interface PodReconcilerOptions {
  workers: PodWorkers;
  /** The sources that must list once before runtime leftovers may be killed. */
  sources: PodSourceName[];
  /** UIDs with sandboxes or containers in the runtime (from the runtime cache). */
  runtimeUids: () => Promise<ReadonlySet<string>>;
  isFinished: (uid: string) => boolean;
  /** Removes what the runtime and the disk keep of a terminated pod nobody wants. */
  remove: (uid: string) => Promise<void>;
  /** Completes the API deletion of a pod whose containers are stopped. */
  finishDeletion: (pod: V1Pod) => Promise<void>;
  log: Logger;
  resyncMs?: number;
  /** The admission check for pods about to start; without it every pod is started. */
  admission?: PodAdmission;
}

export interface PodAdmission {
  isAdmitted(uid: string): boolean;
  /** Admitted or rejected: not checked again. */
  decided(uid: string): boolean;
  /** Returns the candidates that may start; the others are reported Failed. */
  admit(candidates: readonly V1Pod[], active: readonly V1Pod[]): Promise<V1Pod[]>;
}

export class PodReconciler {
  readonly #o: PodReconcilerOptions;
  readonly #bySource = new Map<PodSourceName, Map<string, V1Pod>>();
  readonly #lastKnown = new Map<string, V1Pod>();
  /** The podSyncKey of the pod each worker was last given. */
  readonly #handed = new Map<string, string>();
  readonly #removing = new Set<string>();
  readonly #finishing = new Set<string>();
  /** Removals and deletions under way: run() waits for them before it returns, so nothing touches the runtime after. */
  readonly #inflight = new Set<Promise<void>>();
  #pending = false;
  #loopEnteredAt = 0;
  #wake: (() => void) | undefined;

  constructor(options: PodReconcilerOptions) {
    this.#o = options;
  }

  /** A source's complete, current set of pods. */
  setPods(source: PodSourceName, pods: readonly V1Pod[]): void {
    const map = new Map<string, V1Pod>();
    for (const p of pods) if (p.metadata?.uid) map.set(p.metadata.uid, p);
    this.#bySource.set(source, map);
    this.trigger();
  }

  /** Whether every source has delivered its first full list: before that, absence means nothing. */
  get #sourcesReady(): boolean {
    return this.#o.sources.every((s) => this.#bySource.has(s));
  }

  /** All pods some source wants, by UID. */
  desired(): Map<string, V1Pod> {
    const all = new Map<string, V1Pod>();
    for (const m of this.#bySource.values()) for (const [uid, p] of m) all.set(uid, p);
    return all;
  }

  /** Pods wanted, being handled or just removed; undefined until every source has listed. */
  knownPodUids(): ReadonlySet<string> | undefined {
    if (!this.#sourcesReady) return undefined;
    return new Set([...this.desired().keys(), ...this.#o.workers.uids(), ...this.#lastKnown.keys(), ...this.#removing]);
  }

  /** When the loop last started a pass (ms since the epoch; 0 before the first): what /healthz's syncloop check reads. */
  get loopEnteredAt(): number {
    return this.#loopEnteredAt;
  }

  trigger(): void {
    this.#pending = true;
    this.#wake?.();
  }

  /** `full`: every pod wanted goes to its worker (the periodic resync); otherwise only the pods that are new or changed. */
  async reconcileOnce(full = true): Promise<void> {
    // One snapshot of the sources: a source that lists while the runtime is read must not
    // count as ready with pods missing from `desired`, or its running pods look like leftovers.
    const desired = this.desired();
    const sourcesReady = this.#sourcesReady;
    for (const [uid, p] of desired) this.#lastKnown.set(uid, p);
    const workers = new Map(this.#o.workers.uids().map((uid) => [uid, this.#o.workers.phase(uid) ?? 'syncing'] as const));
    const inRuntime = await this.#o.runtimeUids().catch(() => new Set<string>());
    const actions = planReconcile({
      desired,
      workers,
      lastKnown: this.#lastKnown,
      inRuntime,
      sourcesReady,
      isFinished: this.#o.isFinished,
    });
    const refused = await this.#admit(actions, desired);
    for (const a of actions) {
      if (a.kind === 'sync') {
        const uid = a.pod.metadata?.uid ?? '';
        if (refused.has(uid)) continue;
        const phase = this.#o.workers.phase(uid);
        // Between resyncs a pod goes to its worker only when something a sync reads changed: the
        // kubelet's own status writes come back through the watch, and handing every pod over on
        // each of them made N status writes cost N x N syncs while many pods started.
        const key = podSyncKey(a.pod);
        if (!full && phase !== undefined && this.#handed.get(uid) === key) continue;
        this.#handed.set(uid, key);
        if (phase === undefined) this.#o.log.debug({ pod: podKey(a.pod) }, 'pod admitted; handed to its worker');
        this.#o.workers.update(a.pod);
      } else if (a.kind === 'finish-deletion') {
        const uid = a.pod.metadata?.uid ?? '';
        if (this.#finishing.has(uid)) continue;
        this.#finishing.add(uid);
        this.#track(
          this.#o
            .finishDeletion(a.pod)
            .catch((err: unknown) => this.#o.log.warn({ uid, err: errorMessage(err) }, 'finishing a pod deletion failed; will retry'))
            .finally(() => this.#finishing.delete(uid)),
        );
      } else if (a.kind === 'terminate') {
        if (this.#o.workers.phase(a.pod.metadata?.uid ?? '') === undefined) {
          this.#o.log.info({ pod: podKey(a.pod), uid: a.pod.metadata?.uid, why: a.why }, 'terminating pod');
        }
        this.#o.workers.terminate(a.pod, a.gracePeriodSeconds);
      } else if (!this.#removing.has(a.uid)) {
        this.#removing.add(a.uid);
        this.#track(
          this.#o
            .remove(a.uid)
            .then(() => {
              this.#o.workers.forget(a.uid);
              this.#lastKnown.delete(a.uid);
              this.#handed.delete(a.uid);
            })
            .catch((err: unknown) => this.#o.log.warn({ uid: a.uid, err: errorMessage(err) }, 'removing a terminated pod failed; will retry'))
            .finally(() => this.#removing.delete(a.uid)),
        );
      }
    }
  }

  #track(work: Promise<void>): void {
    this.#inflight.add(work);
    void work.finally(() => this.#inflight.delete(work));
  }

  /** Runs admission for pods about to start for the first time; returns the UIDs refused. */
  async #admit(actions: readonly ReconcileAction[], desired: ReadonlyMap<string, V1Pod>): Promise<Set<string>> {
    const admission = this.#o.admission;
    const refused = new Set<string>();
    if (!admission) return refused;
    const uid = (p: V1Pod) => p.metadata?.uid ?? '';
    const candidates = actions.flatMap((a) => (a.kind === 'sync' && !admission.decided(uid(a.pod)) ? [a.pod] : []));
    if (candidates.length === 0) return refused;
    const active = [...desired.values()].filter((p) => {
      const phase = this.#o.workers.phase(uid(p));
      return admission.isAdmitted(uid(p)) && phase !== 'terminated' && (!this.#o.isFinished(uid(p)) || phase === 'terminating');
    });
    const admitted = new Set((await admission.admit(candidates, active)).map(uid));
    for (const p of candidates) if (!admitted.has(uid(p))) refused.add(uid(p));
    return refused;
  }

  async run(signal: AbortSignal): Promise<void> {
    const resyncMs = this.#o.resyncMs ?? 10_000;
    let lastFull = 0;
    while (!signal.aborted) {
      this.#pending = false;
      this.#loopEnteredAt = Date.now();
      const full = this.#loopEnteredAt - lastFull >= resyncMs;
      if (full) lastFull = this.#loopEnteredAt;
      await this.reconcileOnce(full).catch((err: unknown) => this.#o.log.error({ err: errorMessage(err) }, 'reconcile failed'));
      await sleep(resyncMs, signal, (wake) => {
        this.#wake = wake;
        if (this.#pending) wake();
      });
      this.#wake = undefined;
      // Coalesce bursts of source updates into one pass.
      await sleep(50, signal);
    }
    // The kubelet closes the runtime client after its parts end: removals must be done by then.
    await Promise.allSettled([...this.#inflight]);
  }
}
