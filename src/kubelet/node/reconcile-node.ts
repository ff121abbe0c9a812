// What a re-registering kubelet changes on a Node that already exists (upstream
// tryRegisterWithAPIServer): the default labels it owns and the controller-managed
// attach/detach annotation. --node-labels and taints given at registration are not put
// back: an admin may have changed them on purpose (kubeadm's control-plane taint
// removed to run workloads there), and upstream leaves them alone too.
import { controllerManagedAttachAnnotation, defaultLabelKeys } from './build-node.js';
import type { Node } from './node-wire.js';

/** A JSON merge patch for metadata, or undefined when the existing Node is fine. */
export function reconcileExistingNode(
  wanted: Node,
  existing: Node,
): { metadata: { labels?: Record<string, string | null>; annotations?: Record<string, string | null> } } | undefined {
  const labels: Record<string, string | null> = {};
  const have = existing.metadata.labels ?? {};
  for (const key of defaultLabelKeys) {
    const want = wanted.metadata.labels?.[key];
    if (want === undefined) continue;
    // An empty default is removed rather than set, as upstream does.
    if (want === '') {
      if (key in have) labels[key] = null;
    } else if (have[key] !== want) {
      labels[key] = want;
    }
  }
  const annotations: Record<string, string | null> = {};
  const wantCmad = wanted.metadata.annotations?.[controllerManagedAttachAnnotation];
  const haveCmad = existing.metadata.annotations?.[controllerManagedAttachAnnotation];
  if (wantCmad !== haveCmad) annotations[controllerManagedAttachAnnotation] = wantCmad ?? null;
  const metadata: { labels?: Record<string, string | null>; annotations?: Record<string, string | null> } = {};
  if (Object.keys(labels).length > 0) metadata.labels = labels;
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  return metadata.labels || metadata.annotations ? { metadata } : undefined;
}
