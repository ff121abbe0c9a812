// Merges the pod sources into "the desired pods now", per source, as snapshots: the
// pod reconciler takes a source's complete set (PodReconciler.setPods). Like upstream's
// PodConfig (pkg/kubelet/config) it stamps kubernetes.io/config.source and config.seen (first seen) on each
// pod, and keeps mirror pods (the API's copies of static pods) out of what the workers
// run: they are handed to the mirror pod syncer instead.
import type { V1Pod } from '@kubernetes/client-node';
import { configSeenAnnotation, configSourceAnnotation } from '../labels.js';
import { isMirrorPod, isStaticPod, type PodSourceName } from '../pod-source.js';

export type PodsListener = (source: PodSourceName, pods: V1Pod[]) => void;

export interface PodSourceMergerOptions {
  now?: () => Date;
}

interface SourceState {
  pods: V1Pod[];
  mirrors: V1Pod[];
  signature: string;
  mirrorSignature: string;
}

export class PodSourceMerger {
  readonly #sources = new Map<PodSourceName, SourceState>();
  readonly #firstSeen = new Map<string, string>();
  readonly #listeners = new Set<PodsListener>();
  readonly #changeListeners = new Set<() => void>();
  readonly #now: () => Date;
  /** Every source's pods by UID, rebuilt when a source changes. */
  #byUid: Map<string, V1Pod> | undefined;

  constructor(options: PodSourceMergerOptions = {}) {
    this.#now = options.now ?? (() => new Date());
  }

  /** A source's complete set of pods (the sink the sources call). */
  set(source: PodSourceName, pods: readonly V1Pod[]): void {
    const { runnable, mirrors } = splitMirrorPods(pods);
    const stamped = runnable.map((p) => stampPod(p, source, this.#seenAt(p)));
    const next: SourceState = { pods: stamped, mirrors, signature: podSetSignature(stamped), mirrorSignature: podSetSignature(mirrors) };
    const prev = this.#sources.get(source);
    this.#sources.set(source, next);
    this.#byUid = undefined;
    this.#pruneFirstSeen();
    const podsChanged = prev === undefined || prev.signature !== next.signature;
    if (podsChanged) for (const l of this.#listeners) l(source, stamped);
    if (podsChanged || prev.mirrorSignature !== next.mirrorSignature) for (const l of this.#changeListeners) l();
  }

  /** Called with a source's pods (mirror pods left out) whenever that set changes, and on its first set. */
  subscribe(listener: PodsListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Called after any change, mirror pods included (for the mirror pod syncer). */
  onChange(listener: () => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  hasSeen(source: PodSourceName): boolean {
    return this.#sources.has(source);
  }

  /** Pods to run: from one source, or from all. */
  pods(source?: PodSourceName): V1Pod[] {
    if (source) return [...(this.#sources.get(source)?.pods ?? [])];
    return [...this.#sources.values()].flatMap((s) => s.pods);
  }

  /** Pods that are not from the API (static pods), which get mirror pods. */
  staticPods(): V1Pod[] {
    return this.pods().filter(isStaticPod);
  }

  /** A pod to run, as its source last gave it (an API pod with the status the API holds). */
  pod(uid: string): V1Pod | undefined {
    this.#byUid ??= new Map(this.pods().map((p) => [p.metadata?.uid ?? '', p]));
    return this.#byUid.get(uid);
  }

  mirrorPods(): V1Pod[] {
    return [...this.#sources.values()].flatMap((s) => s.mirrors);
  }

  #seenAt(pod: V1Pod): string {
    const uid = pod.metadata?.uid ?? '';
    let seen = this.#firstSeen.get(uid);
    if (seen === undefined) {
      seen = this.#now().toISOString();
      this.#firstSeen.set(uid, seen);
    }
    return seen;
  }

  #pruneFirstSeen(): void {
    const live = new Set(this.pods().map((p) => p.metadata?.uid ?? ''));
    for (const uid of this.#firstSeen.keys()) if (!live.has(uid)) this.#firstSeen.delete(uid);
  }
}

export function splitMirrorPods(pods: readonly V1Pod[]): { runnable: V1Pod[]; mirrors: V1Pod[] } {
  const runnable: V1Pod[] = [];
  const mirrors: V1Pod[] = [];
  for (const p of pods) (isMirrorPod(p) ? mirrors : runnable).push(p);
  return { runnable, mirrors };
}

/** A copy with config.source and config.seen set; the source's own object is left alone (the reflector's store shares it). */
export function stampPod(pod: V1Pod, source: PodSourceName, seenAt: string): V1Pod {
  const annotations: Record<string, string> = { ...pod.metadata?.annotations, [configSourceAnnotation]: source };
  annotations[configSeenAnnotation] ??= seenAt;
  return { ...pod, metadata: { ...pod.metadata, annotations } };
}

/** Changes when a pod comes, goes, or (API pods) gets a new resourceVersion. */
export function podSetSignature(pods: readonly V1Pod[]): string {
  return pods
    .map((p) => `${p.metadata?.uid}@${p.metadata?.resourceVersion ?? ''}`)
    .sort()
    .join(',');
}
