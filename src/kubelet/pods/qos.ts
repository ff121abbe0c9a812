import type { V1Pod, V1ResourceRequirements } from '@kubernetes/client-node';
import { type ExactQuantity, parseExactQuantity } from '../../kube/quantity.js';
import { specContainers } from './container-outcome.js';

export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

/** The resources that decide QoS (as upstream: cpu and memory only). */
const qosResources = ['cpu', 'memory'] as const;
type QosResource = (typeof qosResources)[number];

const zero: ExactQuantity = { num: 0n, den: 1n };

function add(a: ExactQuantity, b: ExactQuantity): ExactQuantity {
  return { num: a.num * b.den + b.num * a.den, den: a.den * b.den };
}

function same(a: ExactQuantity, b: ExactQuantity): boolean {
  return a.num * b.den === b.num * a.den;
}

/** A quantity by value; one the API server would not have let through counts as none. */
function amount(q: string | number | undefined): ExactQuantity {
  if (q === undefined) return zero;
  try {
    return parseExactQuantity(q);
  } catch {
    return zero;
  }
}

/** The positive cpu and memory amounts of one list, added into `into`; the names found. */
function addPositive(into: Map<QosResource, ExactQuantity>, list: Record<string, string | number> | undefined): Set<QosResource> {
  const found = new Set<QosResource>();
  for (const name of qosResources) {
    const q = amount(list?.[name]);
    if (q.num <= 0n) continue;
    found.add(name);
    into.set(name, add(into.get(name) ?? zero, q));
  }
  return found;
}

/**
 * The pod's QoS class as computed from its spec, by upstream's rules, on quantities (so
 * "1" and "1000m" are the same): BestEffort when nothing asks for a positive amount of
 * cpu or memory; Guaranteed when every container limits both and the summed requests
 * equal the summed limits; else Burstable. Pod-level resources, where set, decide instead.
 */
export function computeQosClass(pod: V1Pod): QosClass {
  const requests = new Map<QosResource, ExactQuantity>();
  const limits = new Map<QosResource, ExactQuantity>();
  let guaranteed = true;
  const podLevel = pod.spec?.resources;
  const sets: V1ResourceRequirements[] = podLevel ? [podLevel] : specContainers(pod).map((c) => c.resources ?? {});
  for (const r of sets) {
    addPositive(requests, r.requests);
    const limited = addPositive(limits, r.limits);
    // Pod-level requests without limits are Burstable through the comparison below.
    if ((!podLevel || Object.keys(r.limits ?? {}).length > 0) && !(limited.has('cpu') && limited.has('memory'))) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  for (const [name, req] of requests) {
    const lim = limits.get(name);
    if (!lim || !same(lim, req)) guaranteed = false;
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}

/**
 * The pod's QoS class: the one the API server recorded in its status (it never changes,
 * not even when the pod is resized), else computed from the spec.
 */
export function qosClass(pod: V1Pod): QosClass {
  const recorded = pod.status?.qosClass;
  if (recorded === 'Guaranteed' || recorded === 'Burstable' || recorded === 'BestEffort') return recorded;
  return computeQosClass(pod);
}
