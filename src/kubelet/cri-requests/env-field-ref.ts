import type { V1Container, V1ObjectFieldSelector, V1Pod, V1ResourceFieldSelector } from '@kubernetes/client-node';
import { TskubeError } from '../../common/errors.js';
import { parseExactQuantity } from '../../kube/quantity.js';
import { containerSpec } from '../pods/container-outcome.js';

export interface FieldRefSources {
  hostIPs: string[];
  podIPs: string[];
}

/** Map values formatted as the downward API does: sorted `key="value"` lines. */
export function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(m?.[k] ?? '')}`)
    .join('\n');
}

const subscript = /^(metadata\.(?:labels|annotations))\['(.*)'\]$/;

/** The value of a downward-API fieldRef for an env var. */
export function fieldRefValue(pod: V1Pod, ref: V1ObjectFieldSelector, src: FieldRefSources, field: string): string {
  if (ref.apiVersion && ref.apiVersion !== 'v1') {
    throw new TskubeError('invalid-argument', `${field}.apiVersion: unsupported pod version: ${ref.apiVersion}`);
  }
  const path = ref.fieldPath;
  switch (path) {
    case 'metadata.name':
      return pod.metadata?.name ?? '';
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata?.uid ?? '';
    case 'metadata.labels':
      return formatMap(pod.metadata?.labels);
    case 'metadata.annotations':
      return formatMap(pod.metadata?.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
      return src.hostIPs[0] ?? '';
    case 'status.hostIPs':
      return src.hostIPs.join(',');
    case 'status.podIP':
      return src.podIPs[0] ?? '';
    case 'status.podIPs':
      return src.podIPs.join(',');
  }
  const m = subscript.exec(path);
  if (m) {
    const map = m[1] === 'metadata.labels' ? pod.metadata?.labels : pod.metadata?.annotations;
    return map?.[m[2] ?? ''] ?? '';
  }
  throw new TskubeError('invalid-argument', `${field}.fieldPath: unsupported fieldPath: ${path}`);
}

export interface NodeAllocatable {
  cpu: string;
  memory: string;
  'ephemeral-storage'?: string;
}

function ceilDiv(num: bigint, den: bigint): bigint {
  const q = num / den;
  return num % den === 0n ? q : num > 0n === den > 0n ? q + 1n : q;
}

/**
 * The value of a resourceFieldRef (`limits.cpu`, `requests.memory`, ...) in units of the
 * divisor (none, or "0", is 1), rounded up, as the downward API gives it. A limit the
 * container does not set reads as the node's allocatable amount.
 */
export function resourceFieldRefValue(pod: V1Pod, container: V1Container, ref: V1ResourceFieldSelector, allocatable: NodeAllocatable, field: string): string {
  let target = container;
  if (ref.containerName) {
    const found = containerSpec(pod, ref.containerName);
    if (!found) throw new TskubeError('invalid-argument', `${field}.containerName: no container named ${JSON.stringify(ref.containerName)}`);
    target = found;
  }
  const dot = ref.resource.indexOf('.');
  const which = ref.resource.slice(0, dot);
  const name = ref.resource.slice(dot + 1);
  const known = name === 'cpu' || name === 'memory' || name === 'ephemeral-storage' || name.startsWith('hugepages-');
  if (dot < 0 || (which !== 'limits' && which !== 'requests') || !known) {
    throw new TskubeError('invalid-argument', `${field}.resource: unsupported container resource : ${ref.resource}`);
  }
  let q: string | number | undefined = target.resources?.[which]?.[name];
  if (q === undefined && which === 'limits' && (name === 'cpu' || name === 'memory' || name === 'ephemeral-storage')) q = allocatable[name];
  const value = parseExactQuantity(q ?? 0, `${field} (${ref.resource})`);
  // The API server writes divisor "0" when none is given; zero means 1, as upstream reads it.
  const given = parseExactQuantity(ref.divisor === undefined || ref.divisor === '' ? '0' : ref.divisor, `${field}.divisor`);
  const divisor = given.num === 0n ? { num: 1n, den: 1n } : given;
  // value / divisor, both exact fractions; cpu goes through millis as upstream, which only matters for rounding.
  if (name === 'cpu') {
    const milli = ceilDiv(value.num * 1000n, value.den);
    const divMilli = ceilDiv(divisor.num * 1000n, divisor.den);
    return String(ceilDiv(milli, divMilli === 0n ? 1n : divMilli));
  }
  const bytes = ceilDiv(value.num, value.den);
  const divBytes = ceilDiv(divisor.num, divisor.den);
  return String(ceilDiv(bytes, divBytes === 0n ? 1n : divBytes));
}
