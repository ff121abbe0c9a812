// The node components' only seam to the apiserver: the handful of Node and Lease calls
// they make. Each call has a deadline, so an apiserver that stops answering turns into
// an error the loops back off on, never a hung heartbeat.
import { isApiError, KubeApiError } from '../../kube/api-error.js';
import type { RestClient } from '../../kube/rest-client.js';
import type { Lease, Node } from './node-wire.js';

export interface NodeApi {
  createNode(node: Node, signal: AbortSignal): Promise<Node>;
  /** undefined when there is no such Node. */
  getNode(name: string, signal: AbortSignal): Promise<Node | undefined>;
  /** A JSON merge patch of the Node (metadata, spec). */
  patchNode(name: string, patch: object, signal: AbortSignal): Promise<Node>;
  /** A strategic merge patch of nodes/<name>/status. */
  patchNodeStatus(name: string, patch: object, signal: AbortSignal): Promise<Node>;
  getLease(namespace: string, name: string, signal: AbortSignal): Promise<Lease | undefined>;
  createLease(lease: Lease, signal: AbortSignal): Promise<Lease>;
  /** A PUT guarded by the lease's resourceVersion: a concurrent writer gets a Conflict. */
  updateLease(lease: Lease, signal: AbortSignal): Promise<Lease>;
}

export const isNotFound = (err: unknown) => err instanceof KubeApiError && err.status === 404;
export const isAlreadyExists = (err: unknown) => isApiError(err, 'AlreadyExists');
export const isConflict = (err: unknown) => err instanceof KubeApiError && err.status === 409 && err.reason === 'Conflict';

/** Upstream's heartbeat client timeout is the lease duration; 10 s keeps renewals on time. */
const CALL_TIMEOUT_MS = 10_000;

const nodePath = (name: string) => `/api/v1/nodes/${encodeURIComponent(name)}`;
const leasePath = (ns: string, name?: string) =>
  `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(ns)}/leases${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;

async function orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export function restNodeApi(rest: RestClient, timeoutMs = CALL_TIMEOUT_MS): NodeApi {
  return {
    createNode: (node, signal) => rest.request<Node>('POST', '/api/v1/nodes', { body: node, signal, timeoutMs }),
    // resourceVersion=0: served from the apiserver's cache, as upstream's first status try.
    getNode: (name, signal) => orUndefined(rest.request<Node>('GET', nodePath(name), { query: { resourceVersion: '0' }, signal, timeoutMs })),
    patchNode: (name, patch, signal) =>
      rest.request<Node>('PATCH', nodePath(name), { body: patch, contentType: 'application/merge-patch+json', signal, timeoutMs }),
    patchNodeStatus: (name, patch, signal) =>
      rest.request<Node>('PATCH', `${nodePath(name)}/status`, { body: patch, contentType: 'application/strategic-merge-patch+json', signal, timeoutMs }),
    getLease: (ns, name, signal) => orUndefined(rest.request<Lease>('GET', leasePath(ns, name), { signal, timeoutMs })),
    createLease: (lease, signal) => rest.request<Lease>('POST', leasePath(lease.metadata.namespace ?? ''), { body: lease, signal, timeoutMs }),
    updateLease: (lease, signal) =>
      rest.request<Lease>('PUT', leasePath(lease.metadata.namespace ?? '', lease.metadata.name ?? ''), { body: lease, signal, timeoutMs }),
  };
}
