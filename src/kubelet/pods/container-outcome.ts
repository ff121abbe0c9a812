// What the runtime state says about one container of the pod spec: its newest instance,
// whether it ran to completion or failed, and whether the pod's restart policy wants it
// started again. Shared by the action planner, the status builder and the termination
// planner so the three never disagree on what "failed" or "should restart" means.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { ContainerState, PodRuntimeState } from './runtime-state.js';

export type PodRestartPolicy = 'Always' | 'OnFailure' | 'Never';

/** The pod's restartPolicy; the API server defaults it to Always, so do we. */
export function podRestartPolicy(pod: V1Pod): PodRestartPolicy {
  const p = pod.spec?.restartPolicy;
  return p === 'OnFailure' || p === 'Never' ? p : 'Always';
}

/** A failed container is restarted unless the pod says Never. */
export function shouldRestartOnFailure(pod: V1Pod): boolean {
  return podRestartPolicy(pod) !== 'Never';
}

/** A sidecar: an init container with its own restartPolicy Always. */
export function isRestartableInitContainer(c: V1Container): boolean {
  return c.restartPolicy === 'Always';
}

export function initContainers(pod: V1Pod): V1Container[] {
  return pod.spec?.initContainers ?? [];
}

export function regularContainers(pod: V1Pod): V1Container[] {
  return pod.spec?.containers ?? [];
}

/** The init containers (sidecars among them), then the regular ones: the spec's containers. */
export function specContainers(pod: V1Pod): V1Container[] {
  return [...initContainers(pod), ...regularContainers(pod)];
}

/** The spec of the container with this name, init or regular. */
export function containerSpec(pod: V1Pod, name: string): V1Container | undefined {
  return specContainers(pod).find((c) => c.name === name);
}

/** The ephemeral containers (`kubectl debug`), as containers: they share every field the kubelet reads. */
export function ephemeralContainers(pod: V1Pod): V1Container[] {
  return (pod.spec?.ephemeralContainers ?? []) as V1Container[];
}

/** The spec of the named container, ephemeral ones included. */
export function anyContainerSpec(pod: V1Pod, name: string): V1Container | undefined {
  return containerSpec(pod, name) ?? ephemeralContainers(pod).find((c) => c.name === name);
}

/** Every instance of the named container, newest first (the state is kept newest first). */
export function instancesOf(state: PodRuntimeState, name: string): ContainerState[] {
  return state.containers.filter((c) => c.name === name);
}

/** The newest instance of the named container, from any sandbox of the pod. */
export function latestInstance(state: PodRuntimeState, name: string): ContainerState | undefined {
  return state.containers.find((c) => c.name === name);
}

/** The newest instance that has exited: the one crash-loop back-off is measured from. */
export function latestExited(state: PodRuntimeState, name: string): ContainerState | undefined {
  return state.containers.find((c) => c.name === name && c.phase === 'exited');
}

/** The attempt number for the next instance of a container: one more than the newest. */
export function nextAttempt(state: PodRuntimeState, name: string): number {
  const latest = latestInstance(state, name);
  return latest ? latest.attempt + 1 : 0;
}

/** Running, or possibly running: something a kill has to stop. */
export function isLive(c: ContainerState): boolean {
  return c.phase === 'running' || c.phase === 'unknown';
}

export function succeeded(c: ContainerState | undefined): boolean {
  return c !== undefined && c.phase === 'exited' && c.exitCode === 0;
}

/**
 * An init container failed when it exited non-zero, was OOM-killed (even with exit 0),
 * or the runtime cannot say what became of it.
 */
export function isInitContainerFailed(c: ContainerState): boolean {
  if (c.reason === 'OOMKilled') return true;
  if (c.phase === 'exited' && c.exitCode !== 0) return true;
  return c.phase === 'unknown';
}

/**
 * Whether the newest instance of a container should be followed by a new one, by the
 * pod's restart policy. A pod being deleted restarts nothing; a container never seen,
 * stuck in created or in an unknown state is always (re)started.
 */
export function shouldContainerBeRestarted(container: V1Container, pod: V1Pod, state: PodRuntimeState): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  const latest = latestInstance(state, container.name);
  if (!latest) return true;
  switch (latest.phase) {
    case 'running':
      return false;
    case 'created':
    case 'unknown':
      return true;
    case 'exited': {
      const policy = podRestartPolicy(pod);
      if (policy === 'Never') return false;
      if (policy === 'OnFailure') return latest.exitCode !== 0;
      return true;
    }
  }
}

/** Any regular container has an instance that was created (so initialization finished once). */
export function hasAnyRegularContainerCreated(pod: V1Pod, state: PodRuntimeState): boolean {
  return regularContainers(pod).some((c) => {
    const latest = latestInstance(state, c.name);
    return latest !== undefined && latest.phase !== 'unknown';
  });
}

/** Nanoseconds since the epoch to milliseconds, for clocks and Dates. */
export function nsToMs(ns: bigint): number {
  return Number(ns / 1_000_000n);
}
