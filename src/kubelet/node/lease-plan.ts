// The node Lease, as upstream's lease controller keeps it
// (component-helpers/apimachinery/lease/controller.go, pkg/kubelet/nodelease):
// holderIdentity = the node name, renewTime moved every 0.25 × leaseDurationSeconds,
// owned by the Node so the Lease goes when the Node is deleted.
import { apiMicroTime, type Lease, type Node, type OwnerReference } from './node-wire.js';

export const nodeLeaseNamespace = 'kube-node-lease';

/** Upstream's renewIntervalFraction. */
export const renewIntervalFraction = 0.25;

export function renewIntervalMs(leaseDurationSeconds: number): number {
  return Math.round(leaseDurationSeconds * 1000 * renewIntervalFraction);
}

export function nodeOwnerReference(node: Node): OwnerReference | undefined {
  const { name, uid } = node.metadata;
  if (!name || !uid) return undefined;
  return { apiVersion: 'v1', kind: 'Node', name, uid };
}

export interface LeaseInputs {
  nodeName: string;
  leaseDurationSeconds: number;
  now: Date;
  /** The Node's owner reference, once the Node exists. */
  owner: OwnerReference | undefined;
}

export function newLease(input: LeaseInputs): Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: input.nodeName,
      namespace: nodeLeaseNamespace,
      ...(input.owner ? { ownerReferences: [input.owner] } : {}),
    },
    spec: {
      holderIdentity: input.nodeName,
      leaseDurationSeconds: input.leaseDurationSeconds,
      renewTime: apiMicroTime(input.now),
    },
  };
}

/** The lease with renewTime moved to now; the owner reference added if it had none. */
export function renewedLease(lease: Lease, input: LeaseInputs): Lease {
  const hasOwner = (lease.metadata.ownerReferences ?? []).length > 0;
  return {
    ...lease,
    metadata: {
      ...lease.metadata,
      ...(!hasOwner && input.owner ? { ownerReferences: [input.owner] } : {}),
    },
    spec: {
      ...lease.spec,
      holderIdentity: input.nodeName,
      leaseDurationSeconds: input.leaseDurationSeconds,
      renewTime: apiMicroTime(input.now),
    },
  };
}

/** Whether the lease still wants an owner reference (the Node did not exist when it was made). */
export function leaseNeedsOwner(lease: Lease): boolean {
  return (lease.metadata.ownerReferences ?? []).length === 0;
}
