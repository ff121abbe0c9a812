import type { V1Pod, V1PodDNSConfigOption } from '@kubernetes/client-node';
import type { DNSConfig } from '../../gen/cri/runtime/v1/DNSConfig.js';
import type { ResolvConf } from './resolv-conf.js';

// Limits the API server validates pod dnsConfig against, and that the kubelet applies
// to the composed result (which also includes the host's resolv.conf).
export const maxDnsNameservers = 3;
export const maxDnsSearchPaths = 32;
export const maxDnsSearchListChars = 2048;
/** Some resolvers (glibc 2.28) abort on a search path longer than a DNS-1123 subdomain. */
export const maxDnsSearchPathChars = 253;

export interface PodDnsContext {
  clusterDNS: string[];
  clusterDomain: string;
  hostResolv: ResolvConf;
}

/** Something the user should hear about as a Warning event on the pod (reason, message). */
export interface DnsWarning {
  reason: 'DNSConfigForming' | 'MissingClusterDNS';
  message: string;
  /** The same warning for the Node, where upstream records one there too. */
  nodeMessage?: string;
}

export interface PodDnsResult {
  config: DNSConfig & { servers: string[]; searches: string[]; options: string[] };
  warnings: DnsWarning[];
}

type DnsType = 'none' | 'cluster' | 'host';

function dnsType(pod: V1Pod): DnsType {
  const hostNetwork = pod.spec?.hostNetwork === true;
  switch (pod.spec?.dnsPolicy) {
    case 'None':
      return 'none';
    case 'ClusterFirstWithHostNet':
      return 'cluster';
    case 'Default':
      return 'host';
    case 'ClusterFirst':
    case undefined:
    case '':
      // Host-network pods keep the node's resolver unless they ask for ClusterFirstWithHostNet.
      return hostNetwork ? 'host' : 'cluster';
    default:
      // The API server rejects other values; like upstream, fall back to cluster DNS.
      return 'cluster';
  }
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}

/**
 * Options merge by name; pod dnsConfig options override the base ones. Unlike upstream
 * (which goes through a Go map) the order is stable: base options first, then new names.
 */
function mergeOptions(base: string[], extra: V1PodDNSConfigOption[]): string[] {
  const merged = new Map<string, string>();
  for (const op of base) {
    const i = op.indexOf(':');
    if (i < 0) merged.set(op, '');
    else merged.set(op.slice(0, i), op.slice(i + 1));
  }
  for (const op of extra) {
    if (!op.name) continue;
    merged.set(op.name, op.value ?? '');
  }
  return [...merged].map(([name, value]) => (value === '' ? name : `${name}:${value}`));
}

function fitSearches(searches: string[], warnings: DnsWarning[]): string[] {
  let exceeded = false;
  let fitted = searches;
  if (fitted.length > maxDnsSearchPaths) {
    fitted = fitted.slice(0, maxDnsSearchPaths);
    exceeded = true;
  }
  const short = fitted.filter((s) => s.length <= maxDnsSearchPathChars);
  if (short.length !== fitted.length) exceeded = true;
  fitted = short;
  let lineLength = fitted.join(' ').length;
  while (lineLength > maxDnsSearchListChars && fitted.length > 0) {
    const last = fitted[fitted.length - 1] ?? '';
    fitted = fitted.slice(0, -1);
    lineLength -= last.length + 1;
    exceeded = true;
  }
  if (exceeded) {
    warnings.push({
      reason: 'DNSConfigForming',
      message: `Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${fitted.join(' ')}`,
    });
  }
  return fitted;
}

function fitNameservers(servers: string[], warnings: DnsWarning[]): string[] {
  if (servers.length <= maxDnsNameservers) return servers;
  const fitted = servers.slice(0, maxDnsNameservers);
  warnings.push({
    reason: 'DNSConfigForming',
    message: `Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${fitted.join(' ')}`,
  });
  return fitted;
}

/**
 * The pod's resolver config for CRI, by dnsPolicy, as the upstream kubelet forms it:
 *  - ClusterFirst (not host network) and ClusterFirstWithHostNet: the cluster DNS
 *    servers, searches `<ns>.svc.<domain> svc.<domain> <domain>` then the host's, ndots:5;
 *    with no clusterDNS configured, falls back to Default with a MissingClusterDNS warning.
 *  - Default (and ClusterFirst on the host network): the host's resolv.conf.
 *  - None: only what spec.dnsConfig gives.
 * spec.dnsConfig is then appended (duplicates dropped, options merged by name) and the
 * result cut to the resolver limits, with a DNSConfigForming warning when something was cut.
 */
export function podDnsConfig(pod: V1Pod, ctx: PodDnsContext): PodDnsResult {
  const warnings: DnsWarning[] = [];
  let servers = [...ctx.hostResolv.nameservers];
  let searches = [...ctx.hostResolv.searches];
  let options = [...ctx.hostResolv.options];
  const type = dnsType(pod);
  if (type === 'none') {
    servers = [];
    searches = [];
    options = [];
  } else if (type === 'cluster') {
    if (ctx.clusterDNS.length > 0) {
      servers = [...ctx.clusterDNS];
      if (ctx.clusterDomain !== '') {
        const ns = pod.metadata?.namespace ?? 'default';
        const domain = ctx.clusterDomain;
        searches = unique([`${ns}.svc.${domain}`, `svc.${domain}`, domain, ...searches]);
      }
      options = ['ndots:5'];
    } else {
      const nodeMessage = 'kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.';
      warnings.push({ reason: 'MissingClusterDNS', message: `pod: "${podDesc(pod)}". ${nodeMessage}`, nodeMessage });
    }
  }
  const extra = pod.spec?.dnsConfig;
  if (extra) {
    servers = unique([...servers, ...(extra.nameservers ?? [])]);
    searches = unique([...searches, ...(extra.searches ?? [])]);
    options = mergeOptions(options, extra.options ?? []);
  }
  return {
    config: { servers: fitNameservers(servers, warnings), searches: fitSearches(searches, warnings), options },
    warnings,
  };
}

function podDesc(pod: V1Pod): string {
  return `${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? ''}(${pod.metadata?.uid ?? ''})`;
}
