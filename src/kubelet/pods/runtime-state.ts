// What the kubelet observed of one pod in the container runtime (CRI ListPodSandbox,
// ListContainers, *Status), reduced to what planning needs. Built by the observer from
// CRI replies and the labels/annotations the kubelet itself put on sandboxes and
// containers (see labels.ts); consumed by the pure planner and the status builder.

export type SandboxPhase = 'ready' | 'not-ready';

export interface SandboxState {
  id: string;
  /** metadata.attempt: bumped each time the kubelet recreates the sandbox. */
  attempt: number;
  phase: SandboxPhase;
  /** Nanoseconds since the epoch, exact. */
  createdAt: bigint;
  /** Pod IPs from PodSandboxStatus.network (primary first); empty for host network. */
  ips: string[];
  /** The network namespace mode: false when the pod uses the host network. */
  hostNetwork: boolean;
}

/** CRI container states, plus `unknown` for "the runtime could not tell". */
export type ContainerPhase = 'created' | 'running' | 'exited' | 'unknown';

export interface ContainerState {
  id: string;
  /** The pod spec's container name (io.kubernetes.container.name). */
  name: string;
  sandboxId: string;
  /** metadata.attempt: how many times this container was created before (restart count). */
  attempt: number;
  phase: ContainerPhase;
  createdAt: bigint;
  startedAt?: bigint;
  finishedAt?: bigint;
  exitCode?: number;
  /** CRI reason ("Completed", "Error", "OOMKilled", ...). */
  reason?: string;
  message?: string;
  /** The image as the spec named it, and the resolved image ID/digest. */
  image: string;
  imageRef: string;
  /** io.kubernetes.container.hash: a hash of the container spec it was created from. */
  specHash?: string;
}

export interface PodRuntimeState {
  uid: string;
  name: string;
  namespace: string;
  /** Newest first. */
  sandboxes: SandboxState[];
  /** Every container of every sandbox of the pod, newest first. */
  containers: ContainerState[];
}

/** Sort order of sandboxes and containers: by creation time, newest first. */
export function newestFirst<T extends { createdAt: bigint }>(a: T, b: T): number {
  return a.createdAt === b.createdAt ? 0 : a.createdAt > b.createdAt ? -1 : 1;
}

export function emptyRuntimeState(uid: string, name: string, namespace: string): PodRuntimeState {
  return { uid, name, namespace, sandboxes: [], containers: [] };
}
