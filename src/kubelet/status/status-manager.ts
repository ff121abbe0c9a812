/*
 * Keeps the newest status the kubelet computed for each pod and writes it to the API
 * server when it differs from what the API holds (a queue, a few pods written at once but
 * one write per pod at a time, per-pod retry), as upstream's status manager does: merged
 * with the API's status (other writers' conditions kept, a terminal phase held back while
 * containers may run) and sent as a strategic merge patch of only what changed. Static pods are written through their mirror pod. A pod the
 * API does not show (a runtime leftover, or a static pod before its mirror exists) is not
 * written. Without an API (standalone mode) it only remembers, so `statusOf` still answers.
 */
import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { TskubeError } from '../../common/errors.js';
import { sleep } from '../../common/sleep.js';
import { encode } from '../../kube/codec.js';
import { mergePodStatus } from './merge-pod-status.js';
import type { PodStatusApi } from './pod-status-api.js';
import { type Json, podStatusPatch } from './status-patch.js';

export interface StatusManagerOptions {
  api?: PodStatusApi;
  /**
   * The API's object for a pod's status as last seen (the pod itself, or a static pod's
   * mirror pod); undefined while the API does not show one. Default: the pod handed to set().
   */
  target?: (pod: V1Pod) => V1Pod | undefined;
  /** The pod worker has not finished stopping the pod: a terminal phase waits for it. */
  couldHaveRunningContainers?: (uid: string) => boolean;
  equal: (a: V1PodStatus, b: V1PodStatus) => boolean;
  onError?: (pod: V1Pod, err: TskubeError) => void;
  /** Every status the kubelet computes, written or not (the pod start metric). */
  onStatus?: (pod: V1Pod, status: V1PodStatus) => void;
  retryMs?: number;
  now?: () => Date;
  /** Status writes in flight at once, each for another pod (default 5). */
  maxConcurrentWrites?: number;
  /** A debug line per status written (the pod start timeline). */
  log?: Logger;
}

const defaultConcurrentWrites = 5;

interface Entry {
  pod: V1Pod;
  status: V1PodStatus;
  written?: V1PodStatus;
}

/**
 * A status as the API's JSON, with what Go's omitempty leaves out (absent, empty strings,
 * empty lists) dropped, so the status read from the API and the one computed compare alike.
 */
export function statusJson(status: V1PodStatus): { [key: string]: Json } {
  const prune = (v: Json): Json | undefined => {
    if (v === null || v === undefined || v === '') return undefined;
    if (Array.isArray(v)) {
      const items = v.map(prune).filter((x): x is Json => x !== undefined);
      return items.length > 0 ? items : undefined;
    }
    if (typeof v === 'object') {
      const out: { [key: string]: Json } = {};
      for (const [k, x] of Object.entries(v)) {
        const p = prune(x);
        if (p !== undefined) out[k] = p;
      }
      return out;
    }
    return v;
  };
  return (prune(encode('V1PodStatus', status) as Json) ?? {}) as { [key: string]: Json };
}

export class StatusManager {
  readonly #entries = new Map<string, Entry>();
  readonly #dirty = new Set<string>();
  /** Pods whose API object was not there when their status was due. */
  readonly #awaitingTarget = new Set<string>();
  readonly #options: StatusManagerOptions;
  #wake: (() => void) | undefined;

  constructor(options: StatusManagerOptions) {
    this.#options = options;
  }

  set(pod: V1Pod, status: V1PodStatus): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    this.#options.onStatus?.(pod, status);
    const entry = this.#entries.get(uid);
    if (entry) {
      entry.pod = pod;
      entry.status = status;
    } else {
      this.#entries.set(uid, { pod, status });
    }
    const written = this.#entries.get(uid)?.written;
    if (!written || !this.#options.equal(written, status)) this.#markDirty(uid);
  }

  statusOf(uid: string): V1PodStatus | undefined {
    return this.#entries.get(uid)?.status;
  }

  forget(uid: string): void {
    this.#entries.delete(uid);
    this.#dirty.delete(uid);
    this.#awaitingTarget.delete(uid);
  }

  /** The pod's status is due again as it is (its worker finished stopping it: a held-back terminal phase may go now). */
  recheck(uid: string): void {
    if (this.#entries.has(uid)) this.#markDirty(uid);
  }

  /** The API's objects changed: statuses that waited for theirs (a mirror pod) are due again. */
  targetsChanged(): void {
    for (const uid of this.#awaitingTarget) this.#markDirty(uid);
    this.#awaitingTarget.clear();
  }

  #markDirty(uid: string): void {
    this.#dirty.add(uid);
    this.#wake?.();
  }

  /**
   * Writes due statuses, a few pods at a time and never two writes of one pod at once (a pod
   * due again while its write runs is written again after it, with its newest status). One
   * write at a time, as upstream's single goroutine does it, made the last of 110 pods
   * starting together wait behind 86 others' PATCHes.
   */
  async run(signal: AbortSignal): Promise<void> {
    const api = this.#options.api;
    if (!api) return;
    const limit = this.#options.maxConcurrentWrites ?? defaultConcurrentWrites;
    const writing = new Map<string, Promise<void>>();
    const startable = () => writing.size < limit && [...this.#dirty].some((uid) => !writing.has(uid));
    while (!signal.aborted) {
      for (const uid of [...this.#dirty]) {
        if (writing.size >= limit) break;
        if (writing.has(uid)) continue;
        this.#dirty.delete(uid);
        const entry = this.#entries.get(uid);
        if (!entry) continue;
        const write = this.#write(api, uid, entry)
          .catch((err: unknown) => this.#options.onError?.(entry.pod, TskubeError.from(err)))
          .finally(() => {
            writing.delete(uid);
            this.#wake?.();
          });
        writing.set(uid, write);
      }
      await sleep(Infinity, signal, (wake) => {
        this.#wake = wake;
        if (startable()) wake();
      });
      this.#wake = undefined;
    }
    await Promise.allSettled(writing.values());
  }

  async #write(api: PodStatusApi, uid: string, entry: Entry): Promise<void> {
    const target = (this.#options.target ?? ((p: V1Pod) => p))(entry.pod);
    const { namespace, name, uid: targetUid } = target?.metadata ?? {};
    if (!namespace || !name || !targetUid) {
      this.#awaitingTarget.add(uid);
      return;
    }
    const status = entry.status;
    const current = target?.status ?? {};
    const merged = mergePodStatus(current, status, this.#options.couldHaveRunningContainers?.(uid) ?? false, this.#options.now?.() ?? new Date());
    const patch = podStatusPatch(targetUid, statusJson(current), statusJson(merged));
    try {
      if (patch) await api.patchStatus(namespace, name, patch);
      entry.written = status;
      if (patch) this.#options.log?.debug({ pod: `${namespace}/${name}`, phase: merged.phase, queued: this.#dirty.size }, 'pod status written');
    } catch (err) {
      const e = TskubeError.from(err);
      // The pod is gone (404) or is another pod now (409, the UID precondition): nothing to report to.
      if (e.code === 'not-found' || e.code === 'failed-precondition') {
        this.forget(uid);
        return;
      }
      this.#options.onError?.(entry.pod, e);
      setTimeout(() => {
        if (this.#entries.has(uid)) this.#markDirty(uid);
      }, this.#options.retryMs ?? 2000).unref();
    }
  }
}
