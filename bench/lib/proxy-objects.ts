// The objects bench/proxy feeds both proxies: Service i (in one of 50 namespaces) with
// ClusterIP 10.96.0.16 + i and one EndpointSlice of 1 or 5 endpoints. Each comes in two
// forms: the request the bench sends through the API, and the object as kube-apiserver
// v1.36 stores it after that request (its defaults, the allocated IPs, managedFields,
// and for a Service the IPAddress its ClusterIP allocator keeps), which the bench seeds
// straight into etcd at sizes the API cannot be given in time (test/testbed/seed.ts).
// The two forms must stay in step: test/integration/etcd-seed.test.ts compares them
// through the real API server.
import type { EndpointSlice, ObjectMeta, Service } from '../../src/proxy/model/api-objects.js';

export const benchNamespaces = 50;
/** The field manager of the bench's writes (the API takes it from the user agent). */
export const benchFieldManager = 'tskube-bench-proxy';

export const benchNamespace = (i: number) => `bench-${i % benchNamespaces}`;

export function benchClusterIp(i: number): string {
  const n = i + 16;
  return `10.${96 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}

export function benchEndpointIp(i: number, e: number, generation: number): string {
  const n = i * 8 + e;
  return `10.${128 + generation * 16 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}

/** Metadata the API server adds on create. */
interface StoredMeta extends ObjectMeta {
  creationTimestamp: string;
  generation?: number;
  managedFields: unknown[];
}

export type Stored<T> = T & { metadata: StoredMeta };

export interface IPAddress {
  apiVersion: 'networking.k8s.io/v1';
  kind: 'IPAddress';
  metadata: StoredMeta;
  spec: { parentRef: { resource: string; namespace: string; name: string } };
}

/** The body of the bench's POST of Service i. */
export function serviceRequest(i: number): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `svc-${i}`, namespace: benchNamespace(i) },
    spec: { clusterIP: benchClusterIp(i), ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  };
}

/** A managedFields entry of an Update made at `time`. */
const managed = (manager: string, apiVersion: string, time: string, fieldsV1: object) => ({
  manager,
  operation: 'Update',
  apiVersion,
  time,
  fieldsType: 'FieldsV1',
  fieldsV1,
});

/** Service i as the API server stores it after serviceRequest(i), created at `created` (RFC 3339, seconds). */
export function storedService(i: number, created: string): Stored<Service> {
  const ip = benchClusterIp(i);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: `svc-${i}`,
      namespace: benchNamespace(i),
      creationTimestamp: created,
      managedFields: [
        managed(benchFieldManager, 'v1', created, {
          'f:spec': {
            'f:clusterIP': {},
            'f:internalTrafficPolicy': {},
            'f:ports': { '.': {}, 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:name': {}, 'f:port': {}, 'f:protocol': {}, 'f:targetPort': {} } },
            'f:sessionAffinity': {},
            'f:type': {},
          },
        }),
      ],
    },
    spec: {
      clusterIP: ip,
      clusterIPs: [ip],
      internalTrafficPolicy: 'Cluster',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
      sessionAffinity: 'None',
      type: 'ClusterIP',
    },
    status: { loadBalancer: {} },
  } as Stored<Service>;
}

/** The IPAddress the ClusterIP allocator keeps for Service i. */
export function storedIpAddress(i: number, created: string): IPAddress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IPAddress',
    metadata: {
      name: benchClusterIp(i),
      labels: { 'ipaddress.kubernetes.io/ip-family': 'IPv4', 'ipaddress.kubernetes.io/managed-by': 'ipallocator.k8s.io' },
      creationTimestamp: created,
      managedFields: [
        managed('kube-apiserver', 'networking.k8s.io/v1', created, {
          'f:metadata': { 'f:labels': { '.': {}, 'f:ipaddress.kubernetes.io/ip-family': {}, 'f:ipaddress.kubernetes.io/managed-by': {} } },
          'f:spec': { 'f:parentRef': { '.': {}, 'f:name': {}, 'f:namespace': {}, 'f:resource': {} } },
        }),
      ],
    },
    spec: { parentRef: { resource: 'services', namespace: benchNamespace(i), name: `svc-${i}` } },
  };
}

/** The body of the bench's POST or PUT of Service i's slice; `generation` picks other endpoint IPs. */
export function sliceRequest(i: number, endpoints: number, generation = 0, changed = new Date().toISOString()): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `svc-${i}-bench`,
      namespace: benchNamespace(i),
      labels: { 'kubernetes.io/service-name': `svc-${i}`, 'endpointslice.kubernetes.io/managed-by': 'bench.tskube.io' },
      annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': changed },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: Array.from({ length: endpoints }, (_, e) => ({
      addresses: [benchEndpointIp(i, e, generation)],
      conditions: { ready: true },
      nodeName: 'elsewhere',
    })),
  };
}

/** Service i's slice as the API server stores it after a POST (objectGeneration 1) or a later PUT of sliceRequest(i, endpoints). */
export function storedSlice(i: number, endpoints: number, created: string, objectGeneration = 1): Stored<EndpointSlice> {
  const slice = sliceRequest(i, endpoints, 0, created);
  return {
    ...slice,
    metadata: {
      ...slice.metadata,
      creationTimestamp: created,
      generation: objectGeneration,
      managedFields: [
        managed(benchFieldManager, 'discovery.k8s.io/v1', created, {
          'f:addressType': {},
          'f:endpoints': {},
          'f:metadata': {
            'f:annotations': { '.': {}, 'f:endpoints.kubernetes.io/last-change-trigger-time': {} },
            'f:labels': { '.': {}, 'f:endpointslice.kubernetes.io/managed-by': {}, 'f:kubernetes.io/service-name': {} },
          },
          'f:ports': {},
        }),
      ],
    },
  };
}
