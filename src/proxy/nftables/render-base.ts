// The fixed part of the kube-proxy table: base chains on the netfilter hooks, the
// dispatch chains they jump to, the named sets and maps every service port adds
// elements to, and their static rules. Upstream v1.36's layout (pkg/proxy/nftables), plus
// tskube's ClusterIP endpoint map and the sync-state marker. Pure.
import type { LocalDetector, ProxyNodeConfig } from '../plan/node-config.js';
import { masqueradeMark } from '../plan/node-config.js';
import { chains, clusterIPEndpointsMap, kubeProxyTable, l4s, maps, sets } from './names.js';
import type { NftChain, NftRule, NftSet } from './objects.js';

export interface NftFamilyWords {
  /** "ip" / "ip6" in expressions. */
  ipX: string;
  /** "ipv4_addr" / "ipv6_addr" in set types. */
  addrType: string;
  noLocalhost: string;
}

export function familyWords(family: ProxyNodeConfig['family']): NftFamilyWords {
  return family === 'IPv4'
    ? { ipX: 'ip', addrType: 'ipv4_addr', noLocalhost: 'ip daddr != 127.0.0.0/8' }
    : { ipX: 'ip6', addrType: 'ipv6_addr', noLocalhost: 'ip6 daddr != ::1' };
}

export const baseChains: readonly Required<Pick<NftChain, 'name' | 'type' | 'hook' | 'priority'>>[] = [
  // Before DNAT, so loadBalancerSourceRanges see the address the client used.
  { name: chains.filterPreroutingPreDnat, type: 'filter', hook: 'prerouting', priority: '-110' },
  { name: chains.filterOutputPreDnat, type: 'filter', hook: 'output', priority: '-110' },
  { name: chains.filterInput, type: 'filter', hook: 'input', priority: '0' },
  { name: chains.filterForward, type: 'filter', hook: 'forward', priority: '0' },
  { name: chains.filterOutput, type: 'filter', hook: 'output', priority: '0' },
  { name: chains.natPrerouting, type: 'nat', hook: 'prerouting', priority: '-100' },
  { name: chains.natOutput, type: 'nat', hook: 'output', priority: '-100' },
  { name: chains.natPostrouting, type: 'nat', hook: 'postrouting', priority: '100' },
];

/** Regular chains the base chains jump to, with the match in front of the jump. */
const jumps: readonly { to: string; from: string; match: string }[] = [
  { to: chains.nodePortEndpointsCheck, from: chains.filterInput, match: 'ct state new' },
  { to: chains.serviceEndpointsCheck, from: chains.filterInput, match: 'ct state new' },
  { to: chains.serviceEndpointsCheck, from: chains.filterForward, match: 'ct state new' },
  { to: chains.serviceEndpointsCheck, from: chains.filterOutput, match: 'ct state new' },
  { to: chains.firewallCheck, from: chains.filterPreroutingPreDnat, match: 'ct state new' },
  { to: chains.firewallCheck, from: chains.filterOutputPreDnat, match: 'ct state new' },
  { to: chains.services, from: chains.natOutput, match: '' },
  { to: chains.services, from: chains.natPrerouting, match: '' },
  { to: chains.masquerading, from: chains.natPostrouting, match: '' },
  { to: chains.clusterIPsCheck, from: chains.filterForward, match: 'ct state new' },
  { to: chains.clusterIPsCheck, from: chains.filterOutput, match: 'ct state new' },
];

/** The regular chains of the fixed structure, in the order they are created. */
export const fixedRegularChains: readonly string[] = [
  chains.nodePortEndpointsCheck,
  chains.serviceEndpointsCheck,
  chains.firewallCheck,
  chains.services,
  chains.masquerading,
  chains.clusterIPsCheck,
  chains.reject,
];

export function localMatch(d: LocalDetector, ipX: string, negate: boolean): string | undefined {
  const op = negate ? '!= ' : '';
  switch (d.kind) {
    case 'none':
      return undefined;
    case 'cidr':
      return d.cidrs.length === 0 ? undefined : `${ipX} saddr ${op}${d.cidrs.length === 1 ? d.cidrs[0] : `{ ${d.cidrs.join(', ')} }`}`;
    case 'bridge':
      return `iifname ${op}"${d.interface}"`;
    case 'interface-prefix':
      return `iifname ${op}"${d.prefix}*"`;
  }
}

export interface BaseStructure {
  table: { kind: 'table'; comment: string };
  baseChains: NftChain[];
  regularChains: NftChain[];
  /** Sets and maps of the structure (not the per-endpoint affinity sets). */
  containers: NftSet[];
  /** Every static rule, by chain, in order. */
  rules: NftRule[];
  /** nodeport-ips elements, when NodePorts are limited to some addresses. */
  nodePortIPs: string[];
}

export function renderBaseStructure(config: ProxyNodeConfig): BaseStructure {
  const { ipX, addrType, noLocalhost } = familyWords(config.family);
  const mark = masqueradeMark(config.masqueradeBit);
  const masqueradeRule = `mark set mark or ${mark}`;
  const matchAll = config.nodePortAddresses.matchAll;
  const rules: NftRule[] = [];
  const rule = (chain: string, text: string, comment?: string) => rules.push({ kind: 'rule', chain, rule: text, ...(comment !== undefined && { comment }) });

  for (const j of jumps) rule(j.from, `${j.match ? `${j.match} ` : ''}jump ${j.to}`);
  rule(chains.masquerading, `mark and ${mark} != 0 mark set mark xor ${mark} masquerade fully-random`);
  rule(chains.masquerading, `ct status dnat ${ipX} saddr . ${ipX} daddr . meta l4proto . th dport @${sets.hairpinConnections} masquerade fully-random`);
  rule(chains.clusterIPsCheck, `${ipX} daddr @${sets.clusterIPs} reject`, 'Reject traffic to invalid ports of ClusterIPs');
  if (config.serviceCIDRs.length > 0) {
    rule(chains.clusterIPsCheck, `${ipX} daddr { ${config.serviceCIDRs.join(', ')} } drop`, 'Drop traffic to unallocated ClusterIPs');
  }
  rule(chains.reject, 'reject');
  rule(chains.serviceEndpointsCheck, `${ipX} daddr . meta l4proto . th dport vmap @${maps.noEndpointServices}`);
  rule(
    chains.nodePortEndpointsCheck,
    matchAll
      ? `${noLocalhost} meta l4proto . th dport vmap @${maps.noEndpointNodePorts}`
      : `${ipX} daddr @${sets.nodePortIPs} meta l4proto . th dport vmap @${maps.noEndpointNodePorts}`,
  );
  rule(chains.firewallCheck, `${ipX} daddr . meta l4proto . th dport vmap @${maps.firewallIPs}`);
  if (config.masqueradeAll) {
    rule(chains.services, `${ipX} daddr @${sets.clusterIPs} ${masqueradeRule}`, 'masquerade all clusterIP traffic');
  } else {
    const notLocal = localMatch(config.localDetector, ipX, true);
    if (notLocal) rule(chains.services, `${ipX} daddr @${sets.clusterIPs} ${notLocal} ${masqueradeRule}`, 'masquerade clusterIP traffic from outside cluster');
  }
  rule(chains.services, `${ipX} daddr . meta l4proto . th dport vmap @${maps.serviceIPs}`);
  rule(
    chains.services,
    matchAll
      ? `fib daddr type local ${noLocalhost} meta l4proto . th dport vmap @${maps.serviceNodePorts}`
      : `${ipX} daddr @${sets.nodePortIPs} meta l4proto . th dport vmap @${maps.serviceNodePorts}`,
  );

  const containers: NftSet[] = [
    { kind: 'set', name: sets.hairpinConnections, type: `${addrType} . ${addrType} . inet_proto . inet_service`, comment: 'service hairpin connections' },
    { kind: 'set', name: sets.clusterIPs, type: addrType, comment: 'Active ClusterIPs' },
    ...(matchAll ? [] : [{ kind: 'set' as const, name: sets.nodePortIPs, type: addrType, comment: 'IPs that accept NodePort traffic' }]),
    {
      kind: 'map',
      name: maps.noEndpointServices,
      type: `${addrType} . inet_proto . inet_service : verdict`,
      comment: 'vmap to drop or reject packets to services with no endpoints',
    },
    {
      kind: 'map',
      name: maps.noEndpointNodePorts,
      type: 'inet_proto . inet_service : verdict',
      comment: 'vmap to drop or reject packets to service nodeports with no endpoints',
    },
    {
      kind: 'map',
      name: maps.firewallIPs,
      type: `${addrType} . inet_proto . inet_service : verdict`,
      comment: 'destinations that are subject to LoadBalancerSourceRanges',
    },
    {
      kind: 'map',
      name: maps.serviceIPs,
      type: `${addrType} . inet_proto . inet_service : verdict`,
      comment: 'ClusterIP, ExternalIP and LoadBalancer IP traffic',
    },
    { kind: 'map', name: maps.serviceNodePorts, type: 'inet_proto . inet_service : verdict', comment: 'NodePort traffic' },
    ...l4s.map((proto) => ({
      kind: 'map' as const,
      name: clusterIPEndpointsMap(proto),
      typeof: `${ipX} daddr . ${proto} dport . numgen random mod 1 : ${ipX} daddr . ${proto} dport`,
      comment: `${proto.toUpperCase()} ClusterIP endpoints by service and slot (tskube)`,
    })),
    { kind: 'set', name: sets.syncState, type: 'inet_service', comment: 'digest of the rules tskube proxy wrote (tskube)' },
  ];
  const nodePortIPs = matchAll ? [] : config.nodePortAddresses.ips;
  return {
    table: { kind: 'table', comment: 'rules for kube-proxy' },
    baseChains: baseChains.map((c) => ({ kind: 'chain', ...c })),
    regularChains: fixedRegularChains.map((name) =>
      name === chains.reject ? { kind: 'chain', name, comment: 'helper for @no-endpoint-services / @no-endpoint-nodeports' } : { kind: 'chain', name },
    ),
    containers,
    rules,
    nodePortIPs,
  };
}

export { kubeProxyTable };
