import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { quantityMillis, quantityValue } from '../../kube/quantity.js';

// Reading resource quantities out of a pod spec, with the field named in any error.

export type ResourceList = { [name: string]: string | number } | undefined;

export function containerField(pod: V1Pod, container: V1Container): string {
  const init = (pod.spec?.initContainers ?? []).some((c) => c === container || c.name === container.name);
  return `spec.${init ? 'initContainers' : 'containers'}[${container.name}]`;
}

/** Millicores of `list[name]`, or undefined when the list does not name it. */
export function millisOf(list: ResourceList, name: string, field: string): number | undefined {
  const q = list?.[name];
  return q === undefined ? undefined : quantityMillis(q, `${field}.${name}`);
}

/** Integer value of `list[name]` (bytes for memory), or undefined when not named. */
export function resourceValue(list: ResourceList, name: string, field: string): number | undefined {
  const q = list?.[name];
  return q === undefined ? undefined : quantityValue(q, `${field}.${name}`);
}

/** A restartable init container (restartPolicy Always): a sidecar. */
export function isSidecar(pod: V1Pod, container: V1Container): boolean {
  return container.restartPolicy === 'Always' && (pod.spec?.initContainers ?? []).some((c) => c.name === container.name);
}

type Pick = (list: ResourceList, field: string) => number;

/**
 * The pod's effective total for one resource, as the scheduler and upstream's resource
 * helper count it: regular containers plus sidecars, or the largest init container
 * (plus the sidecars started before it), whichever is more. Pod-level resources win.
 */
export function podTotal(pod: V1Pod, which: 'requests' | 'limits', pick: Pick): number {
  const podLevel = pod.spec?.resources?.[which];
  if (podLevel && Object.keys(podLevel).length > 0) {
    const v = pick(podLevel, `spec.resources.${which}`);
    if (v > 0) return v;
  }
  let sidecars = 0;
  let initPeak = 0;
  for (const c of pod.spec?.initContainers ?? []) {
    const v = pick(c.resources?.[which], `spec.initContainers[${c.name}].resources.${which}`);
    if (c.restartPolicy === 'Always') {
      sidecars += v;
      initPeak = Math.max(initPeak, sidecars);
    } else {
      initPeak = Math.max(initPeak, sidecars + v);
    }
  }
  let regular = 0;
  for (const c of pod.spec?.containers ?? []) regular += pick(c.resources?.[which], `spec.containers[${c.name}].resources.${which}`);
  return Math.max(regular + sidecars, initPeak);
}
