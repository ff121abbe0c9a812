/*
 * Keeps the newest status the kubelet computed for each pod and writes it to the API
 * server only when it differs from what was last written (one writer, a queue, per-pod
 * retry). Static pods are written through their mirror pod. Without an API (standalone
 * mode) it only remembers, so `statusOf` still answers for the kubelet's own use.
 */
import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { TskubeError } from '../../common/errors.js';
import type { PodStatusApi } from './pod-status-api.js';
import { sleep } from '../../common/sleep.js';

export interface StatusTarget {
  namespace: string;
  name: string;
  /** The UID of the object to patch: the pod's own, or its mirror pod's. */
  uid: string;
}

export interface StatusManagerOptions {
  api?: PodStatusApi;
  /** Where a pod's status goes; undefined while a static pod has no mirror yet. */
  target?: (pod: V1Pod) => StatusTarget | undefined;
  equal: (a: V1PodStatus, b: V1PodStatus) => boolean;
  onError?: (pod: V1Pod, err: TskubeError) => void;
  /** Every status the kubelet computes, written or not (the pod start metric). */
  onStatus?: (pod: V1Pod, status: V1PodStatus) => void;
  retryMs?: number;
}

interface Entry {
  pod: V1Pod;
  status: V1PodStatus;
  written?: V1PodStatus;
}

const defaultTarget = (pod: V1Pod): StatusTarget | undefined =>
  pod.metadata?.uid && pod.metadata.name ? { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name, uid: pod.metadata.uid } : undefined;

export class StatusManager {
  readonly #entries = new Map<string, Entry>();
  readonly #dirty = new Set<string>();
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
    if (!written || !this.#options.equal(written, status)) {
      this.#dirty.add(uid);
      this.#wake?.();
    }
  }

  statusOf(uid: string): V1PodStatus | undefined {
    return this.#entries.get(uid)?.status;
  }

  forget(uid: string): void {
    this.#entries.delete(uid);
    this.#dirty.delete(uid);
  }

  /** Asks for every pod to be written again (the API was away, or a mirror pod appeared). */
  markAllDirty(): void {
    for (const uid of this.#entries.keys()) this.#dirty.add(uid);
    this.#wake?.();
  }

  async run(signal: AbortSignal): Promise<void> {
    const api = this.#options.api;
    if (!api) return;
    const retryMs = this.#options.retryMs ?? 2000;
    while (!signal.aborted) {
      for (const uid of [...this.#dirty]) {
        const entry = this.#entries.get(uid);
        this.#dirty.delete(uid);
        if (!entry) continue;
        const target = (this.#options.target ?? defaultTarget)(entry.pod);
        if (!target) continue;
        const status = entry.status;
        try {
          await api.patchStatus(target.namespace, target.name, target.uid, status);
          entry.written = status;
        } catch (err) {
          const e = TskubeError.from(err);
          // The pod is gone (404) or is another pod now (409, the UID precondition): nothing to report to.
          if (e.code === 'not-found' || e.code === 'failed-precondition') {
            this.forget(uid);
            continue;
          }
          this.#options.onError?.(entry.pod, e);
          setTimeout(() => {
            if (this.#entries.has(uid)) this.#dirty.add(uid);
            this.#wake?.();
          }, retryMs).unref();
        }
      }
      await sleep(Infinity, signal, (wake) => {
        this.#wake = wake;
        if (this.#dirty.size > 0) wake();
      });
      this.#wake = undefined;
    }
  }
}
