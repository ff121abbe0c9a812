// ProxyNodeConfig from the options, this Node and the host's addresses, as upstream
// derives them: node IPs from --bind-address or the Node's addresses, local traffic
// detection from detectLocalMode, NodePort addresses from nodePortAddresses. Pure.
import type { ProxyOptions } from '../config/options.js';
import { labelTopologyZone, type Node } from '../model/api-objects.js';
import { canonicalIp, cidrContains, type IPFamily, ipFamily, isLoopback, parseCidr } from '../net/ip.js';
import type { LocalDetector, NodePortAddresses, ProxyNodeConfig } from './node-config.js';

/** An address on one of this host's interfaces. */
export interface HostAddress {
  interface: string;
  address: string;
}

/** utilnode.GetNodeHostIPs: InternalIPs first, then ExternalIPs; at most one per family, the first one's family primary. */
export function nodeHostIPs(node: Node | undefined): string[] {
  const addresses = node?.status?.addresses ?? [];
  const ordered = [...addresses.filter((a) => a.type === 'InternalIP'), ...addresses.filter((a) => a.type === 'ExternalIP')];
  const out: string[] = [];
  for (const a of ordered) {
    const ip = a.address ? canonicalIp(a.address) : undefined;
    if (ip === undefined) continue;
    if (out.some((o) => ipFamily(o) === ipFamily(ip))) continue;
    out.push(ip);
  }
  return out;
}

/** The node's IP for a family: --bind-address when set, else the Node's, else loopback. */
export function nodeIPFor(family: IPFamily, bindAddress: string, node: Node | undefined): string {
  const bind = canonicalIp(bindAddress);
  if (bind !== undefined && bind !== '0.0.0.0' && bind !== '::' && ipFamily(bind) === family) return bind;
  return nodeHostIPs(node).find((ip) => ipFamily(ip) === family) ?? (family === 'IPv4' ? '127.0.0.1' : '::1');
}

export function localDetectorFor(family: IPFamily, options: ProxyOptions, node: Node | undefined): LocalDetector {
  const c = options.config;
  switch (c.detectLocalMode) {
    case '':
    case 'ClusterCIDR': {
      const cidrs = options.clusterCIDRs.filter((x) => parseCidr(x)?.family === family);
      return cidrs.length > 0 ? { kind: 'cidr', cidrs } : { kind: 'none' };
    }
    case 'NodeCIDR': {
      const podCIDRs = [...(node?.spec?.podCIDRs ?? []), ...(node?.spec?.podCIDR ? [node.spec.podCIDR] : [])];
      const cidr = podCIDRs.map((x) => parseCidr(x)).find((x) => x?.family === family);
      return cidr ? { kind: 'cidr', cidrs: [cidr.text] } : { kind: 'none' };
    }
    case 'BridgeInterface':
      return { kind: 'bridge', interface: c.detectLocal.bridgeInterface };
    case 'InterfaceNamePrefix':
      return { kind: 'interface-prefix', prefix: c.detectLocal.interfaceNamePrefix };
  }
}

export function nodePortAddressesFor(family: IPFamily, options: ProxyOptions, node: Node | undefined, host: readonly HostAddress[]): NodePortAddresses {
  const given = options.config.nodePortAddresses;
  if (given.length === 0) return { matchAll: true };
  let cidrs = given.map((x) => parseCidr(x)).filter((x) => x !== undefined);
  if (given.length === 1 && given[0] === 'primary') {
    const ip = nodeHostIPs(node).find((x) => ipFamily(x) === family);
    cidrs = ip && !isLoopback(ip) ? [parseCidr(`${ip}/${family === 'IPv4' ? 32 : 128}`)!] : [];
  }
  cidrs = cidrs.filter((x) => x.family === family);
  // No CIDR of this family: NodePorts of the family are accepted on every local address (as upstream).
  if (cidrs.length === 0) return { matchAll: true };
  if (cidrs.some((x) => x.prefix === 0)) return { matchAll: true };
  const ips = host.map((h) => canonicalIp(h.address)).filter((ip): ip is string => ip !== undefined && cidrs.some((x) => cidrContains(x, ip)));
  return { matchAll: false, ips: [...new Set(ips)] };
}

export interface NodeSettingsInput {
  family: IPFamily;
  options: ProxyOptions;
  node: Node | undefined;
  host: readonly HostAddress[];
  serviceCIDRs: readonly string[];
}

export function proxyNodeConfig(input: NodeSettingsInput): ProxyNodeConfig {
  const { family, options, node, host } = input;
  const c = options.config;
  return {
    family,
    topology: { nodeName: options.nodeName, zone: node?.metadata?.labels?.[labelTopologyZone] ?? '' },
    nodeIPs: [nodeIPFor(family, c.bindAddress, node)],
    masqueradeBit: options.masqueradeBit,
    masqueradeAll: options.masqueradeAll,
    localDetector: localDetectorFor(family, options, node),
    nodePortAddresses: nodePortAddressesFor(family, options, node, host),
    serviceCIDRs: input.serviceCIDRs.filter((x) => parseCidr(x)?.family === family),
    localhostNodePorts: c.iptables.localhostNodePorts && family === 'IPv4',
  };
}
