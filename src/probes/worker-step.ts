/*
 * What a probe worker does at each tick, as upstream's worker decides it (prober/worker.go),
 * as pure functions of the worker's state and what the pod status shows. The worker
 * (probe-worker.ts) carries the decisions out: result updates, a probe run, or stopping.
 *
 *   no status / container not there yet ───────────────────────────────► wait
 *   pod Succeeded or Failed ───────────────────────────────────────────► stop
 *   a new container instance ──► forget the old instance's result, start with the initial
 *        │                       one (readiness: failure, liveness: success, startup: unknown)
 *        ▼
 *   on hold (liveness failed, startup decided) until the next instance ──► wait
 *   not running ──► result failure; stop once it will not run again
 *   pod being deleted ──► liveness/startup: success, stop
 *   within initialDelaySeconds, or the wrong side of the startup gate ──► wait
 *        │
 *        ▼
 *   probe ──► count equal results in a row; at the threshold, set the result
 *             (liveness failure and any startup result put the worker on hold)
 */
import type { V1ContainerStatus, V1PodStatus } from '@kubernetes/client-node';
import type { ProbeType } from './probe-outcome.js';

export type ResultValue = 'success' | 'failure' | 'unknown';

export interface WorkerState {
  /** The container instance the worker follows (no runtime prefix). */
  containerId?: string;
  lastResult?: 'success' | 'failure';
  /** How many times in a row lastResult came. */
  resultRun: number;
  onHold: boolean;
}

export const initialWorkerState = (): WorkerState => ({ resultRun: 0, onHold: false });

export type ResultOp = { op: 'set'; id: string; result: ResultValue } | { op: 'remove'; id: string };

export interface TickInput {
  type: ProbeType;
  containerName: string;
  /** A restartable init container (sidecar). */
  sidecar: boolean;
  restartPolicy: string;
  deletionRequested: boolean;
  initialDelaySeconds: number;
  status: V1PodStatus | undefined;
  now: number;
  /** When the prober started (ms since the epoch): containers older than that kept their results across a kubelet restart. */
  proberStartedAt: number;
}

export interface TickPlan {
  state: WorkerState;
  ops: ResultOp[];
  next: 'wait' | 'probe' | 'stop';
}

/** Containers started this long before the prober are taken to have run before a kubelet restart. */
export const restartGraceMs = 10_000;

export const initialResult: Record<ProbeType, ResultValue> = { Readiness: 'failure', Liveness: 'success', Startup: 'unknown' };

export function containerId(s: V1ContainerStatus): string {
  return (s.containerID ?? '').replace(/^[a-z0-9.-]+:\/\//i, '');
}

/** The container's status: regular containers first, then init containers, as upstream looks. */
export function findContainerStatus(status: V1PodStatus, name: string): V1ContainerStatus | undefined {
  const regular = status.containerStatuses?.find((c) => c.name === name);
  if (regular?.containerID) return regular;
  const init = status.initContainerStatuses?.find((c) => c.name === name);
  return init?.containerID ? init : undefined;
}

export function planTick(prev: WorkerState, i: TickInput): TickPlan {
  const state = { ...prev };
  const ops: ResultOp[] = [];
  const plan = (next: TickPlan['next']): TickPlan => ({ state, ops, next });
  if (!i.status) return plan('wait');
  if (i.status.phase === 'Failed' || i.status.phase === 'Succeeded') return plan('stop');
  const c = findContainerStatus(i.status, i.containerName);
  if (!c) return plan('wait');
  const id = containerId(c);

  if (state.containerId !== id) {
    if (state.containerId) ops.push({ op: 'remove', id: state.containerId });
    state.containerId = id;
    const startedAt = c.state?.running?.startedAt ? new Date(c.state.running.startedAt).getTime() : undefined;
    const survivedRestart = startedAt !== undefined && startedAt < i.proberStartedAt - restartGraceMs;
    // A sidecar that had started before a kubelet restart stays started: the next init container may already run.
    if (i.sidecar && i.type === 'Startup' && c.started === true) ops.push({ op: 'set', id, result: 'success' });
    if (!survivedRestart) ops.push({ op: 'set', id, result: initialResult[i.type] });
    state.onHold = false;
    state.lastResult = undefined;
    state.resultRun = 0;
  }
  if (state.onHold) return plan('wait');

  if (!c.state?.running) {
    ops.push({ op: 'set', id, result: 'failure' });
    const t = c.state?.terminated;
    if (!t) return plan('wait');
    const restarts = i.sidecar || i.restartPolicy === 'Always' || (i.restartPolicy === 'OnFailure' && t.exitCode !== 0);
    return plan(restarts ? 'wait' : 'stop');
  }
  if (i.deletionRequested && (i.type === 'Liveness' || i.type === 'Startup')) {
    ops.push({ op: 'set', id, result: 'success' });
    return plan('stop');
  }
  const startedAt = c.state.running.startedAt ? new Date(c.state.running.startedAt).getTime() : i.now;
  if (Math.floor((i.now - startedAt) / 1000) < i.initialDelaySeconds) return plan('wait');
  // The startup gate: the startup probe runs until the container has started, the others only after.
  if ((c.started === true) === (i.type === 'Startup')) return plan('wait');
  return plan('probe');
}

/** Counts a probe's result; at its threshold it becomes the container's result. */
export function recordResult(
  prev: WorkerState,
  type: ProbeType,
  result: 'success' | 'failure',
  thresholds: { success: number; failure: number },
): { state: WorkerState; set?: 'success' | 'failure' } {
  const state = { ...prev };
  if (state.lastResult === result) state.resultRun++;
  else {
    state.lastResult = result;
    state.resultRun = 1;
  }
  if ((result === 'failure' && state.resultRun < thresholds.failure) || (result === 'success' && state.resultRun < thresholds.success)) return { state };
  // A failed liveness probe means a restart, and a decided startup probe has done its job:
  // either way nothing more to probe on this instance.
  if ((type === 'Liveness' && result === 'failure') || type === 'Startup') {
    state.onHold = true;
    state.resultRun = 0;
  }
  return { state, set: result };
}
