/*
 * The ConfigMaps and Secrets pods refer to (env, envFrom, imagePullSecrets, volumes), each
 * watched on its own: a reflector per object with fieldSelector metadata.name=<name> in the
 * pod's namespace, as upstream's "Watch" configMapAndSecretChangeDetectionStrategy does.
 * The Node authorizer lets a kubelet get, list and watch exactly the objects its pods
 * name, one name at a time, so this is also the widest read it may make.
 *
 * Why watch rather than get before each use: a watched object stays in the store while
 * the API server is away (a crash-looping container still restarts with its env), changes
 * reach the pods that use it at once (a Secret that appears starts the pod waiting for it,
 * an edited ConfigMap is rewritten into volumes), and a steady pod costs no reads at all.
 * Immutable objects are read once and not watched further.
 *
 *   prefetch(pod) ─► register each name (refcount by pod UID) ─► reflector lists, then watches
 *                     └ waits up to a second for first lists       │ change ─► onChanged(uids)
 *   release(uid) ─► last reference gone ─► reflector stopped, object dropped
 */
import type { V1ConfigMap, V1Pod, V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { TskubeError } from '../common/errors.js';
import { sleep } from '../common/sleep.js';
import { type Reflector, reflectorFor } from '../kube/reflector.js';
import type { RestClient } from '../kube/rest-client.js';
import type { ObjectLookup } from './cri-request-builders.js';
import { specContainers } from './pods/container-outcome.js';

export type ReferencedKind = 'configmap' | 'secret';

/** The ConfigMaps and Secrets a pod's containers (env, envFrom), imagePullSecrets and volumes name. */
export function referencedObjects(pod: V1Pod): { configMaps: Set<string>; secrets: Set<string> } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  const containers = [...specContainers(pod), ...(pod.spec?.ephemeralContainers ?? [])];
  for (const c of containers) {
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef?.name) configMaps.add(e.valueFrom.configMapKeyRef.name);
      if (e.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
    }
    for (const f of c.envFrom ?? []) {
      if (f.configMapRef?.name) configMaps.add(f.configMapRef.name);
      if (f.secretRef?.name) secrets.add(f.secretRef.name);
    }
  }
  for (const s of pod.spec?.imagePullSecrets ?? []) if (s.name) secrets.add(s.name);
  for (const v of pod.spec?.volumes ?? []) {
    if (v.configMap?.name) configMaps.add(v.configMap.name);
    if (v.secret?.secretName) secrets.add(v.secret.secretName);
    for (const p of v.projected?.sources ?? []) {
      if (p.configMap?.name) configMaps.add(p.configMap.name);
      if (p.secret?.name) secrets.add(p.secret.name);
    }
  }
  return { configMaps, secrets };
}

export interface ReferencedObjectCacheOptions {
  /** The API client; absent in standalone mode, where every reference is simply absent. */
  rest?: RestClient;
  log: Logger;
  /** The pods whose referenced object changed (appeared, was edited, deleted) after its first list. */
  onChanged?: (uids: readonly string[]) => void;
  /** How long prefetch waits for a newly watched object's first list (upstream waits a second). */
  syncWaitMs?: number;
}

interface Watched {
  kind: ReferencedKind;
  namespace: string;
  name: string;
  reflector: Reflector<V1ConfigMap | V1Secret>;
  controller: AbortController;
  uids: Set<string>;
  /** Read once and immutable: no longer watched, the store keeps it. */
  frozen: boolean;
}

const resources: Record<ReferencedKind, string> = { configmap: 'configmaps', secret: 'secrets' };

export class ReferencedObjectCache implements ObjectLookup {
  readonly #o: ReferencedObjectCacheOptions;
  readonly #items = new Map<string, Watched>();
  /** What each pod refers to, by UID (item keys). */
  readonly #byPod = new Map<string, Set<string>>();
  #stopped = false;

  constructor(options: ReferencedObjectCacheOptions) {
    this.#o = options;
  }

  /** How many objects are watched now (the benchmark's and the log's view). */
  get watching(): number {
    let n = 0;
    for (const item of this.#items.values()) if (!item.frozen) n++;
    return n;
  }

  /**
   * Registers what the pod refers to (replacing what it referred to before) and waits,
   * a second at most, for the first list of each object not seen yet. Never throws: an
   * object that has not listed reads as "cannot tell yet" (lookups throw 'unavailable').
   */
  async prefetch(pod: V1Pod): Promise<void> {
    const rest = this.#o.rest;
    const uid = pod.metadata?.uid ?? '';
    if (!rest || !uid || this.#stopped) return;
    const namespace = pod.metadata?.namespace ?? 'default';
    const { configMaps, secrets } = referencedObjects(pod);
    const wanted = new Set([...[...configMaps].map((n) => key('configmap', namespace, n)), ...[...secrets].map((n) => key('secret', namespace, n))]);
    const before = this.#byPod.get(uid) ?? new Set<string>();
    for (const k of before) if (!wanted.has(k)) this.#unref(k, uid);
    const waits: Promise<void>[] = [];
    for (const k of wanted) {
      const item = this.#items.get(k) ?? this.#watch(rest, k);
      item.uids.add(uid);
      if (item.reflector.listCount === 0) waits.push(item.reflector.ready);
    }
    if (wanted.size > 0) this.#byPod.set(uid, wanted);
    else this.#byPod.delete(uid);
    if (waits.length === 0) return;
    const timeout = AbortSignal.timeout(this.#o.syncWaitMs ?? 1000);
    await Promise.race([Promise.allSettled(waits), sleep(this.#o.syncWaitMs ?? 1000, timeout)]);
  }

  /** The pod is gone (or will not run again): its references end, and watches nobody needs stop. */
  release(uid: string): void {
    for (const k of this.#byPod.get(uid) ?? []) this.#unref(k, uid);
    this.#byPod.delete(uid);
  }

  configMap(namespace: string, name: string): V1ConfigMap | undefined {
    return this.#lookup('configmap', namespace, name) as V1ConfigMap | undefined;
  }

  secret(namespace: string, name: string): V1Secret | undefined {
    return this.#lookup('secret', namespace, name) as V1Secret | undefined;
  }

  /** Stops every watch when the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    await sleep(Number.POSITIVE_INFINITY, signal);
    this.#stopped = true;
    for (const item of this.#items.values()) item.controller.abort();
    this.#items.clear();
    this.#byPod.clear();
  }

  /**
   * The object, or undefined when it does not exist. Throws TskubeError('unavailable')
   * when its first list has not come back yet, as upstream's "failed to sync … cache":
   * a missing object and one the kubelet cannot see yet must not read the same.
   */
  #lookup(kind: ReferencedKind, namespace: string, name: string): V1ConfigMap | V1Secret | undefined {
    if (!this.#o.rest) return undefined;
    const item = this.#items.get(key(kind, namespace, name));
    if (!item || item.reflector.listCount === 0) {
      throw new TskubeError('unavailable', `failed to sync ${kind} cache: timed out waiting for the condition (${kind} ${namespace}/${name} not listed yet)`);
    }
    return item.reflector.store.get(`${namespace}/${name}`);
  }

  #watch(rest: RestClient, k: string): Watched {
    const [kind, namespace, name] = k.split('/') as [ReferencedKind, string, string];
    const controller = new AbortController();
    let listed = false;
    const changed = () => {
      if (listed) this.#o.onChanged?.([...item.uids]);
    };
    const reflector = reflectorFor<V1ConfigMap | V1Secret>(rest, `/api/v1/namespaces/${namespace}/${resources[kind]}`, {
      name: `${kind} ${namespace}/${name}`,
      fieldSelector: `metadata.name=${name}`,
      // One line per failure and recovery is enough; a list per object is not news.
      logger: this.#o.log.child({ watch: `${kind} ${namespace}/${name}` }, { level: 'warn' }),
      handler: {
        onAdd: changed,
        onUpdate: changed,
        onDelete: changed,
        onSynced: () => {
          // The first list may end a wait that timed out: tell the pods that waited.
          if (!listed) {
            listed = true;
            this.#o.onChanged?.([...item.uids]);
          }
          const object = reflector.store.get(`${namespace}/${name}`);
          if (object && (object as { immutable?: boolean }).immutable === true) {
            item.frozen = true;
            controller.abort();
          }
        },
      },
    });
    const item: Watched = { kind, namespace, name, reflector, controller, uids: new Set(), frozen: false };
    this.#items.set(k, item);
    void reflector.run(controller.signal).catch((err: unknown) => this.#o.log.warn({ watch: k, err: TskubeError.from(err).message }, 'watch ended'));
    return item;
  }

  #unref(k: string, uid: string): void {
    const item = this.#items.get(k);
    if (!item) return;
    item.uids.delete(uid);
    if (item.uids.size > 0) return;
    item.controller.abort();
    this.#items.delete(k);
  }
}

function key(kind: ReferencedKind, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}
