// Every name in the kube-proxy nftables table: upstream v1.36's (so `nft list ruleset`
// reads the same), plus the shared endpoint maps tskube selects endpoints with
// (docs/proxy-nftables.md). Long names are hashed and truncated by one function.
import { sha256Base32 } from '../model/chain-name-hash.js';
import type { Endpoint } from '../model/endpoints.js';
import type { ServicePort } from '../model/service-port.js';

export const kubeProxyTable = 'kube-proxy';

export const chains = {
  filterPreroutingPreDnat: 'filter-prerouting-pre-dnat',
  filterOutputPreDnat: 'filter-output-pre-dnat',
  filterInput: 'filter-input',
  filterForward: 'filter-forward',
  filterOutput: 'filter-output',
  natPrerouting: 'nat-prerouting',
  natOutput: 'nat-output',
  natPostrouting: 'nat-postrouting',
  services: 'services',
  serviceEndpointsCheck: 'service-endpoints-check',
  nodePortEndpointsCheck: 'nodeport-endpoints-check',
  reject: 'reject-chain',
  clusterIPsCheck: 'cluster-ips-check',
  firewallCheck: 'firewall-check',
  masquerading: 'masquerading',
} as const;

export const sets = {
  nodePortIPs: 'nodeport-ips',
  clusterIPs: 'cluster-ips',
  hairpinConnections: 'hairpin-connections',
  /** tskube: one element whose comment records the digest of what tskube last wrote. */
  syncState: 'sync-state',
} as const;

export const maps = {
  serviceIPs: 'service-ips',
  serviceNodePorts: 'service-nodeports',
  noEndpointServices: 'no-endpoint-services',
  noEndpointNodePorts: 'no-endpoint-nodeports',
  firewallIPs: 'firewall-ips',
} as const;

export type L4 = 'tcp' | 'udp' | 'sctp';
export const l4s: readonly L4[] = ['tcp', 'udp', 'sctp'];

/**
 * tskube: ClusterIP . port . slot → endpoint address . port, one map per protocol (the
 * map's port type carries the protocol, which the DNAT of an address and port needs).
 */
export const clusterIPEndpointsMap = (proto: L4) => `clusterip-endpoints-${proto}`;

/** tskube: the chain that DNATs ClusterIP traffic of every service port of `proto` with `count` endpoints. */
export const clusterIPDnatChain = (proto: L4, count: number) => `clusterip-dnat-${proto}-${count}`;
const dnatChainPattern = /^clusterip-dnat-(tcp|udp|sctp)-(\d+)$/;
export const isClusterIPDnatChain = (name: string) => dnatChainPattern.test(name);
export function parseClusterIPDnatChain(name: string): { proto: L4; count: number } | undefined {
  const m = dnatChainPattern.exec(name);
  return m ? { proto: m[1] as L4, count: Number(m[2]) } : undefined;
}

const prefixes = {
  cluster: 'service-',
  local: 'local-',
  external: 'external-',
  endpoint: 'endpoint-',
  affinity: 'affinity-',
  firewall: 'firewall-',
} as const;

/** nft's limit on object names. */
export const nameLengthMax = 256;
const chainNameBaseLengthMax = nameLengthMax - 16;

/** "HASH-name", truncated with "..." when longer than upstream allows; the hash keeps it unique. */
export function hashAndTruncate(name: string): string {
  const full = `${sha256Base32(name, 8)}-${name}`;
  return full.length > chainNameBaseLengthMax ? `${full.slice(0, chainNameBaseLengthMax - 3)}...` : full;
}

function servicePortBase(p: ServicePort): string {
  return hashAndTruncate(`${p.name.namespace}/${p.name.name}/${p.protocol.toLowerCase()}/${p.name.port}`);
}

function endpointBase(p: ServicePort, ep: Endpoint): string {
  const ip = ep.ip.includes(':') ? ep.ip.replaceAll(':', '.') : ep.ip;
  return hashAndTruncate(`${p.name.namespace}/${p.name.name}/${p.protocol.toLowerCase()}/${p.name.port}__${ip}/${ep.port}`);
}

export interface ServicePortChainNames {
  cluster: string;
  local: string;
  external: string;
  firewall: string;
}

export function servicePortChainNames(p: ServicePort): ServicePortChainNames {
  const base = servicePortBase(p);
  return { cluster: prefixes.cluster + base, local: prefixes.local + base, external: prefixes.external + base, firewall: prefixes.firewall + base };
}

export function endpointChainName(p: ServicePort, ep: Endpoint): string {
  return prefixes.endpoint + endpointBase(p, ep);
}

export function affinitySetName(p: ServicePort, ep: Endpoint): string {
  return prefixes.affinity + endpointBase(p, ep);
}

/** Service and endpoint chains hold a "/", which none of the fixed chains does (as upstream tells them apart). */
export const isServiceChainName = (name: string) => name.includes('/');
export const isAffinitySetName = (name: string) => name.startsWith(prefixes.affinity);
