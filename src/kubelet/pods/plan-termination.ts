// Graceful termination of a pod, as ordered steps. Re-plan after each step (or whenever
// the state changes) with the grace left: the plan always starts with what is still
// running, so its first step is what the pod waits on, and its description is what the
// kubelet logs and reports when the pod is stuck terminating.
//
//   main containers (and init containers, and strays), all at once: preStop, then stop
//        │ all exited (or grace gone)
//        ▼
//   sidecars, one at a time, last in spec order first
//        │
//        ▼
//   stop every sandbox of the pod (idempotent; also releases a dead sandbox's network)
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { ContainerState, PodRuntimeState } from './runtime-state.js';
import { initContainers, isLive, isRestartableInitContainer, regularContainers } from './container-outcome.js';

/** Upstream never gives a container less than this to stop, so a zero grace is not a bare SIGKILL race. */
export const minimumStopGraceSeconds = 2;
export const defaultTerminationGraceSeconds = 30;

export interface TerminationTarget {
  id: string;
  name: string;
  /** Run the container's preStop hook before stopping it (it has one and grace is left). */
  preStop: boolean;
}

export interface TerminationStep {
  kind: 'stop-containers' | 'stop-sandbox';
  /** Containers stopped together in this step: each its preStop hook, then StopContainer(grace). */
  containers: TerminationTarget[];
  sandboxIds: string[];
  /** The grace each container of the step gets (what is left, never under the minimum); 0 for sandboxes. */
  graceSeconds: number;
  /** What the pod waits on during this step, for the log and the event of a pod stuck terminating. */
  description: string;
}

/**
 * The grace period for a pod's termination: an explicit override (eviction, force
 * delete), else the one the deletion asked for, else the spec's, else 30 s.
 */
export function podGracePeriodSeconds(pod: V1Pod, override?: number): number {
  const g = override ?? pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? defaultTerminationGraceSeconds;
  return Math.max(0, g);
}

/**
 * The grace period for killing one container of a pod that keeps running (a failed probe, a
 * changed spec), as upstream's setTerminationGracePeriod: the deletion's when the pod is being
 * deleted; else the failed probe's own terminationGracePeriodSeconds when it sets one; else
 * the pod's. Never under the minimum a container gets to stop.
 */
export function containerKillGraceSeconds(pod: V1Pod, spec: V1Container | undefined, probe?: 'liveness' | 'startup'): number {
  const deletion = pod.metadata?.deletionGracePeriodSeconds;
  const probeGrace =
    probe === 'liveness'
      ? spec?.livenessProbe?.terminationGracePeriodSeconds
      : probe === 'startup'
        ? spec?.startupProbe?.terminationGracePeriodSeconds
        : undefined;
  const grace = deletion ?? probeGrace ?? pod.spec?.terminationGracePeriodSeconds ?? defaultTerminationGraceSeconds;
  return Math.max(minimumStopGraceSeconds, grace);
}

export function planTermination(pod: V1Pod, state: PodRuntimeState, gracePeriodSeconds: number): TerminationStep[] {
  const grace = Math.max(0, Math.floor(gracePeriodSeconds));
  const stopGrace = Math.max(grace, minimumStopGraceSeconds);
  const specs = new Map<string, V1Container>([...initContainers(pod), ...regularContainers(pod)].map((c) => [c.name, c]));
  const live = state.containers.filter(isLive);
  const target = (c: ContainerState): TerminationTarget => ({
    id: c.id,
    name: c.name,
    preStop: grace > 0 && specs.get(c.name)?.lifecycle?.preStop !== undefined,
  });
  const steps: TerminationStep[] = [];

  const sidecarNames = new Set(
    initContainers(pod)
      .filter(isRestartableInitContainer)
      .map((c) => c.name),
  );
  const mainOrder = [...initContainers(pod).filter((c) => !isRestartableInitContainer(c)), ...regularContainers(pod)].map((c) => c.name);
  const rank = (name: string): number => {
    const i = mainOrder.indexOf(name);
    return i < 0 ? mainOrder.length : i;
  };
  const main = live
    .filter((c) => !sidecarNames.has(c.name))
    .sort((a, b) => rank(a.name) - rank(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(target);
  if (main.length > 0) {
    steps.push({ kind: 'stop-containers', containers: main, sandboxIds: [], graceSeconds: stopGrace, description: describeStop(main, stopGrace, '') });
  }

  for (const c of [...initContainers(pod)].reverse()) {
    if (!isRestartableInitContainer(c)) continue;
    const targets = live.filter((x) => x.name === c.name).map(target);
    if (targets.length === 0) continue;
    steps.push({
      kind: 'stop-containers',
      containers: targets,
      sandboxIds: [],
      graceSeconds: stopGrace,
      description: describeStop(targets, stopGrace, 'sidecar '),
    });
  }

  if (state.sandboxes.length > 0) {
    const ids = state.sandboxes.map((s) => s.id);
    steps.push({
      kind: 'stop-sandbox',
      containers: [],
      sandboxIds: ids,
      graceSeconds: 0,
      description: `stopping pod sandbox${ids.length > 1 ? 'es' : ''} ${ids.map(shortId).join(', ')}`,
    });
  }
  return steps;
}

/** Nothing of the pod runs any more: no live container and no ready sandbox. */
export function terminationComplete(state: PodRuntimeState): boolean {
  return !state.containers.some(isLive) && !state.sandboxes.some((s) => s.phase === 'ready');
}

function describeStop(targets: readonly TerminationTarget[], grace: number, what: string): string {
  const names = [...new Set(targets.map((t) => t.name))];
  const hooks = [...new Set(targets.filter((t) => t.preStop).map((t) => t.name))];
  const subject = names.length === 1 ? `${what}container ${names[0]}` : `${what}containers ${names.join(', ')}`;
  let hookNote = '';
  if (hooks.length > 0) hookNote = names.length === 1 ? ' after its preStop hook' : ` after the preStop hook of ${hooks.join(', ')}`;
  return `waiting for ${subject} to stop${hookNote} (grace ${grace}s)`;
}

function shortId(id: string): string {
  return id.slice(0, 13);
}
