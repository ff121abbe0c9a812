/*
 * One probe (liveness, readiness or startup) of one container of one pod, on one timer:
 * every periodSeconds it asks planTick what to do, runs the probe when told, counts the
 * result against the thresholds and keeps the container's result in ProbeResults. The
 * first run after the kubelet starts is jittered over one period, so the probes of many
 * pods do not all fire at once; a worker made later runs at once, as upstream's do. A
 * trigger (a container not ready yet) probes at once and restarts the period.
 */
import type { V1Container, V1Pod, V1PodStatus, V1Probe } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { errorMessage } from '../common/errors.js';
import { podKey } from '../kubelet/pods/pod-names.js';
import { type ProbeOutcome, type ProbeType, probeEvent } from './probe-outcome.js';
import type { ProbeResults } from './probe-results.js';
import { probeFailureThreshold, probeInitialDelaySeconds, probePeriodSeconds, probeSuccessThreshold } from './probe-settings.js';
import type { ProbeRun } from './run-probe.js';
import { initialWorkerState, planTick, recordResult, type ResultOp, type WorkerState } from './worker-step.js';

/** The labels upstream's prober metrics carry for one probe. */
export interface ProbeLabels {
  probe_type: ProbeType;
  container: string;
  pod: string;
  namespace: string;
  pod_uid: string;
}

/** Where probe runs are reported (the kubelet's /metrics/probes); must not throw. */
export interface ProbeObserver {
  /** A probe ran: its result as upstream counts it, how long it took, and how late after it was due it ended (ms). */
  probed(labels: ProbeLabels, result: 'successful' | 'failed' | 'unknown', durationMs: number, dueToResultMs: number): void;
  /** The worker is gone: drop its series. */
  forget(labels: ProbeLabels): void;
}

/** Events about one container of a pod, with the container's field path as upstream references it. */
export type ContainerEvent = (pod: V1Pod, fieldPath: string, reason: string, message: string) => void;

export interface WorkerDeps {
  statusOf(uid: string): V1PodStatus | undefined;
  results: ProbeResults;
  run: ProbeRun;
  warning: ContainerEvent;
  observe?: ProbeObserver | undefined;
  log: Logger;
  now(): number;
  random(): number;
  /** When the prober started (ms since the epoch). */
  startedAt: number;
}

export class ProbeWorker {
  readonly type: ProbeType;
  readonly container: V1Container;
  readonly #probe: V1Probe;
  readonly #sidecar: boolean;
  readonly #deps: WorkerDeps;
  readonly #onStopped: () => void;
  readonly #abort = new AbortController();
  readonly #periodMs: number;
  readonly #labels: ProbeLabels;
  #pod: V1Pod;
  #state: WorkerState = initialWorkerState();
  #timer: NodeJS.Timeout | undefined;
  #due = 0;
  #running = false;
  #triggered = false;
  #stopped = false;

  constructor(o: { pod: V1Pod; container: V1Container; type: ProbeType; probe: V1Probe; sidecar: boolean; deps: WorkerDeps; onStopped: () => void }) {
    this.#pod = o.pod;
    this.container = o.container;
    this.type = o.type;
    this.#probe = o.probe;
    this.#sidecar = o.sidecar;
    this.#deps = o.deps;
    this.#onStopped = o.onStopped;
    this.#periodMs = probePeriodSeconds(o.probe) * 1000;
    this.#labels = {
      probe_type: o.type,
      container: o.container.name,
      pod: o.pod.metadata?.name ?? '',
      namespace: o.pod.metadata?.namespace ?? '',
      pod_uid: o.pod.metadata?.uid ?? '',
    };
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** The container instance the worker follows, once it saw one. */
  get containerId(): string | undefined {
    return this.#state.containerId;
  }

  start(): void {
    const now = this.#deps.now();
    // Right after the kubelet starts, every pod's workers start together: spread them over a period.
    const delay = now - this.#deps.startedAt < this.#periodMs ? Math.floor(this.#deps.random() * this.#periodMs) : 0;
    this.#due = now + delay;
    this.#schedule(delay);
  }

  /** The newest version of the pod (a deletion timestamp, a new resourceVersion). */
  updatePod(pod: V1Pod): void {
    this.#pod = pod;
  }

  /** Probe now (and from now on every period), or right after the probe in flight. */
  trigger(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#triggered = true;
      return;
    }
    this.#due = this.#deps.now();
    this.#schedule(0);
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#abort.abort();
    if (this.#state.containerId) this.#deps.results.remove(this.type, this.#state.containerId);
    this.#deps.observe?.forget(this.#labels);
    this.#onStopped();
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#tick(), delayMs);
    this.#timer.unref?.();
  }

  async #tick(): Promise<void> {
    if (this.#stopped || this.#running) return;
    this.#running = true;
    const due = this.#due;
    try {
      await this.#tickOnce(due);
    } catch (err) {
      // A bug here must not end the probe: log it and go on at the next period.
      this.#deps.log.error({ pod: podKey(this.#pod), container: this.container.name, probe: this.type, err: errorMessage(err) }, 'probe worker failed');
    } finally {
      this.#running = false;
    }
    if (this.#stopped) return;
    const now = this.#deps.now();
    if (this.#triggered) {
      this.#triggered = false;
      this.#due = now;
    } else {
      // A ticker: the next run one period after the last was due; a run that overran goes at once.
      this.#due = Math.max(due + this.#periodMs, now);
    }
    this.#schedule(this.#due - now);
  }

  async #tickOnce(due: number): Promise<void> {
    const d = this.#deps;
    const pod = this.#pod;
    const uid = pod.metadata?.uid ?? '';
    const plan = planTick(this.#state, {
      type: this.type,
      containerName: this.container.name,
      sidecar: this.#sidecar,
      restartPolicy: pod.spec?.restartPolicy ?? 'Always',
      deletionRequested: pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null,
      initialDelaySeconds: probeInitialDelaySeconds(this.#probe),
      status: d.statusOf(uid),
      now: d.now(),
      proberStartedAt: d.startedAt,
    });
    this.#state = plan.state;
    this.#apply(plan.ops, uid);
    if (plan.next === 'stop') return this.stop();
    if (plan.next !== 'probe') return;
    const id = this.#state.containerId ?? '';
    const podIP = d.statusOf(uid)?.podIP ?? '';
    const started = d.now();
    const outcome = await d.run(this.#probe, { container: this.container, containerId: id, podIP }, this.#abort.signal);
    // Stopped while it ran (the pod is terminating or gone), or another instance by now: not this worker's to count.
    if (this.#stopped || this.#state.containerId !== id) return;
    const ended = d.now();
    this.#report(outcome, started, ended, due);
    if (outcome.error !== undefined) return;
    const r = recordResult(this.#state, this.type, outcome.result === 'failure' || outcome.result === 'unknown' ? 'failure' : 'success', {
      success: probeSuccessThreshold(this.#probe),
      failure: probeFailureThreshold(this.#probe),
    });
    this.#state = r.state;
    if (r.set) this.#apply([{ op: 'set', id, result: r.set }], uid);
  }

  #apply(ops: readonly ResultOp[], uid: string): void {
    for (const op of ops) {
      if (op.op === 'remove') this.#deps.results.remove(this.type, op.id);
      else this.#deps.results.set(this.type, op.id, op.result, uid);
    }
  }

  /** The event, log line and metrics of one probe run. */
  #report(outcome: ProbeOutcome, started: number, ended: number, due: number): void {
    const d = this.#deps;
    const event = probeEvent(this.type, outcome);
    if (event) d.warning(this.#pod, this.#fieldPath(), event.reason, event.message);
    if (outcome.error !== undefined) {
      d.log.debug({ pod: podKey(this.#pod), container: this.container.name, probe: this.type, err: outcome.error }, 'probe errored');
      return;
    }
    // Upstream counts an unknown outcome as a failure (its "unknown" series stays empty).
    d.observe?.probed(this.#labels, outcome.result === 'success' || outcome.result === 'warning' ? 'successful' : 'failed', ended - started, ended - due);
  }

  #fieldPath(): string {
    const list = this.#pod.spec?.initContainers?.some((c) => c.name === this.container.name) ? 'initContainers' : 'containers';
    return `spec.${list}{${this.container.name}}`;
  }
}
