import type { Container__Output } from '../../gen/cri/runtime/v1/Container.js';
import type { ContainerStatus__Output } from '../../gen/cri/runtime/v1/ContainerStatus.js';
import type { PodSandbox__Output } from '../../gen/cri/runtime/v1/PodSandbox.js';
import type { PodSandboxStatus__Output } from '../../gen/cri/runtime/v1/PodSandboxStatus.js';
import { containerHashAnnotation, containerNameLabel, podNameLabel, podNamespaceLabel, podUidLabel } from '../pods/labels.js';
import { newestFirst, type ContainerPhase, type ContainerState, type PodRuntimeState, type SandboxState } from '../pods/runtime-state.js';

export interface RuntimeListing {
  sandboxes: PodSandbox__Output[];
  containers: Container__Output[];
  /** PodSandboxStatus of ready sandboxes, by ID (for their IPs). */
  sandboxStatuses: ReadonlyMap<string, PodSandboxStatus__Output>;
  /** ContainerStatus of exited containers, by ID (for exit code, reason, finish time). */
  containerStatuses: ReadonlyMap<string, ContainerStatus__Output>;
}

const phaseOf: Record<string, ContainerPhase> = {
  CONTAINER_CREATED: 'created',
  CONTAINER_RUNNING: 'running',
  CONTAINER_EXITED: 'exited',
  CONTAINER_UNKNOWN: 'unknown',
};

const nonZero = (ns: string | undefined) => (ns && ns !== '0' ? BigInt(ns) : undefined);

function sandboxState(s: PodSandbox__Output, status: PodSandboxStatus__Output | undefined): SandboxState {
  const network = status?.network;
  const ips = network?.ip ? [network.ip, ...(network.additionalIps ?? []).map((a) => a.ip)] : [];
  return {
    id: s.id,
    attempt: s.metadata?.attempt ?? 0,
    phase: s.state === 'SANDBOX_READY' ? 'ready' : 'not-ready',
    createdAt: BigInt(s.createdAt || '0'),
    ips,
    hostNetwork: status?.linux?.namespaces?.options?.network === 'NODE',
  };
}

function containerState(c: Container__Output, status: ContainerStatus__Output | undefined): ContainerState {
  const state: ContainerState = {
    id: c.id,
    name: c.labels[containerNameLabel] ?? c.metadata?.name ?? '',
    sandboxId: c.podSandboxId,
    attempt: c.metadata?.attempt ?? 0,
    phase: phaseOf[c.state] ?? 'unknown',
    createdAt: BigInt(c.createdAt || '0'),
    // ContainerStatus names the image as the runtime knows it (containerd: its first tag) and
    // gives the repo digest where there is one; the listing may only have the image ID.
    image: status?.image?.image || c.image?.userSpecifiedImage || c.image?.image || '',
    imageRef: status?.imageRef || c.imageRef,
  };
  const hash = c.annotations[containerHashAnnotation];
  if (hash) state.specHash = hash;
  if (status) {
    const startedAt = nonZero(status.startedAt);
    const finishedAt = nonZero(status.finishedAt);
    if (startedAt !== undefined) state.startedAt = startedAt;
    if (finishedAt !== undefined) state.finishedAt = finishedAt;
    if (status.state === 'CONTAINER_EXITED') state.exitCode = status.exitCode;
    if (status.reason) state.reason = status.reason;
    if (status.message) state.message = status.message;
  }
  return state;
}

/**
 * Groups what CRI lists into one PodRuntimeState per pod UID, using the labels the
 * kubelet put on its sandboxes and containers. Objects without a pod UID label were
 * not made by a kubelet and are left out.
 */
export function groupRuntimeState(listing: RuntimeListing): Map<string, PodRuntimeState> {
  const pods = new Map<string, PodRuntimeState>();
  const podOf = (labels: Record<string, string>) => {
    const uid = labels[podUidLabel];
    if (!uid) return undefined;
    let pod = pods.get(uid);
    if (!pod) {
      pod = { uid, name: labels[podNameLabel] ?? '', namespace: labels[podNamespaceLabel] ?? '', sandboxes: [], containers: [] };
      pods.set(uid, pod);
    }
    return pod;
  };
  for (const s of listing.sandboxes) podOf(s.labels)?.sandboxes.push(sandboxState(s, listing.sandboxStatuses.get(s.id)));
  for (const c of listing.containers) podOf(c.labels)?.containers.push(containerState(c, listing.containerStatuses.get(c.id)));
  for (const pod of pods.values()) {
    pod.sandboxes.sort(newestFirst);
    pod.containers.sort(newestFirst);
  }
  return pods;
}
