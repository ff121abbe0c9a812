// What the planner decides for one pod in one sync, and the executor carries out in
// this order: kill what must go, (re)create the sandbox, start the next init container
// or the containers that should run. The planner is pure; see compute-pod-actions.ts.

export interface ContainerToKill {
  id: string;
  name: string;
  /** Why, for the Killing event and the log line ("Container web failed liveness probe", ...). */
  message: string;
  /** A failed probe is why: its terminationGracePeriodSeconds, when set, replaces the pod's. */
  probe?: 'liveness' | 'startup';
}

export interface ContainerToStart {
  /** Name of the container in the pod spec (initContainers or containers). */
  name: string;
  /** Which list it comes from: sidecars are `init` with restartPolicy Always; `ephemeral` are `kubectl debug`'s. */
  kind: 'init' | 'regular' | 'ephemeral';
  /** metadata.attempt for the new container: the previous attempt + 1, or 0. */
  attempt: number;
}

export interface ContainerBackoff {
  name: string;
  /** When the next restart is allowed (ms since the epoch): the waiting message names it. */
  retryAt: number;
  /** The back-off that applies now (ms), for "back-off 40s restarting failed container". */
  delayMs: number;
}

export interface PodActions {
  /** Kill every container and the sandbox (the sandbox changed or died). */
  killPod: boolean;
  /** Create a new sandbox (with this attempt number) before starting containers. */
  createSandbox: boolean;
  /** Why the pod needs a new sandbox ("sandbox 0123… is not ready"), when it does. */
  sandboxWhy?: string;
  sandboxAttempt: number;
  /** The sandbox containers are started in when none is created. */
  sandboxId?: string;
  /** Init containers run one at a time, in order; at most one of these per sync. */
  nextInitContainer?: ContainerToStart;
  /** Regular containers and restartable init containers (sidecars) to (re)start. */
  containersToStart: ContainerToStart[];
  containersToKill: ContainerToKill[];
  /** Running containers whose allocated resources are to be applied in place (UpdateContainerResources). */
  containersToResize: { id: string; name: string }[];
  /** Containers that should restart but are in CrashLoopBackOff until retryAt. */
  backingOff: ContainerBackoff[];
  /** An init container failed under restartPolicy Never: the pod has failed. */
  podFailed?: { reason: string; message: string };
}

export function noActions(): PodActions {
  return { killPod: false, createSandbox: false, sandboxAttempt: 0, containersToStart: [], containersToKill: [], containersToResize: [], backingOff: [] };
}
