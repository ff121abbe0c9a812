import type { V1Pod } from '@kubernetes/client-node';
import { specContainers } from './container-outcome.js';

export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

/** The resources that decide QoS (as upstream: cpu and memory only). */
const qosResources = ['cpu', 'memory'] as const;

/**
 * Upstream's QoS rules: BestEffort when no container asks for cpu or memory;
 * Guaranteed when every container limits both and requests equal limits; else Burstable.
 * Pod-level resources (spec.resources), where set, decide instead.
 */
export function qosClass(pod: V1Pod): QosClass {
  const podLevel = pod.spec?.resources;
  const sets = podLevel && (podLevel.requests || podLevel.limits) ? [podLevel] : specContainers(pod).map((c) => c.resources ?? {});
  let any = false;
  let guaranteed = true;
  for (const r of sets) {
    for (const name of qosResources) {
      const req = r.requests?.[name];
      const lim = r.limits?.[name];
      if (req !== undefined || lim !== undefined) any = true;
      if (lim === undefined || (req !== undefined && String(req) !== String(lim))) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
