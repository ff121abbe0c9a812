// Mirror pods: the API's read-only copies of static pods, so `kubectl get pods` shows
// them (upstream pkg/kubelet/pod/mirror_client.go and the mirror handling in syncPod
// and HandlePodCleanups). A mirror pod carries kubernetes.io/config.mirror = the static
// pod's config hash and is owned by the Node. Plan is pure; the client and the syncer
// below are the thin executor.
//
//   static pod, no mirror            → create
//   mirror with another hash         → delete (stale content) then create
//   mirror being deleted             → delete now (grace 0); create once it is gone
//   mirror with no static pod        → delete (orphaned)
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { TskubeError } from '../../common/errors.js';
import { isApiError, KubeApiError } from '../../kube/api-error.js';
import { encode } from '../../kube/codec.js';
import { defaultLogger } from '../../common/logger.js';
import type { RestClient } from '../../kube/rest-client.js';
import { sleep } from '../../common/sleep.js';
import { configHashAnnotation, configMirrorAnnotation } from './labels.js';
import { podFullName } from './pod-names.js';
import type { PodSourceMerger } from './sources/pod-source-merger.js';

export type MirrorPodAction = { type: 'create'; staticPod: V1Pod } | { type: 'delete'; mirrorPod: V1Pod; reason: 'outdated' | 'orphaned' | 'terminating' };

/** The hash a mirror pod must carry: the static pod's config.hash (its UID when unset). */
export function staticPodHash(pod: V1Pod): string {
  return pod.metadata?.annotations?.[configHashAnnotation] ?? pod.metadata?.uid ?? '';
}

export function isMirrorOf(mirror: V1Pod, staticPod: V1Pod): boolean {
  return mirror.metadata?.annotations?.[configMirrorAnnotation] === staticPodHash(staticPod);
}

export function planMirrorPods(staticPods: readonly V1Pod[], mirrorPods: readonly V1Pod[]): MirrorPodAction[] {
  const actions: MirrorPodAction[] = [];
  const mirrors = new Map(mirrorPods.map((m) => [podFullName(m), m]));
  const wanted = new Set<string>();
  for (const pod of staticPods) {
    const name = podFullName(pod);
    wanted.add(name);
    const mirror = mirrors.get(name);
    if (mirror === undefined) actions.push({ type: 'create', staticPod: pod });
    else if (mirror.metadata?.deletionTimestamp) actions.push({ type: 'delete', mirrorPod: mirror, reason: 'terminating' });
    else if (!isMirrorOf(mirror, pod)) {
      actions.push({ type: 'delete', mirrorPod: mirror, reason: 'outdated' }, { type: 'create', staticPod: pod });
    }
  }
  for (const [name, mirror] of mirrors) {
    if (!wanted.has(name)) actions.push({ type: 'delete', mirrorPod: mirror, reason: 'orphaned' });
  }
  return actions;
}

/** The mirror pod to create for a static pod: same spec, the mirror annotation, owned by the Node. */
export function mirrorPodFor(staticPod: V1Pod, node: { name: string; uid: string }): V1Pod {
  const meta = staticPod.metadata ?? {};
  const metadata: NonNullable<V1Pod['metadata']> = {
    name: meta.name ?? '',
    namespace: meta.namespace ?? 'default',
    annotations: { ...meta.annotations, [configMirrorAnnotation]: staticPodHash(staticPod) },
    ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: node.uid, controller: true }],
  };
  if (meta.labels) metadata.labels = { ...meta.labels };
  const pod: V1Pod = { apiVersion: 'v1', kind: 'Pod', metadata };
  if (staticPod.spec) pod.spec = staticPod.spec;
  return pod;
}

export interface MirrorPodClientOptions {
  rest: RestClient;
  nodeName: string;
  logger?: Logger;
}

/** Creates and deletes mirror pods through the API. */
export class MirrorPodClient {
  readonly #rest: RestClient;
  readonly #nodeName: string;
  readonly #log: Logger;
  #nodeUid: string | undefined;

  constructor(options: MirrorPodClientOptions) {
    this.#rest = options.rest;
    this.#nodeName = options.nodeName;
    this.#log = (options.logger ?? defaultLogger('kubelet')).child({ component: 'mirror-pods' });
  }

  async create(staticPod: V1Pod, signal?: AbortSignal): Promise<void> {
    const node = { name: this.#nodeName, uid: await this.#getNodeUid(signal) };
    const body = encode('V1Pod', mirrorPodFor(staticPod, node));
    const ns = staticPod.metadata?.namespace ?? 'default';
    const name = staticPod.metadata?.name ?? '';
    try {
      await this.#rest.request('POST', `/api/v1/namespaces/${ns}/pods`, { body, ...(signal ? { signal } : {}) });
    } catch (err) {
      if (!isApiError(err, 'AlreadyExists')) throw TskubeError.from(err).wrap(`creating mirror pod ${ns}/${name}`);
      // Upstream: one that already exists with the same hash is as good as created.
      const existing = await this.#rest.request<{ metadata?: { annotations?: Record<string, string> } }>('GET', `/api/v1/namespaces/${ns}/pods/${name}`);
      if (existing.metadata?.annotations?.[configMirrorAnnotation] === staticPodHash(staticPod)) return;
      throw new TskubeError('already-exists', `creating mirror pod ${ns}/${name}: a pod of that name exists and is not its mirror`, { cause: err });
    }
    this.#log.info({ pod: `${ns}/${name}`, hash: staticPodHash(staticPod) }, 'created mirror pod');
  }

  /** Deletes at once (grace 0), only the exact pod seen (UID precondition); gone already is fine. */
  async delete(mirrorPod: V1Pod, reason: string, signal?: AbortSignal): Promise<void> {
    const ns = mirrorPod.metadata?.namespace ?? 'default';
    const name = mirrorPod.metadata?.name ?? '';
    const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 };
    if (mirrorPod.metadata?.uid) body['preconditions'] = { uid: mirrorPod.metadata.uid };
    try {
      await this.#rest.request('DELETE', `/api/v1/namespaces/${ns}/pods/${name}`, { body, ...(signal ? { signal } : {}) });
    } catch (err) {
      // NotFound: gone. Conflict: the UID differs, so it is another pod now; the next plan sees it.
      if (err instanceof KubeApiError && (err.status === 404 || err.status === 409)) return;
      throw TskubeError.from(err).wrap(`deleting mirror pod ${ns}/${name}`);
    }
    this.#log.info({ pod: `${ns}/${name}`, uid: mirrorPod.metadata?.uid, reason }, 'deleted mirror pod');
  }

  /** Carries out a plan in order; a failed step does not stop the others. Returns the failures. */
  async apply(actions: readonly MirrorPodAction[], signal?: AbortSignal): Promise<TskubeError[]> {
    const failures: TskubeError[] = [];
    const failedDeletes = new Set<string>();
    for (const a of actions) {
      try {
        if (a.type === 'delete') await this.delete(a.mirrorPod, a.reason, signal);
        // A create planned after a failed delete of the same pod cannot succeed; the retry replans.
        else if (!failedDeletes.has(podFullName(a.staticPod))) await this.create(a.staticPod, signal);
      } catch (err) {
        failures.push(TskubeError.from(err));
        if (a.type === 'delete') failedDeletes.add(podFullName(a.mirrorPod));
      }
    }
    return failures;
  }

  async #getNodeUid(signal?: AbortSignal): Promise<string> {
    if (this.#nodeUid) return this.#nodeUid;
    try {
      const node = await this.#rest.request<{ metadata?: { uid?: string } }>('GET', `/api/v1/nodes/${this.#nodeName}`, signal ? { signal } : {});
      const uid = node.metadata?.uid;
      if (!uid) throw new TskubeError('internal', `node ${this.#nodeName} has no uid`);
      this.#nodeUid = uid;
      return uid;
    } catch (err) {
      // Upstream waits for the node to be registered before making mirror pods.
      throw TskubeError.from(err).wrap(`mirror pods need the Node ${this.#nodeName}`);
    }
  }
}

export interface MirrorPodSyncerOptions {
  sources: PodSourceMerger;
  client: MirrorPodClient;
  logger?: Logger;
  /** Re-plan this often even without a change, to retry failures; default 10 s. */
  resyncMs?: number;
}

/** Keeps the API's mirror pods in line with the static pods: plan on every change, apply, retry. */
export class MirrorPodSyncer {
  readonly #o: MirrorPodSyncerOptions;
  readonly #log: Logger;
  #wake: (() => void) | undefined;
  #pending = true;
  #lastError: string | undefined;

  constructor(options: MirrorPodSyncerOptions) {
    this.#o = options;
    this.#log = (options.logger ?? defaultLogger('kubelet')).child({ component: 'mirror-pods' });
  }

  async run(signal: AbortSignal): Promise<void> {
    const off = this.#o.sources.onChange(() => {
      this.#pending = true;
      this.#wake?.();
    });
    try {
      while (!signal.aborted) {
        this.#pending = false;
        // Only with both sides known: before the API source lists, every static pod looks mirror-less.
        if (this.#o.sources.hasSeen('api')) await this.syncOnce(signal);
        if (this.#pending) continue;
        await sleep(this.#o.resyncMs ?? 10_000, signal, (wake) => (this.#wake = wake));
        this.#wake = undefined;
      }
    } finally {
      off();
    }
  }

  async syncOnce(signal?: AbortSignal): Promise<void> {
    const actions = planMirrorPods(this.#o.sources.staticPods(), this.#o.sources.mirrorPods());
    if (actions.length === 0) return;
    const failures = await this.#o.client.apply(actions, signal);
    const summary = failures.map((f) => f.message).join('; ');
    if (summary && summary !== this.#lastError) this.#log.warn({ errors: failures.map((f) => f.message) }, 'mirror pod sync failed; will retry');
    else if (!summary && this.#lastError) this.#log.info('mirror pod sync recovered');
    this.#lastError = summary || undefined;
  }
}
