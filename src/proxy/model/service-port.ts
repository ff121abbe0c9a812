// A Service as the proxy sees it, one ServicePort per port and IP family: addresses
// canonical and of the family, policies resolved. Pure; a Service that cannot be read
// (an unparseable address or port) comes back as a problem naming the field and value,
// so the caller skips it with one log line and every other Service still works.
import { canonicalIp, type IPFamily, ipFamily, isZeroCidr, parseCidr } from '../net/ip.js';
import type { Service } from './api-objects.js';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export const protocols: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

export interface ServicePortName {
  namespace: string;
  name: string;
  /** The port's name ("" for a single unnamed port). */
  port: string;
  protocol: Protocol;
}

export interface ServicePort {
  /** Unique per family: "ns/name:port/PROTO". */
  key: string;
  /** "ns/name" of the Service. */
  serviceKey: string;
  name: ServicePortName;
  /** What upstream prints: "ns/name:port", or "ns/name" for an unnamed port. */
  display: string;
  clusterIP: string;
  port: number;
  protocol: Protocol;
  /** 0: none. */
  nodePort: number;
  externalIPs: string[];
  loadBalancerVIPs: string[];
  /** Canonical CIDRs; empty means any source (a 0.0.0.0/0 entry makes it empty too). */
  loadBalancerSourceRanges: string[];
  /** ClientIP affinity timeout in seconds; undefined: no affinity. */
  stickySeconds?: number;
  externalPolicyLocal: boolean;
  internalPolicyLocal: boolean;
  /** 0: none (only LoadBalancer Services with externalTrafficPolicy Local have one). */
  healthCheckNodePort: number;
}

export type ServiceReading = { kind: 'ports'; ports: ServicePort[] } | { kind: 'skip'; why: string } | { kind: 'problem'; problem: string };

const defaultStickySeconds = 10_800;

/** Whether a port reaches the Service from outside the cluster (NodePort, LoadBalancer or an external IP). */
export function externallyAccessible(p: ServicePort): boolean {
  return p.nodePort !== 0 || p.loadBalancerVIPs.length > 0 || p.externalIPs.length > 0;
}

/** Some traffic of this port goes to endpoints anywhere in the cluster. */
export function usesClusterEndpoints(p: ServicePort): boolean {
  return !p.internalPolicyLocal || (externallyAccessible(p) && !p.externalPolicyLocal);
}

/** Some traffic of this port goes to this node's endpoints only. */
export function usesLocalEndpoints(p: ServicePort): boolean {
  return p.internalPolicyLocal || (externallyAccessible(p) && p.externalPolicyLocal);
}

function clusterIPOf(service: Service, family: IPFamily): string | undefined {
  const spec = service.spec ?? {};
  const candidates = [spec.clusterIP, ...(spec.clusterIPs ?? [])].filter((ip): ip is string => typeof ip === 'string' && ip !== '' && ip !== 'None');
  return candidates.find((ip) => ipFamily(ip) === family);
}

/**
 * The ServicePorts of one Service for one family; `skip` for the Services upstream does not
 * proxy (headless, ExternalName, no ClusterIP of this family).
 */
export function readService(service: Service, family: IPFamily): ServiceReading {
  const ns = service.metadata?.namespace ?? '';
  const name = service.metadata?.name ?? '';
  const serviceKey = `${ns}/${name}`;
  const spec = service.spec ?? {};
  const problem = (field: string, value: unknown) => ({
    kind: 'problem' as const,
    problem: `Service ${serviceKey}: ${field}: invalid value ${JSON.stringify(value)}`,
  });
  if (spec.clusterIP === undefined || spec.clusterIP === '' || spec.clusterIP === 'None') return { kind: 'skip', why: 'no ClusterIP (headless)' };
  if (spec.type === 'ExternalName') return { kind: 'skip', why: 'type ExternalName' };
  for (const [i, ip] of [spec.clusterIP, ...(spec.clusterIPs ?? [])].entries()) {
    if (ipFamily(ip) === undefined) return problem(i === 0 ? 'spec.clusterIP' : `spec.clusterIPs[${i - 1}]`, ip);
  }
  const rawClusterIP = clusterIPOf(service, family);
  if (rawClusterIP === undefined) return { kind: 'skip', why: `no ${family} ClusterIP` };
  const clusterIP = canonicalIp(rawClusterIP)!;

  const externalIPs: string[] = [];
  for (const [i, ip] of (spec.externalIPs ?? []).entries()) {
    const f = ipFamily(ip);
    if (f === undefined) return problem(`spec.externalIPs[${i}]`, ip);
    if (f === family) externalIPs.push(canonicalIp(ip)!);
  }
  const sourceRanges: string[] = [];
  let anySource = false;
  for (const [i, text] of (spec.loadBalancerSourceRanges ?? []).entries()) {
    // Upstream validation lets whitespace through; upstream trims it.
    const cidr = parseCidr(String(text).trim());
    if (!cidr) return problem(`spec.loadBalancerSourceRanges[${i}]`, text);
    if (cidr.family !== family) continue;
    if (isZeroCidr(cidr)) anySource = true;
    sourceRanges.push(cidr.text);
  }
  const loadBalancerVIPs: string[] = [];
  for (const [i, ing] of (service.status?.loadBalancer?.ingress ?? []).entries()) {
    if (!ing.ip) continue;
    // Only VIP-mode load balancers send traffic with the VIP as destination.
    if (ing.ipMode !== undefined && ing.ipMode !== 'VIP') continue;
    const f = ipFamily(ing.ip);
    if (f === undefined) return problem(`status.loadBalancer.ingress[${i}].ip`, ing.ip);
    if (f === family) loadBalancerVIPs.push(canonicalIp(ing.ip)!);
  }
  let stickySeconds: number | undefined;
  if (spec.sessionAffinity === 'ClientIP') {
    const t = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? defaultStickySeconds;
    if (!Number.isInteger(t) || t < 1 || t > 86_400) return problem('spec.sessionAffinityConfig.clientIP.timeoutSeconds', t);
    stickySeconds = t;
  }
  const type = spec.type ?? 'ClusterIP';
  const reachableFromOutside = type === 'NodePort' || type === 'LoadBalancer' || (spec.externalIPs ?? []).length > 0;
  const externalPolicyLocal = reachableFromOutside && spec.externalTrafficPolicy === 'Local';
  const internalPolicyLocal = spec.internalTrafficPolicy === 'Local';
  const healthCheck = type === 'LoadBalancer' && externalPolicyLocal ? (spec.healthCheckNodePort ?? 0) : 0;
  if (!Number.isInteger(healthCheck) || healthCheck < 0 || healthCheck > 65535) return problem('spec.healthCheckNodePort', healthCheck);

  const ports: ServicePort[] = [];
  for (const [i, p] of (spec.ports ?? []).entries()) {
    const protocol = (p.protocol ?? 'TCP') as Protocol;
    if (!protocols.includes(protocol)) return problem(`spec.ports[${i}].protocol`, p.protocol);
    if (!Number.isInteger(p.port) || p.port! < 1 || p.port! > 65535) return problem(`spec.ports[${i}].port`, p.port);
    const nodePort = type === 'ClusterIP' ? 0 : (p.nodePort ?? 0);
    if (!Number.isInteger(nodePort) || nodePort < 0 || nodePort > 65535) return problem(`spec.ports[${i}].nodePort`, p.nodePort);
    const portName = p.name ?? '';
    ports.push({
      key: `${serviceKey}:${portName}/${protocol}`,
      serviceKey,
      name: { namespace: ns, name, port: portName, protocol },
      display: portName === '' ? serviceKey : `${serviceKey}:${portName}`,
      clusterIP,
      port: p.port!,
      protocol,
      nodePort,
      externalIPs,
      loadBalancerVIPs,
      loadBalancerSourceRanges: anySource ? [] : sourceRanges,
      ...(stickySeconds !== undefined && { stickySeconds }),
      externalPolicyLocal,
      internalPolicyLocal,
      healthCheckNodePort: healthCheck,
    });
  }
  return { kind: 'ports', ports };
}
