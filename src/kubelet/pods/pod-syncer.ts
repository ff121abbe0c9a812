/*
 * One sync of one pod: observe (the runtime cache), plan (computePodActions), act (the
 * executor steps in runtime/, each giving a step result), report (plan-sync-report.ts turns
 * the results into events, waiting reasons and the requeue; computePodStatus → status
 * manager). Termination follows planTermination's ordered steps and says which step it
 * waits on.
 */
import type { V1Container, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { TskubeError } from '../../common/errors.js';
import { cleanup } from '../runtime/cleanup.js';
import { killContainer } from '../runtime/container-kill.js';
import { type StartOutcome, startContainer } from '../runtime/container-start.js';
import type { ExecutorDeps } from '../runtime/executor-deps.js';
import type { RuntimeCache } from '../runtime/runtime-cache.js';
import { type RunningSandbox, runSandbox } from '../runtime/sandbox-run.js';
import type { StatusManager } from '../status/status-manager.js';
import { computePodActions } from './compute-pod-actions.js';
import { computePodStatus } from './compute-pod-status.js';
import { anyContainerSpec, containerSpec, latestInstance } from './container-outcome.js';
import { type CrashBackoff, recordRestarts } from './crash-backoff.js';
import { containerKillGraceSeconds, minimumStopGraceSeconds, planTermination } from './plan-termination.js';
import { podKey } from './pod-names.js';
import { activeDeadlineAt, deadlineExceeded } from './active-deadline.js';
import type { PodResizeManager } from '../resize/pod-resize-manager.js';
import { largerResources, resizableContainers, sameResources, withContainerResources } from '../resize/resize-plan.js';
import { kubeletFailedStatus } from './terminal-status.js';
import { decidedSteps, foldReports, reportStep, type StepReport } from './plan-sync-report.js';
import type { SyncResult } from './pod-workers.js';
import { emptyRuntimeState, type PodRuntimeState } from './runtime-state.js';
import type { StepResult } from './sync-steps.js';
import type { WaitingReason } from './waiting-reason.js';
import type { ProbeView } from '../../probes/probe-view.js';

export interface PodSyncerOptions {
  deps: ExecutorDeps;
  cache: RuntimeCache;
  statuses: StatusManager;
  backoff: CrashBackoff;
  specHash: (c: V1Container) => string;
  hostIPs: () => string[];
  runtimeName: string;
  log: Logger;
  now?: () => number;
  /** Fetches what the pod's env and pull secrets refer to, before planning. */
  prefetch?: (pod: V1Pod) => Promise<void>;
  /** What the pod's probes say (liveness, readiness, startup), for its actions and status; no probes run without it. */
  probes?: { view(pod: V1Pod, previous: V1PodStatus | undefined, containers: PodRuntimeState['containers']): ProbeView };
  /** In-place resize: the resources allocated to each pod's containers and applied to them. */
  resize?: PodResizeManager;
}

/** StopPodSandbox of a pod being removed: CNI teardown included, so longer than a plain call. */
const removalStopTimeoutMs = 60_000;

export class PodSyncer {
  readonly #o: PodSyncerOptions;
  readonly #now: () => number;
  /** Pods whose termination wrote its last status. */
  readonly #stopped = new Set<string>();

  constructor(options: PodSyncerOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  async #state(pod: V1Pod, fresh = false): Promise<PodRuntimeState> {
    const uid = pod.metadata?.uid ?? '';
    return (await this.#o.cache.pod(uid, fresh)) ?? emptyRuntimeState(uid, pod.metadata?.name ?? '', pod.metadata?.namespace ?? 'default');
  }

  async sync(specPod: V1Pod, signal: AbortSignal): Promise<SyncResult> {
    const { deps, backoff, log, resize } = this.#o;
    await this.#o.prefetch?.(specPod);
    const now = this.#now();
    const uid = specPod.metadata?.uid ?? '';
    const deadlineAt = activeDeadlineAt(specPod, this.#o.statuses.statusOf(uid) ?? specPod.status);
    if (deadlineAt !== undefined && now >= deadlineAt) return this.#deadlineExceeded(specPod);
    // The pod as it runs here: its containers with the resources allocated to them (a resize waits for room).
    const pod = resize ? resize.allocate(specPod) : specPod;
    const state = await this.#state(pod);
    const probes = this.#probeView(pod, state);
    if (resize) adoptActuated(resize, pod, state);
    const actions = computePodActions(pod, state, {
      now,
      backoff,
      specHash: this.#o.specHash,
      ...(probes ? { livenessFailed: probes.livenessFailed, startupPassed: probes.started, startupFailed: probes.startupFailed } : {}),
      ...(resize ? { actuated: (name: string) => resize.actuated(uid, name) } : {}),
    });
    const reports: StepReport[] = [];
    const report = (result: StepResult) => reports.push(this.#say(pod, reportStep(pod, result, now)));
    for (const step of decidedSteps(actions, state)) report(step);
    const acting = actions.killPod || actions.containersToKill.length > 0 || actions.createSandbox;

    if (actions.killPod) await this.#stopEverything(pod, state, containerKillGraceSeconds(pod, undefined), signal);
    for (const k of actions.containersToKill)
      await this.#kill(pod, state, k, containerKillGraceSeconds(pod, containerSpec(pod, k.name), k.probe), k.message, signal);
    if (actions.containersToResize.length > 0) await this.#applyResize(pod, actions.containersToResize, signal);
    // Volumes before the sandbox, on every sync (their content follows the objects it comes from).
    const volumes = deps.volumes && !actions.podFailed ? await deps.volumes.setUp(pod) : undefined;
    if (volumes) report({ step: 'mount-volumes', ...volumes });
    if (actions.createSandbox) log.debug({ pod: podKey(pod), volumesReady: volumes?.ready ?? true }, 'volumes set up; creating the sandbox');
    // Nothing starts until every volume is there; the containers show ContainerCreating meanwhile.
    const volumesReady = volumes?.ready ?? true;
    let sandbox: RunningSandbox | undefined;
    if (volumesReady && actions.createSandbox) {
      sandbox = await runSandbox(deps, pod, actions.sandboxAttempt, signal);
      if (sandbox.status) this.#o.cache.knowSandbox(sandbox.id, sandbox.status);
      log.info({ pod: podKey(pod), sandbox: sandbox.id.slice(0, 13), ips: sandbox.ips }, 'sandbox created');
    } else if (volumesReady && actions.sandboxId) {
      const current = state.sandboxes.find((s) => s.id === actions.sandboxId);
      sandbox = { id: actions.sandboxId, config: deps.builders.sandbox(pod, current?.attempt ?? 0), ips: current?.ips ?? [] };
    }
    // Host-network pods have the node's addresses (POD_IP, status.podIPs), as upstream gives them.
    if (sandbox && pod.spec?.hostNetwork) sandbox = { ...sandbox, ips: this.#o.hostIPs().slice(0, 2) };
    // Ephemeral containers first, as upstream: a debug container runs even when an init container cannot start.
    const ephemeral = actions.containersToStart.filter((s) => s.kind === 'ephemeral');
    const others = actions.containersToStart.filter((s) => s.kind !== 'ephemeral');
    const starts = sandbox ? [...ephemeral, ...(actions.nextInitContainer ? [actions.nextInitContainer] : []), ...others] : [];
    recordRestarts(backoff, pod, state, starts, now);
    for (const s of starts) {
      const spec = anyContainerSpec(pod, s.name);
      if (!spec || !sandbox) continue;
      const target = s.kind === 'ephemeral' ? ephemeralTarget(pod, state, s.name) : undefined;
      let outcome: StartOutcome;
      if (target?.missing !== undefined) {
        outcome = { ok: false, reason: 'CreateContainerConfigError', message: `unable to find target container ${target.missing}` };
        deps.events.warning(pod, 'Failed', `Error: ${outcome.message}`);
      } else {
        outcome = await startContainer(deps, pod, spec, s.attempt, sandbox, signal, target?.id);
      }
      const imageRetryAt = outcome.ok ? undefined : deps.images.retryAt(pod.metadata?.uid ?? '', spec.image ?? '');
      if (outcome.ok) resize?.setActuated(uid, s.name, spec.resources ?? {});
      report({ step: 'start-container', container: s.name, outcome, ...(imageRetryAt !== undefined ? { imageRetryAt } : {}) });
    }
    // One relist after acting serves both the resize check and the status: a second would only wait for another round trip.
    const after = acting || starts.length > 0 ? await this.#state(pod, true) : state;
    if (resize && resizeApplied(resize, pod, after)) resize.settled(pod);

    const { waiting, requeueAfterMs: requeue, terminal } = foldReports(reports, this.#now());
    const status = this.#report(pod, after, waiting);
    // A pod that has finished for good goes on to terminating, as upstream's SyncPod says.
    const done = terminal || status?.phase === 'Succeeded' || status?.phase === 'Failed';
    // Come back when the active deadline passes, if nothing brings the pod back before.
    const untilDeadline = deadlineAt === undefined ? undefined : Math.max(0, deadlineAt - this.#now()) + 100;
    const requeueAfterMs = requeue === undefined ? untilDeadline : untilDeadline === undefined ? requeue : Math.min(requeue, untilDeadline);
    return { ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}), ...(done ? { terminal: true } : {}) };
  }

  /** The pod ran past spec.activeDeadlineSeconds: Failed, DeadlineExceeded, and on to terminating. */
  #deadlineExceeded(pod: V1Pod): SyncResult {
    const uid = pod.metadata?.uid ?? '';
    this.#o.deps.events.normal(pod, deadlineExceeded.reason, deadlineExceeded.message);
    this.#o.log.info({ pod: podKey(pod), activeDeadlineSeconds: pod.spec?.activeDeadlineSeconds }, deadlineExceeded.message);
    this.#o.statuses.set(pod, kubeletFailedStatus(pod, this.#o.statuses.statusOf(uid) ?? pod.status, deadlineExceeded, new Date(this.#now())));
    return { terminal: true };
  }

  /**
   * Applies allocated resources to running containers in place: the pod cgroup first grows to
   * hold both the old and the new sizes, each container is updated (UpdateContainerResources),
   * then the pod cgroup takes the new sizes. A failure is PodResizeInProgress with reason Error.
   */
  async #applyResize(pod: V1Pod, targets: readonly { id: string; name: string }[], signal: AbortSignal): Promise<void> {
    const { deps, log, resize } = this.#o;
    if (!resize) return;
    const uid = pod.metadata?.uid ?? '';
    try {
      await deps.podCgroups?.ensure(withContainerResources(pod, (name) => largerResources(resize.actuated(uid, name), containerSpec(pod, name)?.resources)));
      for (const t of targets) {
        const spec = containerSpec(pod, t.name);
        if (!spec) continue;
        await deps.cri.runtime.call(
          'UpdateContainerResources',
          { containerId: t.id, linux: deps.builders.resources(pod, spec) },
          { signal, timeoutMs: 60_000 },
        );
        resize.setActuated(uid, t.name, spec.resources ?? {});
        log.info({ pod: podKey(pod), container: t.name, resources: spec.resources }, 'container resized in place');
      }
      await deps.podCgroups?.ensure(pod);
    } catch (err) {
      const message = TskubeError.from(err).detail;
      log.warn({ pod: podKey(pod), err: message }, 'in-place resize failed');
      resize.failed(pod, message);
    }
  }

  /** Records a step report's events and log line; returns it for the fold. */
  #say(pod: V1Pod, r: StepReport): StepReport {
    for (const e of r.events) (e.type === 'Normal' ? this.#o.deps.events.normal : this.#o.deps.events.warning)(pod, e.reason, e.message);
    if (r.log) this.#o.log[r.log.level]({ pod: podKey(pod), ...r.log.fields }, r.log.message);
    return r;
  }

  /**
   * Stops the pod's containers in planTermination's order within the grace period, then
   * its sandboxes. Each step that outlives its grace period is logged and evented, so a
   * pod stuck terminating says what it waits on.
   */
  async terminate(pod: V1Pod, gracePeriodSeconds: number, signal: AbortSignal): Promise<void> {
    const { deps, log } = this.#o;
    const state = await this.#state(pod, true);
    const deadline = this.#now() + gracePeriodSeconds * 1000;
    for (const step of planTermination(pod, state, gracePeriodSeconds)) {
      // Later steps (sidecars) get what is left of the grace period, never less than the minimum.
      const grace = Math.min(step.graceSeconds, Math.max(minimumStopGraceSeconds, Math.ceil((deadline - this.#now()) / 1000)));
      log.info({ pod: podKey(pod), step: step.description }, 'terminating');
      const stuck = setTimeout(
        () => {
          log.warn({ pod: podKey(pod), step: step.description }, 'pod is stuck terminating');
          deps.events.warning(pod, 'FailedKillPod', `still ${step.description}`);
        },
        (grace + 10) * 1000,
      );
      try {
        if (step.kind === 'stop-sandbox') {
          for (const id of step.sandboxIds) await deps.cri.runtime.call('StopPodSandbox', { podSandboxId: id }, { signal, timeoutMs: 60_000 });
        } else {
          await Promise.all(step.containers.map((c) => this.#kill(pod, state, c, grace, `Stopping container ${c.name}`, signal)));
        }
      } finally {
        clearTimeout(stuck);
      }
    }
    const final = await this.#state(pod, true);
    this.#stopped.add(pod.metadata?.uid ?? '');
    this.#report(pod, final, new Map(), true);
  }

  /**
   * A probe result of a terminating pod changed (readiness goes on while it stops): the
   * status says so at once, as upstream's status manager does, while the kill goes on.
   * Once the termination's last report is written, nothing older replaces it.
   */
  async reportTerminating(pod: V1Pod): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    if (this.#stopped.has(uid)) return;
    const state = await this.#state(pod);
    if (!this.#stopped.has(uid)) this.#report(pod, state, new Map(), true);
  }

  /** After termination: remove what the runtime keeps of the pod. */
  async removeFromRuntime(uid: string): Promise<void> {
    this.#stopped.delete(uid);
    const { deps, log } = this.#o;
    const state = await this.#o.cache.pod(uid, true);
    for (const s of state?.sandboxes ?? []) {
      // RemovePodSandbox stops the sandbox too, but a stop that fails should be seen first.
      await cleanup(log, 'stopping the sandbox of a removed pod', { uid, sandbox: s.id }, removalStopTimeoutMs, (o) =>
        deps.cri.runtime.call('StopPodSandbox', { podSandboxId: s.id }, o),
      );
      // RemovePodSandbox removes the sandbox's containers too.
      await deps.cri.runtime.call('RemovePodSandbox', { podSandboxId: s.id }, { timeoutMs: 60_000 });
    }
    // The view the reconciler reads must not show the pod any more, or it would take it
    // for a leftover of an unknown pod and terminate it again.
    if (state) await this.#o.cache.all(true);
  }

  async #stopEverything(pod: V1Pod, state: PodRuntimeState, grace: number, signal: AbortSignal): Promise<void> {
    const running = state.containers.filter((c) => c.phase === 'running' || c.phase === 'unknown');
    await Promise.all(running.map((c) => this.#kill(pod, state, c, grace, `Stopping container ${c.name}`, signal)));
    for (const s of state.sandboxes.filter((x) => x.phase === 'ready')) {
      await this.#o.deps.cri.runtime.call('StopPodSandbox', { podSandboxId: s.id }, { signal, timeoutMs: 60_000 });
    }
  }

  /** killContainer with the container's spec (its preStop hook) and the pod's IP (an httpGet hook's host). */
  #kill(pod: V1Pod, state: PodRuntimeState, c: { id: string; name: string }, grace: number, message: string, signal: AbortSignal): Promise<void> {
    const spec = containerSpec(pod, c.name);
    const podIP = state.sandboxes.find((s) => s.phase === 'ready')?.ips[0];
    return killContainer(this.#o.deps, pod, { id: c.id, name: c.name, ...(spec ? { spec } : {}), ...(podIP ? { podIP } : {}) }, grace, message, signal);
  }

  #probeView(pod: V1Pod, state: PodRuntimeState): ProbeView | undefined {
    const previous: V1PodStatus | undefined = this.#o.statuses.statusOf(pod.metadata?.uid ?? '') ?? pod.status;
    return this.#o.probes?.view(pod, previous, state.containers);
  }

  #report(pod: V1Pod, state: PodRuntimeState, waiting: ReadonlyMap<string, WaitingReason>, podIsTerminal = false): V1PodStatus | undefined {
    const uid = pod.metadata?.uid ?? '';
    const previous: V1PodStatus | undefined = this.#o.statuses.statusOf(uid) ?? pod.status;
    try {
      const probes = this.#probeView(pod, state);
      const resize = this.#o.resize;
      const status = computePodStatus(pod, state, {
        ...(probes ? { ready: probes.ready, started: probes.started } : {}),
        now: new Date(this.#now()),
        hostIPs: this.#o.hostIPs(),
        waiting,
        runtimeName: this.#o.runtimeName,
        podIsTerminal,
        ...(previous ? { previous } : {}),
        ...(resize
          ? {
              resizeConditions: resize.conditions(uid),
              containerResources: (name: string, running: boolean) => {
                const spec = anyContainerSpec(pod, name)?.resources;
                const applied = running ? resize.actuated(uid, name) : undefined;
                return { resources: applied ?? spec ?? {}, ...(spec?.requests ? { allocatedRequests: spec.requests as { [k: string]: string } } : {}) };
              },
            }
          : {}),
      });
      this.#o.statuses.set(pod, status);
      return status;
    } catch (err) {
      this.#o.log.error({ pod: podKey(pod), err: TskubeError.from(err).message }, 'computing pod status failed');
      return undefined;
    }
  }
}

/** The container an ephemeral container's targetContainerName names (upstream's getTargetID): its ID, or the name not found. */
function ephemeralTarget(pod: V1Pod, state: PodRuntimeState, name: string): { id?: string; missing?: string } | undefined {
  const target = (pod.spec?.ephemeralContainers ?? []).find((c) => c.name === name)?.targetContainerName;
  if (!target) return undefined;
  const id = latestInstance(state, target)?.id;
  return id ? { id } : { missing: target };
}

/** Running containers the kubelet found rather than started (after a restart) are taken to run with their allocation. */
function adoptActuated(resize: PodResizeManager, pod: V1Pod, state: PodRuntimeState): void {
  const uid = pod.metadata?.uid ?? '';
  for (const c of resizableContainers(pod)) {
    if (latestInstance(state, c.name)?.phase === 'running' && !resize.actuated(uid, c.name)) resize.setActuated(uid, c.name, c.resources ?? {});
  }
}

/** Every running resizable container runs with what is allocated to it. */
function resizeApplied(resize: PodResizeManager, pod: V1Pod, state: PodRuntimeState): boolean {
  const uid = pod.metadata?.uid ?? '';
  return resizableContainers(pod).every((c) => latestInstance(state, c.name)?.phase !== 'running' || sameResources(resize.actuated(uid, c.name), c.resources));
}
