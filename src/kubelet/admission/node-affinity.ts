// Matching a pod against a Node as the scheduler's filters do, for the kubelet's own
// admission check: nodeSelector and required node affinity (NodeAffinity), and taints
// with tolerations (TaintToleration, NoExecute only, as the kubelet checks it).
import type { V1NodeSelectorRequirement, V1NodeSelectorTerm, V1Pod, V1Taint, V1Toleration } from '@kubernetes/client-node';

export interface NodeView {
  name: string;
  labels: Record<string, string>;
  taints: Pick<V1Taint, 'key' | 'value' | 'effect'>[];
}

function requirementMatches(r: V1NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      // Both sides must be whole numbers; anything else does not match.
      if (value === undefined || values.length !== 1 || !/^-?\d+$/.test(value) || !/^-?\d+$/.test(values[0] ?? '')) return false;
      const have = BigInt(value);
      const want = BigInt(values[0] ?? '0');
      return r.operator === 'Gt' ? have > want : have < want;
    }
    default:
      return false;
  }
}

/** A term matches when all its expressions and fields do; a term with neither matches nothing. */
function termMatches(term: V1NodeSelectorTerm, node: NodeView): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  if (!exprs.every((r) => requirementMatches(r, node.labels[r.key]))) return false;
  return fields.every((r) => r.key === 'metadata.name' && requirementMatches(r, node.name));
}

/** spec.nodeSelector and requiredDuringSchedulingIgnoredDuringExecution (upstream GetRequiredNodeAffinity().Match). */
export function matchesNodeAffinity(pod: V1Pod, node: NodeView): boolean {
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (node.labels[k] !== v) return false;
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  return required.nodeSelectorTerms.some((t) => termMatches(t, node));
}

/** Whether one toleration tolerates a taint (upstream Toleration.ToleratesTaint). */
export function tolerates(t: V1Toleration, taint: Pick<V1Taint, 'key' | 'value' | 'effect'>): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (t.operator === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

export function toleratesTaint(tolerations: readonly V1Toleration[] | undefined, taint: Pick<V1Taint, 'key' | 'value' | 'effect'>): boolean {
  return (tolerations ?? []).some((t) => tolerates(t, taint));
}

/** The first NoExecute taint of the node the pod does not tolerate. */
export function untoleratedNoExecuteTaint(pod: V1Pod, node: NodeView): NodeView['taints'][number] | undefined {
  return node.taints.find((taint) => taint.effect === 'NoExecute' && !toleratesTaint(pod.spec?.tolerations, taint));
}
