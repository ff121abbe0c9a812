// What IPVS mode programs, as upstream's IPVS proxier lays it out: a virtual server per
// service address and port with its endpoints as real servers, every service address on
// the dummy interface kube-ipvs0, the ipsets the iptables rules match on, and those
// rules. Pure: plans in, the desired state out; ipvs-commands.ts turns it into scripts.
import type { Endpoint } from '../model/endpoints.js';
import type { ProxyNodeConfig } from '../plan/node-config.js';
import { masqueradeMark } from '../plan/node-config.js';
import type { ServicePortPlan } from '../plan/service-port-plan.js';
import { localMatchIpt } from '../iptables/render-service.js';

export const dummyDevice = 'kube-ipvs0';
export const defaultScheduler = 'rr';

export interface RealServer {
  ip: string;
  port: number;
  weight: number;
}

export interface VirtualServer {
  /** "tcp" | "udp" | "sctp" */
  protocol: string;
  address: string;
  port: number;
  scheduler: string;
  /** ClientIP affinity timeout in seconds. */
  persistence?: number;
  reals: RealServer[];
}

export type IpsetType = 'hash:ip,port' | 'hash:ip,port,ip' | 'hash:ip,port,net' | 'bitmap:port' | 'hash:ip';

export interface IpsetSpec {
  type: IpsetType;
  comment: string;
}

/** Upstream's sets, types and comments (pkg/proxy/ipvs/ipset.go). */
export const ipsets: Readonly<Record<string, IpsetSpec>> = {
  'KUBE-LOOP-BACK': { type: 'hash:ip,port,ip', comment: 'Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose' },
  'KUBE-CLUSTER-IP': { type: 'hash:ip,port', comment: 'Kubernetes service cluster ip + port for masquerade purpose' },
  'KUBE-EXTERNAL-IP': { type: 'hash:ip,port', comment: 'Kubernetes service external ip + port for masquerade and filter purpose' },
  'KUBE-EXTERNAL-IP-LOCAL': { type: 'hash:ip,port', comment: 'Kubernetes service external ip + port with externalTrafficPolicy=local' },
  'KUBE-LOAD-BALANCER': { type: 'hash:ip,port', comment: 'Kubernetes service lb portal' },
  'KUBE-LOAD-BALANCER-FW': { type: 'hash:ip,port', comment: 'Kubernetes service load balancer ip + port for load balancer with sourceRange' },
  'KUBE-LOAD-BALANCER-LOCAL': { type: 'hash:ip,port', comment: 'Kubernetes service load balancer ip + port with externalTrafficPolicy=local' },
  'KUBE-LOAD-BALANCER-SOURCE-IP': { type: 'hash:ip,port,ip', comment: 'Kubernetes service load balancer ip + port + source IP for packet filter purpose' },
  'KUBE-LOAD-BALANCER-SOURCE-CIDR': { type: 'hash:ip,port,net', comment: 'Kubernetes service load balancer ip + port + source cidr for packet filter purpose' },
  'KUBE-NODE-PORT-TCP': { type: 'bitmap:port', comment: 'Kubernetes nodeport TCP port for masquerade purpose' },
  'KUBE-NODE-PORT-LOCAL-TCP': { type: 'bitmap:port', comment: 'Kubernetes nodeport TCP port with externalTrafficPolicy=local' },
  'KUBE-NODE-PORT-UDP': { type: 'bitmap:port', comment: 'Kubernetes nodeport UDP port for masquerade purpose' },
  'KUBE-NODE-PORT-LOCAL-UDP': { type: 'bitmap:port', comment: 'Kubernetes nodeport UDP port with externalTrafficPolicy=local' },
  'KUBE-NODE-PORT-SCTP-HASH': { type: 'hash:ip,port', comment: "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'" },
  'KUBE-NODE-PORT-LOCAL-SCTP-HASH': {
    type: 'hash:ip,port',
    comment: "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'",
  },
  'KUBE-HEALTH-CHECK-NODE-PORT': { type: 'bitmap:port', comment: 'Kubernetes health check node port' },
  'KUBE-IPVS-IPS': { type: 'hash:ip', comment: 'Addresses on the ipvs interface' },
};

export interface IpvsDesired {
  virtualServers: VirtualServer[];
  /** Set name → entries ("10.96.0.10,tcp:80", "30080", ...). */
  sets: Map<string, Set<string>>;
  /** Addresses bound to kube-ipvs0. */
  addresses: string[];
}

export function renderIpvs(plans: Iterable<ServicePortPlan>, config: ProxyNodeConfig, scheduler = defaultScheduler): IpvsDesired {
  const sets = new Map<string, Set<string>>(Object.keys(ipsets).map((n) => [n, new Set<string>()]));
  const add = (set: string, entry: string) => sets.get(set)!.add(entry);
  const virtualServers: VirtualServer[] = [];
  const addresses = new Set<string>();
  const nodeAddresses = config.nodePortAddresses.matchAll ? config.nodeIPs : config.nodePortAddresses.ips;
  for (const plan of plans) {
    const p = plan.port;
    const proto = p.protocol.toLowerCase();
    const vs = (address: string, port: number, endpoints: readonly Endpoint[]) =>
      virtualServers.push({
        protocol: proto,
        address,
        port,
        scheduler,
        ...(plan.stickySeconds !== undefined && { persistence: plan.stickySeconds }),
        reals: endpoints.map((ep) => ({ ip: ep.ip, port: ep.port, weight: 1 })),
      });
    for (const ep of plan.localEndpoints) add('KUBE-LOOP-BACK', `${ep.ip},${proto}:${ep.port},${ep.ip}`);
    add('KUBE-CLUSTER-IP', `${p.clusterIP},${proto}:${p.port}`);
    addresses.add(p.clusterIP);
    vs(p.clusterIP, p.port, plan.internal);
    for (const ip of p.externalIPs) {
      add(p.externalPolicyLocal ? 'KUBE-EXTERNAL-IP-LOCAL' : 'KUBE-EXTERNAL-IP', `${ip},${proto}:${p.port}`);
      addresses.add(ip);
      vs(ip, p.port, plan.external);
    }
    for (const ip of p.loadBalancerVIPs) {
      add('KUBE-LOAD-BALANCER', `${ip},${proto}:${p.port}`);
      if (p.externalPolicyLocal) add('KUBE-LOAD-BALANCER-LOCAL', `${ip},${proto}:${p.port}`);
      if (plan.usesFirewall) {
        add('KUBE-LOAD-BALANCER-FW', `${ip},${proto}:${p.port}`);
        for (const cidr of p.loadBalancerSourceRanges) add('KUBE-LOAD-BALANCER-SOURCE-CIDR', `${ip},${proto}:${p.port},${cidr}`);
      }
      addresses.add(ip);
      vs(ip, p.port, plan.external);
    }
    if (p.nodePort !== 0) {
      if (proto === 'sctp') {
        for (const ip of nodeAddresses)
          add(p.externalPolicyLocal ? 'KUBE-NODE-PORT-LOCAL-SCTP-HASH' : 'KUBE-NODE-PORT-SCTP-HASH', `${ip},${proto}:${p.nodePort}`);
      } else {
        const set = `KUBE-NODE-PORT-${p.externalPolicyLocal ? 'LOCAL-' : ''}${proto.toUpperCase()}`;
        add(set, String(p.nodePort));
        if (p.externalPolicyLocal) add(`KUBE-NODE-PORT-${proto.toUpperCase()}`, String(p.nodePort));
      }
      for (const ip of nodeAddresses) vs(ip, p.nodePort, plan.external);
    }
    if (p.healthCheckNodePort !== 0) add('KUBE-HEALTH-CHECK-NODE-PORT', String(p.healthCheckNodePort));
  }
  for (const ip of addresses) add('KUBE-IPVS-IPS', ip);
  return { virtualServers, sets, addresses: [...addresses] };
}

/** The iptables rules of IPVS mode (nat and filter), as upstream's writeIptablesRules. */
export function ipvsIptablesRules(desired: IpvsDesired, config: ProxyNodeConfig): string {
  const mark = masqueradeMark(config.masqueradeBit);
  const nonEmpty = (set: string) => (desired.sets.get(set)?.size ?? 0) > 0;
  const c = (set: string) => `-m comment --comment "${ipsets[set]!.comment}" -m set --match-set ${set}`;
  const nat: string[] = [];
  const filter: string[] = [];
  nat.push(`-A KUBE-SERVICES -s ${config.family === 'IPv4' ? '127.0.0.0/8' : '::1/128'} -j RETURN`);
  const withSets: [string, 'nat' | 'filter', string, string, string, string][] = [
    ['KUBE-LOOP-BACK', 'nat', 'KUBE-POSTROUTING', 'MASQUERADE', 'dst,dst,src', ''],
    ['KUBE-LOAD-BALANCER', 'nat', 'KUBE-SERVICES', 'KUBE-LOAD-BALANCER', 'dst,dst', ''],
    ['KUBE-LOAD-BALANCER-LOCAL', 'nat', 'KUBE-LOAD-BALANCER', 'RETURN', 'dst,dst', ''],
    ['KUBE-NODE-PORT-LOCAL-TCP', 'nat', 'KUBE-NODE-PORT', 'RETURN', 'dst', 'tcp'],
    ['KUBE-NODE-PORT-TCP', 'nat', 'KUBE-NODE-PORT', 'KUBE-MARK-MASQ', 'dst', 'tcp'],
    ['KUBE-NODE-PORT-LOCAL-UDP', 'nat', 'KUBE-NODE-PORT', 'RETURN', 'dst', 'udp'],
    ['KUBE-NODE-PORT-UDP', 'nat', 'KUBE-NODE-PORT', 'KUBE-MARK-MASQ', 'dst', 'udp'],
    ['KUBE-NODE-PORT-LOCAL-SCTP-HASH', 'nat', 'KUBE-NODE-PORT', 'RETURN', 'dst,dst', 'sctp'],
    ['KUBE-NODE-PORT-SCTP-HASH', 'nat', 'KUBE-NODE-PORT', 'KUBE-MARK-MASQ', 'dst,dst', 'sctp'],
    ['KUBE-LOAD-BALANCER-FW', 'filter', 'KUBE-PROXY-FIREWALL', 'KUBE-SOURCE-RANGES-FIREWALL', 'dst,dst', ''],
    ['KUBE-LOAD-BALANCER-SOURCE-CIDR', 'filter', 'KUBE-SOURCE-RANGES-FIREWALL', 'RETURN', 'dst,dst,src', ''],
    ['KUBE-LOAD-BALANCER-SOURCE-IP', 'filter', 'KUBE-SOURCE-RANGES-FIREWALL', 'RETURN', 'dst,dst,src', ''],
  ];
  for (const [set, table, from, to, match, proto] of withSets) {
    if (!nonEmpty(set)) continue;
    (table === 'nat' ? nat : filter).push(`-A ${from}${proto ? ` -p ${proto}` : ''} ${c(set)} ${match} -j ${to}`);
  }
  if (nonEmpty('KUBE-CLUSTER-IP')) {
    const notLocal = localMatchIpt(config.localDetector, true);
    if (config.masqueradeAll) nat.push(`-A KUBE-SERVICES ${c('KUBE-CLUSTER-IP')} dst,dst -j KUBE-MARK-MASQ`);
    else if (notLocal) nat.push(`-A KUBE-SERVICES ${c('KUBE-CLUSTER-IP')} dst,dst ${notLocal} -j KUBE-MARK-MASQ`);
    else nat.push(`-A KUBE-SERVICES ${c('KUBE-CLUSTER-IP')} src,dst -j KUBE-MARK-MASQ`);
  }
  for (const set of ['KUBE-EXTERNAL-IP', 'KUBE-EXTERNAL-IP-LOCAL']) {
    if (!nonEmpty(set)) continue;
    if (set === 'KUBE-EXTERNAL-IP') nat.push(`-A KUBE-SERVICES ${c(set)} dst,dst -j KUBE-MARK-MASQ`);
    nat.push(`-A KUBE-SERVICES ${c(set)} dst,dst -m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j ACCEPT`);
    nat.push(`-A KUBE-SERVICES ${c(set)} dst,dst -m addrtype --dst-type LOCAL -j ACCEPT`);
  }
  nat.push('-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT');
  nat.push('-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ');
  filter.push('-A KUBE-SOURCE-RANGES-FIREWALL -j DROP');
  filter.push(`-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark ${mark}/${mark} -j ACCEPT`);
  filter.push('-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
  filter.push(`-A KUBE-NODE-PORT ${c('KUBE-HEALTH-CHECK-NODE-PORT')} dst -j ACCEPT`);
  for (const set of ['KUBE-LOAD-BALANCER', 'KUBE-CLUSTER-IP', 'KUBE-EXTERNAL-IP', 'KUBE-EXTERNAL-IP-LOCAL'])
    filter.push(`-A KUBE-IPVS-FILTER -m set --match-set ${set} dst,dst -j RETURN`);
  filter.push('-A KUBE-IPVS-FILTER -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j RETURN');
  filter.push('-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT');
  nat.push(`-A KUBE-POSTROUTING -m mark ! --mark ${mark}/${mark} -j RETURN`);
  nat.push(`-A KUBE-POSTROUTING -j MARK --xor-mark ${mark}`);
  nat.push('-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully');
  nat.push(`-A KUBE-MARK-MASQ -j MARK --or-mark ${mark}`);
  const filterChains = ['KUBE-FORWARD', 'KUBE-NODE-PORT', 'KUBE-PROXY-FIREWALL', 'KUBE-SOURCE-RANGES-FIREWALL', 'KUBE-IPVS-FILTER', 'KUBE-IPVS-OUT-FILTER'];
  const natChains = ['KUBE-SERVICES', 'KUBE-POSTROUTING', 'KUBE-NODE-PORT', 'KUBE-LOAD-BALANCER', 'KUBE-MARK-MASQ'];
  return [
    '*filter',
    ...filterChains.sort().map((n) => `:${n} - [0:0]`),
    ...filter,
    'COMMIT',
    '*nat',
    ...natChains.sort().map((n) => `:${n} - [0:0]`),
    ...nat,
    'COMMIT',
    '',
  ].join('\n');
}
