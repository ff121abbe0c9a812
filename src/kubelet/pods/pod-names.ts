// The ways the kubelet names a pod, each where upstream uses it.
import type { V1Pod } from '@kubernetes/client-node';

/** "<namespace>/<name>", as log lines name an object. */
export function podKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`;
}

/** Upstream's pod full name, "<name>_<namespace>": how a static pod finds its mirror. */
export function podFullName(pod: V1Pod): string {
  return `${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? ''}`;
}

/** The pod as upstream names it in messages: name_namespace(uid). */
export function podDescription(pod: V1Pod): string {
  return `${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? ''}(${pod.metadata?.uid ?? ''})`;
}
