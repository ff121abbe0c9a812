// One service port in the kube-proxy table: its elements in the shared sets and maps,
// and the chains only some ports need. Pure.
//
// Endpoint selection (docs/proxy-nftables.md): ClusterIP traffic of a port without
// session affinity goes, through @service-ips, to the shared chain clusterip-dnat-N of
// ports with N endpoints, which looks the endpoint up in the one map @clusterip-endpoints
// by (ClusterIP, protocol, port, random slot). No per-port chain, rule or anonymous set:
// loading stays linear in the number of elements. Ports reached from outside or with
// ClientIP affinity keep upstream's per-port chains, where each endpoint is one rule of a
// probability cascade instead of an anonymous numgen map.
import type { Endpoint } from '../model/endpoints.js';
import { masqueradeMark, type ProxyNodeConfig } from '../plan/node-config.js';
import type { NoEndpointVerdict, ServicePortPlan } from '../plan/service-port-plan.js';
import { cidrContains, parseCidr } from '../net/ip.js';
import { familyWords, localMatch } from './render-base.js';
import {
  affinitySetName,
  clusterIPDnatChain,
  clusterIPEndpointsMap,
  endpointChainName,
  type L4,
  maps,
  parseClusterIPDnatChain,
  type ServicePortChainNames,
  servicePortChainNames,
  sets,
} from './names.js';
import type { Claim } from './element-claims.js';
import type { NftSet } from './objects.js';

export interface RenderedServicePort {
  /** Elements of the shared sets and maps, each claimed by this port. */
  elements: Claim[];
  /** Chains of this port (name → rule texts, comments included as nft reads them). */
  chains: Map<string, string[]>;
  /** The per-endpoint affinity sets. */
  affinitySets: NftSet[];
  /** The shared ClusterIP DNAT chains this port jumps to. */
  dnatChains: string[];
}

/** Shared by every port without chains of its own; never written to. */
const noChains: Map<string, string[]> = new Map();

const verdictText = (v: NoEndpointVerdict) => (v === 'reject' ? 'goto reject-chain' : 'drop');
const q = (s: string) => JSON.stringify(s);

function dnatTarget(ipX: string, ep: Endpoint): string {
  return ipX === 'ip6' ? `dnat ip6 to [${ep.ip}]:${ep.port}` : `dnat ip to ${ep.ip}:${ep.port}`;
}

/** Rule i of n picks endpoint i with probability 1/(n-i): every endpoint gets 1/n, as iptables' statistic match does. */
function cascade<T>(items: readonly T[], action: (item: T) => string): string[] {
  return items.map((item, i) => {
    const left = items.length - i;
    return left > 1 ? `numgen random mod ${left} 0 ${action(item)}` : action(item);
  });
}

export function renderServicePort(plan: ServicePortPlan, config: ProxyNodeConfig): RenderedServicePort {
  const { port } = plan;
  const { ipX, addrType } = familyWords(config.family);
  const proto = port.protocol.toLowerCase() as L4;
  const masquerade = `mark set mark or ${masqueradeMark(config.masqueradeBit)}`;
  // Hashing the chain names costs a SHA-256: most ports (ClusterIP only) need none.
  let chainNames: ServicePortChainNames | undefined;
  const names = () => (chainNames ??= servicePortChainNames(port));
  const out: RenderedServicePort = { elements: [], chains: noChains, affinitySets: [], dnatChains: [] };
  const setChain = (name: string, rules: string[]) => {
    if (out.chains === noChains) out.chains = new Map();
    out.chains.set(name, rules);
  };
  // Every element has the same fields (undefined where absent): one object shape keeps the
  // claims, the digest and the printer, which touch each of tens of thousands, monomorphic.
  const element = (container: 'set' | 'map', name: string, key: string[], value?: string[], comment?: string) =>
    out.elements.push({ kind: 'element', container, name, key, value, comment, id: `${name}\u0000${key.join(' . ')}`, owner: port.key });
  const affinity = plan.stickySeconds !== undefined;
  const l4 = `meta l4proto ${proto}`;

  // The per-port policy chains: needed for external traffic and for affinity.
  const clusterList = plan.categorized.cluster;
  const localList = plan.categorized.local;
  const needsPolicyChains = plan.usesExternalChain || affinity;
  const endpointChains = new Map<string, Endpoint>();
  const policyChain = (name: string, list: Endpoint[]) => {
    if (affinity) {
      const rules = list.map((ep) => `${ipX} saddr @${affinitySetName(port, ep)} goto ${endpointChainName(port, ep)}`);
      rules.push(...cascade(list, (ep) => `goto ${endpointChainName(port, ep)}`));
      for (const ep of list) endpointChains.set(endpointChainName(port, ep), ep);
      setChain(name, rules);
    } else {
      setChain(
        name,
        cascade(list, (ep) => `${l4} ${dnatTarget(ipX, ep)}`),
      );
    }
  };
  const hasClusterChain = needsPolicyChains && clusterList.length > 0;
  const hasLocalChain = needsPolicyChains && localList.length > 0;
  if (hasClusterChain) policyChain(names().cluster, clusterList);
  if (hasLocalChain) policyChain(names().local, localList);
  for (const [chain, ep] of endpointChains) {
    const set = affinitySetName(port, ep);
    out.affinitySets.push({ kind: 'set', name: set, type: addrType, flags: ['dynamic', 'timeout'], timeout: plan.stickySeconds! });
    setChain(chain, [`update @${set} { ${ipX} saddr }`, `${l4} ${dnatTarget(ipX, ep)}`]);
  }

  // ClusterIP.
  const vip = (ip: string) => [ip, proto, String(port.port)];
  element('set', sets.clusterIPs, [port.clusterIP]);
  if (plan.internal.length > 0) {
    if (affinity) {
      element('map', maps.serviceIPs, vip(port.clusterIP), [`goto ${port.internalPolicyLocal ? names().local : names().cluster}`]);
    } else {
      const chain = clusterIPDnatChain(proto, plan.internal.length);
      out.dnatChains.push(chain);
      element('map', maps.serviceIPs, vip(port.clusterIP), [`goto ${chain}`]);
      plan.internal.forEach((ep, slot) => {
        element('map', clusterIPEndpointsMap(proto), [port.clusterIP, String(port.port), String(slot)], [ep.ip, String(ep.port)]);
      });
    }
  } else {
    element('map', maps.noEndpointServices, vip(port.clusterIP), [verdictText(plan.internalVerdict ?? 'reject')], port.display);
  }

  // External IPs and load balancer VIPs.
  for (const ip of [...port.externalIPs, ...port.loadBalancerVIPs]) {
    if (plan.usesExternalChain) element('map', maps.serviceIPs, vip(ip), [`goto ${names().external}`]);
    if (plan.external.length === 0) element('map', maps.noEndpointServices, vip(ip), [verdictText(plan.externalVerdict ?? 'reject')], port.display);
  }
  if (plan.usesFirewall) {
    for (const ip of port.loadBalancerVIPs) element('map', maps.firewallIPs, vip(ip), [`goto ${names().firewall}`]);
    const sources = [...port.loadBalancerSourceRanges];
    // A request from this node to a VIP it holds arrives with the VIP as source.
    const cidrs = port.loadBalancerSourceRanges.map((c) => parseCidr(c)!);
    if (config.nodeIPs.some((ip) => cidrs.some((c) => cidrContains(c, ip)))) sources.push(...port.loadBalancerVIPs);
    const set = sources.length === 1 ? sources[0]! : `{ ${sources.join(', ')} }`;
    setChain(names().firewall, [`${ipX} saddr != ${set} drop`]);
  }

  // NodePort.
  if (port.nodePort !== 0) {
    const key = [proto, String(port.nodePort)];
    if (plan.usesExternalChain) element('map', maps.serviceNodePorts, key, [`goto ${names().external}`]);
    if (plan.external.length === 0) element('map', maps.noEndpointNodePorts, key, [verdictText(plan.externalVerdict ?? 'reject')], port.display);
  }

  // The external chain: masquerade (Cluster policy) or keep the client address (Local).
  if (plan.usesExternalChain) {
    const rules: string[] = [];
    if (!port.externalPolicyLocal) {
      rules.push(`${masquerade} comment ${q('masquerade')}`);
    } else {
      const fromPod = localMatch(config.localDetector, ipX, false);
      if (fromPod && hasClusterChain) rules.push(`${fromPod} goto ${names().cluster} comment ${q('short-circuit pod traffic')}`);
      rules.push(`fib saddr type local ${masquerade} comment ${q('masquerade local traffic')}`);
      if (hasClusterChain) rules.push(`fib saddr type local goto ${names().cluster} comment ${q('short-circuit local traffic')}`);
    }
    if (plan.external.length > 0) rules.push(`goto ${port.externalPolicyLocal ? names().local : names().cluster}`);
    setChain(names().external, rules);
  }

  for (const ep of plan.localEndpoints) element('set', sets.hairpinConnections, [ep.ip, ep.ip, proto, String(ep.port)]);
  return out;
}

/** The rules of a shared chain that DNATs ClusterIP traffic (clusterip-dnat-PROTO-COUNT). */
export function renderClusterIPDnatChain(name: string, config: ProxyNodeConfig): string[] {
  const { ipX } = familyWords(config.family);
  const { proto, count } = parseClusterIPDnatChain(name)!;
  return [`meta l4proto ${proto} dnat ${ipX} addr . port to ${ipX} daddr . ${proto} dport . numgen random mod ${count} map @${clusterIPEndpointsMap(proto)}`];
}
