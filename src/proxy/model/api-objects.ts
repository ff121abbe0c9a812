// The fields of Service, EndpointSlice and Node the proxy reads, as the API's JSON has
// them. The reflector hands raw JSON through (decoding 45k Services into client-node's
// classes would cost more than building their rules); these types say what is read, and
// every reader still checks what it finds.
import type { KubeObject, ObjectMetaLike } from '../../kube/object-meta.js';

export interface ObjectMeta extends ObjectMetaLike {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
}

export interface ServicePortSpec {
  name?: string;
  protocol?: string;
  port?: number;
  targetPort?: number | string;
  nodePort?: number;
}

export interface Service extends KubeObject {
  metadata?: ObjectMeta;
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    ipFamilies?: string[];
    ports?: ServicePortSpec[];
    externalIPs?: string[];
    loadBalancerSourceRanges?: string[];
    sessionAffinity?: string;
    sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
    externalTrafficPolicy?: string;
    internalTrafficPolicy?: string;
    healthCheckNodePort?: number;
    trafficDistribution?: string;
  };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string; ipMode?: string }[] } };
}

export interface EndpointSlicePort {
  name?: string | null;
  protocol?: string;
  port?: number | null;
}

export interface SliceEndpoint {
  addresses?: string[];
  conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
  nodeName?: string;
  zone?: string;
  hints?: { forZones?: { name?: string }[]; forNodes?: { name?: string }[] };
}

export interface EndpointSlice extends KubeObject {
  metadata?: ObjectMeta;
  addressType?: string;
  ports?: EndpointSlicePort[] | null;
  endpoints?: SliceEndpoint[] | null;
}

export interface Node extends KubeObject {
  metadata?: ObjectMeta;
  spec?: { podCIDR?: string; podCIDRs?: string[]; taints?: { key?: string; effect?: string }[] };
  status?: { addresses?: { type?: string; address?: string }[] };
}

/** Upstream's well-known keys. */
export const labelServiceName = 'kubernetes.io/service-name';
export const labelServiceProxyName = 'service.kubernetes.io/service-proxy-name';
export const labelHeadless = 'service.kubernetes.io/headless';
export const labelTopologyZone = 'topology.kubernetes.io/zone';
export const annotationLastChangeTriggerTime = 'endpoints.kubernetes.io/last-change-trigger-time';
export const taintToBeDeletedByClusterAutoscaler = 'ToBeDeletedByClusterAutoscaler';

/** The label selector both watches use, as upstream's: skip other proxies' Services and headless ones. */
export const proxyLabelSelector = `!${labelServiceProxyName},!${labelHeadless}`;

export const serviceKeyOf = (obj: { metadata?: ObjectMeta }) => `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
