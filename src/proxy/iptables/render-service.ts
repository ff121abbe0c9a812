// One service port in kube-proxy's iptables layout (upstream's rules and comments, so
// iptables-save reads the same): its rules in the shared chains, and its own chains
// (KUBE-SVC-*, KUBE-SVL-*, KUBE-EXT-*, KUBE-FW-*, KUBE-SEP-*). Pure. Rules are the text
// after "-A CHAIN ", as iptables-restore takes it.
import type { Endpoint } from '../model/endpoints.js';
import { cidrContains, parseCidr } from '../net/ip.js';
import type { LocalDetector, ProxyNodeConfig } from '../plan/node-config.js';
import { masqueradeMark } from '../plan/node-config.js';
import type { ServicePortPlan } from '../plan/service-port-plan.js';
import { chains, iptEndpointChainName, iptPortChainNames } from './names.js';

export interface IptRenderedPort {
  nat: {
    /** Rules of KUBE-SERVICES. */
    services: string[];
    /** Rules of KUBE-NODEPORTS. */
    nodePorts: string[];
    /** This port's chains → their rules. */
    chains: Map<string, string[]>;
  };
  filter: { services: string[]; externalServices: string[]; nodePorts: string[]; firewall: string[] };
}

export interface IptRenderOptions {
  /** Large cluster mode: endpoint rules carry no comments. */
  large: boolean;
}

/** 1/n as upstream writes it (%0.10f). */
export const probability = (n: number) => (1 / n).toFixed(10);

export function localMatchIpt(d: LocalDetector, negate: boolean): string | undefined {
  const not = negate ? '! ' : '';
  switch (d.kind) {
    case 'none':
      return undefined;
    case 'cidr':
      return d.cidrs[0] === undefined ? undefined : `${not}-s ${d.cidrs[0]}`;
    case 'bridge':
      return `${not}-i ${d.interface}`;
    case 'interface-prefix':
      return `${not}-i ${d.prefix}+`;
  }
}

const q = (s: string) => `"${s}"`;

export function renderIptServicePort(plan: ServicePortPlan, config: ProxyNodeConfig, options: IptRenderOptions): IptRenderedPort {
  const { port } = plan;
  const proto = port.protocol.toLowerCase();
  const name = port.display;
  const names = iptPortChainNames(port);
  const out: IptRenderedPort = {
    nat: { services: [], nodePorts: [], chains: new Map() },
    filter: { services: [], externalServices: [], nodePorts: [], firewall: [] },
  };
  const hasAny = plan.categorized.hasAny;
  const hasInternal = plan.internal.length > 0;
  const hasExternal = plan.external.length > 0;
  const internalChain = port.internalPolicyLocal ? names.local : names.cluster;
  const externalPolicyChain = port.externalPolicyLocal ? names.local : names.cluster;
  const usesFirewall = hasAny && plan.usesFirewall;
  const lbChain = usesFirewall ? names.firewall : names.external;
  const dest = (ip: string, p = port.port) => `-m ${proto} -p ${proto} -d ${ip} --dport ${p}`;
  const noEndpoints = !hasAny ? { target: 'REJECT', comment: q(`${name} has no endpoints`) } : undefined;
  const internalFilter = noEndpoints ?? (hasInternal ? undefined : { target: 'DROP', comment: q(`${name} has no local endpoints`) });
  const externalFilter = noEndpoints ?? (hasExternal ? undefined : { target: 'DROP', comment: q(`${name} has no local endpoints`) });

  if (hasInternal) out.nat.services.push(`-m comment --comment ${q(`${name} cluster IP`)} ${dest(port.clusterIP)} -j ${internalChain}`);
  else if (internalFilter) out.filter.services.push(`-m comment --comment ${internalFilter.comment} ${dest(port.clusterIP)} -j ${internalFilter.target}`);
  for (const ip of port.externalIPs) {
    if (hasAny) out.nat.services.push(`-m comment --comment ${q(`${name} external IP`)} ${dest(ip)} -j ${names.external}`);
    if (externalFilter) out.filter.externalServices.push(`-m comment --comment ${externalFilter.comment} ${dest(ip)} -j ${externalFilter.target}`);
  }
  for (const ip of port.loadBalancerVIPs) {
    if (hasAny) out.nat.services.push(`-m comment --comment ${q(`${name} loadbalancer IP`)} ${dest(ip)} -j ${lbChain}`);
    if (usesFirewall) {
      out.filter.firewall.push(`-m comment --comment ${q(`${name} traffic not accepted by ${names.firewall}`)} ${dest(ip)} -j DROP`);
    }
  }
  if (externalFilter) {
    for (const ip of port.loadBalancerVIPs)
      out.filter.externalServices.push(`-m comment --comment ${externalFilter.comment} ${dest(ip)} -j ${externalFilter.target}`);
  }
  if (port.nodePort !== 0) {
    if (hasAny) {
      // Upstream's extra 127.0.0.0/8 rule here only counts packets (-m nfacct); the rule
      // below takes localhost too, once route_localnet is set.
      out.nat.nodePorts.push(`-m comment --comment ${name} -m ${proto} -p ${proto} --dport ${port.nodePort} -j ${names.external}`);
    }
    if (externalFilter) {
      out.filter.externalServices.push(
        `-m comment --comment ${externalFilter.comment} -m addrtype --dst-type LOCAL -m ${proto} -p ${proto} --dport ${port.nodePort} -j ${externalFilter.target}`,
      );
    }
  }
  if (port.healthCheckNodePort !== 0) {
    out.filter.nodePorts.push(`-m comment --comment ${q(`${name} health check node port`)} -m tcp -p tcp --dport ${port.healthCheckNodePort} -j ACCEPT`);
  }

  const chainRules = (chain: string) => {
    let rules = out.nat.chains.get(chain);
    if (!rules) {
      rules = [];
      out.nat.chains.set(chain, rules);
    }
    return rules;
  };
  if (hasInternal) {
    const masq = config.masqueradeAll ? '' : localMatchIpt(config.localDetector, true);
    if (config.masqueradeAll || masq) {
      chainRules(internalChain).push(`-m comment --comment ${q(`${name} cluster IP`)} ${dest(port.clusterIP)}${masq ? ` ${masq}` : ''} -j ${chains.markMasq}`);
    }
  }
  if (plan.usesExternalChain) {
    const ext = chainRules(names.external);
    if (!port.externalPolicyLocal) ext.push(`-m comment --comment ${q(`masquerade traffic for ${name} external destinations`)} -j ${chains.markMasq}`);
    else {
      // The short-circuits need the cluster chain (absent when internal traffic is Local too).
      const hasClusterChain = plan.categorized.cluster.length > 0;
      const fromPod = localMatchIpt(config.localDetector, false);
      if (fromPod && hasClusterChain) ext.push(`-m comment --comment ${q(`pod traffic for ${name} external destinations`)} ${fromPod} -j ${names.cluster}`);
      ext.push(`-m comment --comment ${q(`masquerade LOCAL traffic for ${name} external destinations`)} -m addrtype --src-type LOCAL -j ${chains.markMasq}`);
      if (hasClusterChain)
        ext.push(`-m comment --comment ${q(`route LOCAL traffic for ${name} external destinations`)} -m addrtype --src-type LOCAL -j ${names.cluster}`);
    }
    if (hasExternal) ext.push(`-j ${externalPolicyChain}`);
  }
  if (usesFirewall) {
    const fw = chainRules(names.firewall);
    const head = `-m comment --comment ${q(`${name} loadbalancer IP`)}`;
    let allowFromNode = false;
    for (const cidr of port.loadBalancerSourceRanges) {
      fw.push(`${head} -s ${cidr} -j ${names.external}`);
      const c = parseCidr(cidr);
      if (c && config.nodeIPs.some((ip) => cidrContains(c, ip))) allowFromNode = true;
    }
    if (allowFromNode) for (const ip of port.loadBalancerVIPs) fw.push(`${head} -s ${ip} -j ${names.external}`);
    fw.push(`-m comment --comment ${q(`other traffic to ${name} will be dropped by KUBE-PROXY-FIREWALL`)}`);
  }
  // Each endpoint's chain is named once here (a hash), however many rules mention it.
  const sepNames = new Map<Endpoint, string>();
  const sepOf = (ep: Endpoint) => {
    let sep = sepNames.get(ep);
    if (sep === undefined) {
      sep = iptEndpointChainName(port, ep);
      sepNames.set(ep, sep);
    }
    return sep;
  };
  const comment = (text: string) => (options.large ? '' : `-m comment --comment ${q(text)} `);
  const writeToEndpoints = (chain: string, endpoints: readonly Endpoint[]) => {
    const rules = chainRules(chain);
    if (plan.stickySeconds !== undefined) {
      for (const ep of endpoints) {
        const sep = sepOf(ep);
        rules.push(`${comment(`${name} -> ${ep.key}`)}-m recent --name ${sep} --rcheck --seconds ${plan.stickySeconds} --reap -j ${sep}`);
      }
    }
    endpoints.forEach((ep, i) => {
      const sep = sepOf(ep);
      const statistic = i < endpoints.length - 1 ? `-m statistic --mode random --probability ${probability(endpoints.length - i)} ` : '';
      rules.push(`${comment(`${name} -> ${ep.key}`)}${statistic}-j ${sep}`);
    });
  };
  const clusterList = plan.categorized.cluster;
  const localList = plan.categorized.local;
  // The lists are filled only for the policies the port uses (categorize.ts).
  if (clusterList.length > 0) writeToEndpoints(names.cluster, clusterList);
  if (localList.length > 0) writeToEndpoints(names.local, localList);
  for (const ep of plan.categorized.reachable) {
    const sepName = sepOf(ep);
    const sep = chainRules(sepName);
    const head = options.large ? '' : `-m comment --comment ${name} `;
    sep.push(`${head}-s ${ep.ip} -j ${chains.markMasq}`);
    const recent = plan.stickySeconds !== undefined ? `-m recent --name ${sepName} --set ` : '';
    sep.push(`${head}${recent}-m ${proto} -p ${proto} -j DNAT --to-destination ${ep.key}`);
  }
  return out;
}

export { masqueradeMark };
