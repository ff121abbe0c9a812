// kube-proxy's iptables chain names, upstream's (pkg/proxy/iptables), so iptables-save
// reads the same: fixed chains, and per service port and endpoint chains named by a hash.
import { sha256Base32 } from '../model/chain-name-hash.js';
import type { Endpoint } from '../model/endpoints.js';
import type { ServicePort } from '../model/service-port.js';

export const chains = {
  services: 'KUBE-SERVICES',
  externalServices: 'KUBE-EXTERNAL-SERVICES',
  nodePorts: 'KUBE-NODEPORTS',
  postrouting: 'KUBE-POSTROUTING',
  markMasq: 'KUBE-MARK-MASQ',
  forward: 'KUBE-FORWARD',
  proxyFirewall: 'KUBE-PROXY-FIREWALL',
  proxyCanary: 'KUBE-PROXY-CANARY',
  kubeletFirewall: 'KUBE-FIREWALL',
} as const;

export type IptTable = 'filter' | 'nat' | 'mangle';

/** A jump from a built-in chain to one of ours, as upstream's iptablesJumpChains. */
export interface JumpRule {
  table: IptTable;
  from: string;
  to: string;
  comment: string;
  match: string;
}

const ctNew = '-m conntrack --ctstate NEW';

export const jumpRules: readonly JumpRule[] = [
  { table: 'filter', to: chains.externalServices, from: 'INPUT', comment: 'kubernetes externally-visible service portals', match: ctNew },
  { table: 'filter', to: chains.externalServices, from: 'FORWARD', comment: 'kubernetes externally-visible service portals', match: ctNew },
  { table: 'filter', to: chains.nodePorts, from: 'INPUT', comment: 'kubernetes health check service ports', match: '' },
  { table: 'filter', to: chains.services, from: 'FORWARD', comment: 'kubernetes service portals', match: ctNew },
  { table: 'filter', to: chains.services, from: 'OUTPUT', comment: 'kubernetes service portals', match: ctNew },
  { table: 'filter', to: chains.forward, from: 'FORWARD', comment: 'kubernetes forwarding rules', match: '' },
  { table: 'filter', to: chains.proxyFirewall, from: 'INPUT', comment: 'kubernetes load balancer firewall', match: ctNew },
  { table: 'filter', to: chains.proxyFirewall, from: 'OUTPUT', comment: 'kubernetes load balancer firewall', match: ctNew },
  { table: 'filter', to: chains.proxyFirewall, from: 'FORWARD', comment: 'kubernetes load balancer firewall', match: ctNew },
  { table: 'nat', to: chains.services, from: 'OUTPUT', comment: 'kubernetes service portals', match: '' },
  { table: 'nat', to: chains.services, from: 'PREROUTING', comment: 'kubernetes service portals', match: '' },
  { table: 'nat', to: chains.postrouting, from: 'POSTROUTING', comment: 'kubernetes postrouting rules', match: '' },
];

/** The rule text of a jump, as `iptables -I FROM 1 <text>` takes it. */
export const jumpRuleText = (j: JumpRule) => `${j.match ? `${j.match} ` : ''}-m comment --comment "${j.comment}" -j ${j.to}`;

/** "ns/name:port" + protocol → 16 base32 characters (upstream's portProtoHash). */
const portProtoHash = (p: ServicePort) => sha256Base32(`${p.display}${p.protocol.toLowerCase()}`, 16);

export interface IptPortChainNames {
  cluster: string;
  local: string;
  external: string;
  firewall: string;
}

/** Made once per port reading (ServicePorts are replaced, never changed, when their Service changes). */
const portChainNames = new WeakMap<ServicePort, IptPortChainNames>();

/** The chains of a service port; the back end names each port when its Service arrives (IptablesProxier.portsRead). */
export function iptPortChainNames(p: ServicePort): IptPortChainNames {
  let names = portChainNames.get(p);
  if (names === undefined) {
    const h = portProtoHash(p);
    names = { cluster: `KUBE-SVC-${h}`, local: `KUBE-SVL-${h}`, external: `KUBE-EXT-${h}`, firewall: `KUBE-FW-${h}` };
    portChainNames.set(p, names);
  }
  return names;
}

export function iptEndpointChainName(p: ServicePort, ep: Endpoint): string {
  return `KUBE-SEP-${sha256Base32(`${p.display}${p.protocol.toLowerCase()}${ep.key}`, 16)}`;
}

const servicePrefixes = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-SEP-', 'KUBE-FW-', 'KUBE-EXT-'];
export const isIptServiceChain = (name: string) => servicePrefixes.some((p) => name.startsWith(p));

/** Beyond this many endpoints in all, rules lose their comments (upstream's large cluster mode). */
export const largeClusterEndpointsThreshold = 1000;
