/*
 * The prober manager: one ProbeWorker per probe of each container (regular containers and
 * sidecars) of each pod, their results, and what the kubelet asks of them.
 *
 *   addPod (first sync) ──► workers run ──stopLivenessAndStartup (terminating)──► readiness only ──removePod──► none
 *
 * A result that changes is reported with the pod's UID (the kubelet syncs the pod: a
 * failed liveness probe restarts the container, readiness reaches the status); `view`
 * gives the planners the results as sets of container IDs; `statusChanged` probes at once
 * a running container that is not ready yet, as upstream does, so a pod becomes Ready
 * without waiting a period.
 */
import type { V1Container, V1Pod, V1PodStatus, V1Probe } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { podKey } from '../kubelet/pods/pod-names.js';
import type { CriRuntime } from '../kubelet/runtime/cri-runtime.js';
import type { ContainerState } from '../kubelet/pods/runtime-state.js';
import type { ProbeType } from './probe-outcome.js';
import { ProbeResults } from './probe-results.js';
import { type ProbeView, probeView } from './probe-view.js';
import { type ContainerEvent, type ProbeObserver, ProbeWorker, type WorkerDeps } from './probe-worker.js';
import { type ProbeRun, probeRunner } from './run-probe.js';
import { containerId, findContainerStatus } from './worker-step.js';

export interface ProberManagerOptions {
  cri: CriRuntime;
  /** The status the kubelet computed last for a pod: where workers find their container and the pod IP. */
  statusOf(uid: string): V1PodStatus | undefined;
  /** A probe result changed: sync the pod. */
  onResultChanged(uid: string): void;
  warning: ContainerEvent;
  observe?: ProbeObserver | undefined;
  log: Logger;
  /** For tests: the probe handlers, the clock, the jitter. */
  run?: ProbeRun;
  now?: () => number;
  random?: () => number;
}

const probeTypes: { type: ProbeType; spec: (c: V1Container) => V1Probe | undefined }[] = [
  { type: 'Startup', spec: (c) => c.startupProbe },
  { type: 'Readiness', spec: (c) => c.readinessProbe },
  { type: 'Liveness', spec: (c) => c.livenessProbe },
];

interface PodEntry {
  pod: V1Pod;
  /** By `${container}/${type}`. */
  workers: Map<string, ProbeWorker>;
}

export class ProberManager {
  readonly results: ProbeResults;
  readonly #pods = new Map<string, PodEntry>();
  readonly #deps: WorkerDeps;
  readonly #log: Logger;

  constructor(o: ProberManagerOptions) {
    const now = o.now ?? Date.now;
    this.#log = o.log;
    this.results = new ProbeResults((uid, type, id, result) => {
      const entry = this.#pods.get(uid);
      this.#log.info({ pod: entry ? podKey(entry.pod) : uid, probe: type, container: containerName(entry, id), result }, 'probe result changed');
      o.onResultChanged(uid);
    });
    this.#deps = {
      statusOf: o.statusOf,
      results: this.results,
      run: o.run ?? probeRunner(o.cri),
      warning: o.warning,
      observe: o.observe,
      log: o.log,
      now,
      random: o.random ?? Math.random,
      startedAt: now(),
    };
  }

  /** Starts the workers of a pod the first time it is seen; later calls only hand them the newest pod. */
  addPod(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    const known = this.#pods.get(uid);
    if (known) {
      known.pod = pod;
      for (const w of known.workers.values()) w.updatePod(pod);
      return;
    }
    const entry: PodEntry = { pod, workers: new Map() };
    this.#pods.set(uid, entry);
    const sidecars = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
    for (const c of [...(pod.spec?.containers ?? []), ...sidecars]) {
      for (const { type, spec } of probeTypes) {
        const probe = spec(c);
        if (!probe) continue;
        const key = `${c.name}/${type}`;
        const worker = new ProbeWorker({
          pod,
          container: c,
          type,
          probe,
          sidecar: sidecars.includes(c),
          deps: this.#deps,
          onStopped: () => {
            if (entry.workers.get(key) === worker) entry.workers.delete(key);
          },
        });
        entry.workers.set(key, worker);
        worker.start();
      }
    }
  }

  /** The pod is terminating: its regular containers are not restarted any more, so their liveness and startup probes stop. */
  stopLivenessAndStartup(uid: string): void {
    const entry = this.#pods.get(uid);
    if (!entry) return;
    const regular = new Set((entry.pod.spec?.containers ?? []).map((c) => c.name));
    for (const w of [...entry.workers.values()]) if (regular.has(w.container.name) && w.type !== 'Readiness') w.stop();
  }

  /** The pod is gone or terminated: every probe stops, and its results go. */
  removePod(uid: string): void {
    const entry = this.#pods.get(uid);
    if (!entry) return;
    this.#pods.delete(uid);
    for (const w of [...entry.workers.values()]) w.stop();
  }

  /** Every worker stops (the kubelet is stopping). */
  stop(): void {
    for (const uid of [...this.#pods.keys()]) this.removePod(uid);
  }

  /** What the probes say about the pod's running containers, for its actions and status. */
  view(pod: V1Pod, previous: V1PodStatus | undefined, containers: readonly ContainerState[]): ProbeView {
    const entry = this.#pods.get(pod.metadata?.uid ?? '');
    return probeView({
      pod,
      previous,
      containers,
      result: (type, id) => this.results.get(type, id),
      hasWorker: (type, name) => entry?.workers.has(`${name}/${type}`) === true,
      proberStartedAt: this.#deps.startedAt,
    });
  }

  /** A new status for the pod: a running, started container that is not ready is probed now. */
  statusChanged(pod: V1Pod, status: V1PodStatus): void {
    const entry = this.#pods.get(pod.metadata?.uid ?? '');
    if (!entry) return;
    for (const [key, w] of entry.workers) {
      if (w.type !== 'Readiness') continue;
      const c = findContainerStatus(status, w.container.name);
      if (c?.state?.running && c.started === true && !c.ready && this.results.get('Readiness', containerId(c)) !== 'success') {
        entry.workers.get(key)?.trigger();
      }
    }
  }

  /** How many workers run (for tests and the log). */
  get workerCount(): number {
    let n = 0;
    for (const e of this.#pods.values()) n += e.workers.size;
    return n;
  }
}

function containerName(entry: PodEntry | undefined, id: string): string | undefined {
  for (const w of entry?.workers.values() ?? []) if (w.containerId === id) return w.container.name;
  return undefined;
}
