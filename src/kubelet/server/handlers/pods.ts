import type { V1Pod } from '@kubernetes/client-node';
import type { PodRuntimeState } from '../../pods/runtime-state.js';

// /pods: the pods the kubelet was told to run, as a v1 PodList. /runningpods/: what the
// runtime runs, reduced to names and images as upstream's runtime pods are (a debugging
// view: pods the kubelet no longer wants but has not removed show up here).

export function podList(items: readonly V1Pod[]): object {
  return { kind: 'PodList', apiVersion: 'v1', metadata: {}, items };
}

/**
 * /pods as JSON, written again only when the pods changed: the pod sources hand out the
 * same objects until a pod comes, goes or changes, so comparing them is enough.
 */
export class PodListBody {
  #items: readonly V1Pod[] = [];
  #body: string | undefined;

  of(items: readonly V1Pod[]): string {
    if (this.#body === undefined || items.length !== this.#items.length || items.some((p, i) => p !== this.#items[i])) {
      this.#items = items;
      this.#body = JSON.stringify(podList(items));
    }
    return this.#body;
  }
}

export function runningPodList(pods: ReadonlyMap<string, PodRuntimeState>): object {
  const items: object[] = [];
  for (const p of pods.values()) {
    const running = p.containers.filter((c) => c.phase === 'running');
    if (running.length === 0 && !p.sandboxes.some((s) => s.phase === 'ready')) continue;
    items.push({
      metadata: { name: p.name, namespace: p.namespace, uid: p.uid, creationTimestamp: null },
      spec: { containers: running.map((c) => ({ name: c.name, image: c.image, resources: {} })) },
      status: {},
    });
  }
  return podList(items as V1Pod[]);
}
