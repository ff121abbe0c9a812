// Services, EndpointSlices and Nodes for proxy tests, as the API's JSON has them, with
// the few fields each test cares about.
import type { EndpointSlice, Node, Service } from '../../src/proxy/model/api-objects.js';

// Every object made is a new version, as the API server's would be.
let version = 0;
const nextVersion = () => String(++version);

export interface PortSpec {
  name?: string;
  port: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  nodePort?: number;
  targetPort?: number;
}

export interface ServiceSpec {
  namespace?: string;
  name: string;
  clusterIP: string;
  clusterIPs?: string[];
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  ports: PortSpec[];
  externalIPs?: string[];
  loadBalancerIPs?: string[];
  loadBalancerSourceRanges?: string[];
  sessionAffinitySeconds?: number;
  externalTrafficPolicy?: 'Cluster' | 'Local';
  internalTrafficPolicy?: 'Cluster' | 'Local';
  healthCheckNodePort?: number;
  labels?: Record<string, string>;
}

export function service(s: ServiceSpec): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: s.namespace ?? 'default', name: s.name, resourceVersion: nextVersion(), ...(s.labels && { labels: s.labels }) },
    spec: {
      type: s.type ?? 'ClusterIP',
      clusterIP: s.clusterIP,
      clusterIPs: s.clusterIPs ?? [s.clusterIP],
      ports: s.ports.map((p) => ({
        ...(p.name !== undefined && { name: p.name }),
        port: p.port,
        protocol: p.protocol ?? 'TCP',
        targetPort: p.targetPort ?? p.port,
        ...(p.nodePort !== undefined && { nodePort: p.nodePort }),
      })),
      ...(s.externalIPs && { externalIPs: s.externalIPs }),
      ...(s.loadBalancerSourceRanges && { loadBalancerSourceRanges: s.loadBalancerSourceRanges }),
      ...(s.sessionAffinitySeconds !== undefined && {
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: s.sessionAffinitySeconds } },
      }),
      ...(s.externalTrafficPolicy && { externalTrafficPolicy: s.externalTrafficPolicy }),
      ...(s.internalTrafficPolicy && { internalTrafficPolicy: s.internalTrafficPolicy }),
      ...(s.healthCheckNodePort !== undefined && { healthCheckNodePort: s.healthCheckNodePort }),
    },
    ...(s.loadBalancerIPs && { status: { loadBalancer: { ingress: s.loadBalancerIPs.map((ip) => ({ ip })) } } }),
  };
}

export interface EndpointSpec {
  ip: string;
  node?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
  zoneHints?: string[];
}

export interface SliceSpec {
  namespace?: string;
  service: string;
  name?: string;
  addressType?: 'IPv4' | 'IPv6';
  ports: { name?: string; port: number; protocol?: 'TCP' | 'UDP' | 'SCTP' }[];
  endpoints: EndpointSpec[];
}

export function slice(s: SliceSpec): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      namespace: s.namespace ?? 'default',
      name: s.name ?? `${s.service}-abcde`,
      resourceVersion: nextVersion(),
      labels: { 'kubernetes.io/service-name': s.service },
    },
    addressType: s.addressType ?? 'IPv4',
    ports: s.ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
    endpoints: s.endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false },
      ...(e.node !== undefined && { nodeName: e.node }),
      ...(e.zoneHints && { hints: { forZones: e.zoneHints.map((name) => ({ name })) } }),
    })),
  };
}

export function node(name: string, options: { ips?: string[]; zone?: string; podCIDRs?: string[] } = {}): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      resourceVersion: nextVersion(),
      labels: { 'kubernetes.io/hostname': name, ...(options.zone && { 'topology.kubernetes.io/zone': options.zone }) },
    },
    spec: { ...(options.podCIDRs && { podCIDR: options.podCIDRs[0], podCIDRs: options.podCIDRs }) },
    status: { addresses: (options.ips ?? []).map((address) => ({ type: 'InternalIP', address })) },
  };
}
