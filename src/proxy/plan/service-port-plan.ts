// What every back end does with one service port, decided once and without I/O: which
// endpoints internal (ClusterIP) and external (NodePort, LoadBalancer, external IP)
// traffic may reach, and what happens when there are none (REJECT when the Service has
// no usable endpoint anywhere, DROP when only the Local policy leaves it without one).
import { type CategorizedEndpoints, categorizeEndpoints, type NodeTopology } from '../model/categorize.js';
import type { Endpoint } from '../model/endpoints.js';
import { externallyAccessible, type ServicePort } from '../model/service-port.js';

export type NoEndpointVerdict = 'reject' | 'drop';

export interface ServicePortPlan {
  port: ServicePort;
  categorized: CategorizedEndpoints;
  /** Endpoints ClusterIP traffic is spread over (cluster or local list by internalTrafficPolicy). */
  internal: Endpoint[];
  /** Endpoints traffic from outside is spread over (by externalTrafficPolicy). */
  external: Endpoint[];
  /** When ClusterIP traffic has nowhere to go. */
  internalVerdict?: NoEndpointVerdict;
  /** When external traffic has nowhere to go (after the short-circuits of a Local policy). */
  externalVerdict?: NoEndpointVerdict;
  /** The external destinations need their own chain (masquerading, policy short-circuits). */
  usesExternalChain: boolean;
  /** loadBalancerSourceRanges apply (there are LB VIPs and ranges). */
  usesFirewall: boolean;
  /** Session affinity by client IP, in seconds. */
  stickySeconds?: number;
  /** This node's endpoints among the reachable ones: they may hairpin. */
  localEndpoints: Endpoint[];
  /** Every endpoint still serving, chosen or not: UDP flows to them are kept. */
  serving: Endpoint[];
}

export function planServicePort(port: ServicePort, endpoints: readonly Endpoint[], topo: NodeTopology): ServicePortPlan {
  const categorized = categorizeEndpoints(endpoints, port, topo);
  const internal = port.internalPolicyLocal ? categorized.local : categorized.cluster;
  const external = port.externalPolicyLocal ? categorized.local : categorized.cluster;
  const plan: ServicePortPlan = {
    port,
    categorized,
    internal,
    external,
    usesExternalChain: categorized.hasAny && externallyAccessible(port),
    usesFirewall: port.loadBalancerVIPs.length > 0 && port.loadBalancerSourceRanges.length > 0,
    localEndpoints: categorized.reachable.filter((ep) => ep.local),
    serving: endpoints.filter((ep) => ep.serving),
    ...(port.stickySeconds !== undefined && { stickySeconds: port.stickySeconds }),
  };
  if (!categorized.hasAny) {
    plan.internalVerdict = 'reject';
    plan.externalVerdict = 'reject';
  } else {
    if (internal.length === 0) plan.internalVerdict = 'drop';
    if (external.length === 0) plan.externalVerdict = 'drop';
  }
  return plan;
}
