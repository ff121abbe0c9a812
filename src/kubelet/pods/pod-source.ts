// Where a pod comes from, as upstream marks it (kubernetes.io/config.source), and what
// that makes it: a static pod (from a file, run without the API) or a mirror pod (the
// API's reflection of a static pod, never run).
import type { V1Pod } from '@kubernetes/client-node';
import { configMirrorAnnotation, configSourceAnnotation } from './labels.js';

/** The pod sources the kubelet reads: the API server's pods bound to the node, and static pod files. */
export type PodSourceName = 'api' | 'file';

/** From a file (or URL) rather than the API; upstream's kubetypes.IsStaticPod. */
export function isStaticPod(pod: V1Pod): boolean {
  const source = pod.metadata?.annotations?.[configSourceAnnotation];
  return source !== undefined && source !== 'api';
}

export function isMirrorPod(pod: V1Pod): boolean {
  return pod.metadata?.annotations?.[configMirrorAnnotation] !== undefined;
}
