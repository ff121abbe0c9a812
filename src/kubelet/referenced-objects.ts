import { ApiException, type CoreV1Api, type V1ConfigMap, type V1Pod, type V1Secret } from '@kubernetes/client-node';
import type { ObjectLookup } from './cri-request-builders.js';
import { specContainers } from './pods/container-outcome.js';

/** The ConfigMaps and Secrets a pod's env, envFrom and imagePullSecrets name. */
export function referencedObjects(pod: V1Pod): { configMaps: Set<string>; secrets: Set<string> } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  for (const c of specContainers(pod)) {
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
  return { configMaps, secrets };
}

/**
 * Fetches, before each sync, the objects the pod refers to, so the pure env resolver
 * sees a consistent snapshot: the kubelet's node authorizer lets it read exactly these.
 * A missing object is simply absent (the resolver names it in CreateContainerConfigError).
 */
export class ReferencedObjectCache implements ObjectLookup {
  readonly #core: (() => CoreV1Api) | undefined;
  readonly #configMaps = new Map<string, V1ConfigMap>();
  readonly #secrets = new Map<string, V1Secret>();

  constructor(core: (() => CoreV1Api) | undefined) {
    this.#core = core;
  }

  async prefetch(pod: V1Pod): Promise<void> {
    const core = this.#core?.();
    if (!core) return;
    const namespace = pod.metadata?.namespace ?? 'default';
    const { configMaps, secrets } = referencedObjects(pod);
    const absent = (err: unknown) => {
      if (err instanceof ApiException && (err.code === 404 || err.code === 403)) return undefined;
      throw err;
    };
    await Promise.all([
      ...[...configMaps].map(async (name) => {
        const cm = await core.readNamespacedConfigMap({ name, namespace }).catch(absent);
        if (cm) this.#configMaps.set(`${namespace}/${name}`, cm);
        else this.#configMaps.delete(`${namespace}/${name}`);
      }),
      ...[...secrets].map(async (name) => {
        const s = await core.readNamespacedSecret({ name, namespace }).catch(absent);
        if (s) this.#secrets.set(`${namespace}/${name}`, s);
        else this.#secrets.delete(`${namespace}/${name}`);
      }),
    ]);
  }

  configMap(namespace: string, name: string): V1ConfigMap | undefined {
    return this.#configMaps.get(`${namespace}/${name}`);
  }

  secret(namespace: string, name: string): V1Secret | undefined {
    return this.#secrets.get(`${namespace}/${name}`);
  }
}
