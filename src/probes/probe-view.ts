// What the probes say about a pod's running containers, in the form the kubelet's planners
// take it (computePodActions, computePodStatus): sets of container IDs. Pure. Upstream's
// rules (prober_manager.go UpdatePodStatus), including those for a kubelet restart: a
// container that ran before it keeps `started` and, while its pod was Ready, `ready` until
// its probes say otherwise.
import type { V1Container, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { ContainerState } from '../kubelet/pods/runtime-state.js';
import type { ProbeType } from './probe-outcome.js';
import { containerId, restartGraceMs, type ResultValue } from './worker-step.js';

export interface ProbeView {
  /** Running containers whose readiness probe passes (or that have none). */
  ready: ReadonlySet<string>;
  /** Running containers whose startup probe passed (or that have none). */
  started: ReadonlySet<string>;
  livenessFailed: ReadonlySet<string>;
  startupFailed: ReadonlySet<string>;
}

export interface ProbeViewInput {
  pod: V1Pod;
  /** The status the kubelet computed last (or the API's). */
  previous: V1PodStatus | undefined;
  /** The pod's containers as the runtime shows them. */
  containers: readonly Pick<ContainerState, 'id' | 'name' | 'phase' | 'startedAt'>[];
  result(type: ProbeType, containerId: string): ResultValue | undefined;
  /** Whether a worker runs this probe of this container. */
  hasWorker(type: ProbeType, containerName: string): boolean;
  /** When the prober started (ms since the epoch). */
  proberStartedAt: number;
}

export const emptyProbeView = (): ProbeView => ({ ready: new Set(), started: new Set(), livenessFailed: new Set(), startupFailed: new Set() });

export function probeView(i: ProbeViewInput): ProbeView {
  const view = { ready: new Set<string>(), started: new Set<string>(), livenessFailed: new Set<string>(), startupFailed: new Set<string>() };
  const specs = new Map<string, V1Container>([...(i.pod.spec?.initContainers ?? []), ...(i.pod.spec?.containers ?? [])].map((c) => [c.name, c]));
  const previousStarted = new Set(
    [...(i.previous?.containerStatuses ?? []), ...(i.previous?.initContainerStatuses ?? [])].filter((s) => s.started === true).map(containerId),
  );
  const podWasReady = i.pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
  for (const c of i.containers) {
    if (c.phase !== 'running') continue;
    const spec = specs.get(c.name);
    if (i.result('Liveness', c.id) === 'failure') view.livenessFailed.add(c.id);
    const startup = i.result('Startup', c.id);
    if (startup === 'failure') view.startupFailed.add(c.id);
    const started = startup === 'success' || (startup === undefined && (previousStarted.has(c.id) || !i.hasWorker('Startup', c.name)));
    if (started) view.started.add(c.id);
    const readiness = i.result('Readiness', c.id);
    let ready = readiness === 'success';
    if (!ready && readiness === undefined) {
      ready = !i.hasWorker('Readiness', c.name);
      const ranBeforeRestart = c.startedAt !== undefined && Number(c.startedAt / 1_000_000n) < i.proberStartedAt - restartGraceMs;
      if (ranBeforeRestart) ready = spec?.readinessProbe ? podWasReady : true;
    }
    if (ready) view.ready.add(c.id);
  }
  return view;
}
