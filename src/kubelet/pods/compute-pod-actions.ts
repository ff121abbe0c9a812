// The pod lifecycle planner: from the pod spec and what the runtime shows, the actions of
// one sync. Pure: the clock, the back-off table, the spec hash and the probe results come
// in as input; the executor carries the actions out and records restarts in the back-off.
//
//   no sandbox / sandbox dead / several ready ──► kill what is left, new sandbox (attempt+1)
//        │                                          (Never, or nothing left to run: no new one)
//        ▼
//   init containers, in spec order, one at a time ──exit≠0──► restart (back-off),
//        │                                                     or pod failed (Never)
//        │   sidecars (restartPolicy Always): start, wait for "started", keep running
//        ▼
//   regular containers: start; exited → restart per restartPolicy (back-off);
//        │              running with a changed spec or failed liveness/startup probe → kill (+ restart)
//        ▼
//   nothing running and nothing to start ──► kill the pod (sidecars and sandbox)
import type { V1Container, V1Pod, V1ResourceRequirements } from '@kubernetes/client-node';
import { containerResize } from '../resize/resize-plan.js';
import type { ContainerBackoff, ContainerToKill, ContainerToStart, PodActions } from './pod-actions.js';
import { noActions } from './pod-actions.js';
import type { ContainerState, PodRuntimeState } from './runtime-state.js';
import { crashBackoffKey, exitedAtMs, type CrashBackoff } from './crash-backoff.js';
import {
  ephemeralContainers,
  hasAnyRegularContainerCreated,
  initContainers,
  isInitContainerFailed,
  isLive,
  isRestartableInitContainer,
  latestInstance,
  nextAttempt,
  podRestartPolicy,
  regularContainers,
  shouldContainerBeRestarted,
  shouldRestartOnFailure,
  succeeded,
} from './container-outcome.js';

export interface PodActionsInput {
  /** ms since the epoch. */
  now: number;
  backoff: CrashBackoff;
  /** The hash the kubelet stores on a container it creates (io.kubernetes.container.hash). */
  specHash: (c: V1Container) => string;
  /** Container IDs (not names) whose liveness probe failed: an old instance's result never hits its successor. */
  livenessFailed?: ReadonlySet<string>;
  /** Container IDs whose startup probe succeeded; only consulted for containers that have one. */
  startupPassed?: ReadonlySet<string>;
  /** Container IDs whose startup probe failed: killed, and restarted as the restart policy says. */
  startupFailed?: ReadonlySet<string>;
  /** The resources applied to each running container (in-place resize); none: no resizing. */
  actuated?: (name: string) => V1ResourceRequirements | undefined;
}

export interface SandboxChange {
  /** A new sandbox is needed. */
  create: boolean;
  /** The attempt of the sandbox to create, or of the current one. */
  attempt: number;
  /** The newest sandbox, when there is one. */
  sandboxId?: string;
  /** Why, for the log and the SandboxChanged event. */
  why: string;
}

/**
 * Whether the pod needs a new sandbox, as upstream decides it: none yet; the newest is not
 * ready; more than one is ready; its network mode no longer matches the spec; or a pod-network
 * sandbox has no IP.
 */
export function sandboxChange(pod: V1Pod, state: PodRuntimeState): SandboxChange {
  const newest = state.sandboxes[0];
  if (!newest) return { create: true, attempt: 0, why: 'no sandbox yet' };
  const next = { create: true, attempt: newest.attempt + 1, sandboxId: newest.id };
  const ready = state.sandboxes.filter((s) => s.phase === 'ready').length;
  if (ready > 1) return { ...next, why: `${ready} sandboxes are ready` };
  if (newest.phase !== 'ready') return { ...next, why: `sandbox ${shortId(newest.id)} is not ready` };
  const hostNetwork = pod.spec?.hostNetwork === true;
  if (newest.hostNetwork !== hostNetwork) return { ...next, why: 'the pod network mode changed' };
  if (!hostNetwork && newest.ips.length === 0) return { ...next, why: `sandbox ${shortId(newest.id)} has no IP` };
  return { create: false, attempt: newest.attempt, sandboxId: newest.id, why: '' };
}

export function computePodActions(pod: V1Pod, state: PodRuntimeState, input: PodActionsInput): PodActions {
  const plan = new Planner(pod, state, input);
  return plan.run();
}

/** One sync's decisions, accumulated while walking the spec. */
class Planner {
  readonly actions: PodActions = noActions();
  readonly #kills = new Map<string, ContainerToKill>();

  constructor(
    readonly pod: V1Pod,
    readonly state: PodRuntimeState,
    readonly input: PodActionsInput,
  ) {}

  run(): PodActions {
    const change = sandboxChange(this.pod, this.state);
    this.actions.sandboxAttempt = change.attempt;
    if (change.create) {
      this.actions.sandboxWhy = change.why;
      this.#planNewSandbox();
    } else {
      this.actions.sandboxId = change.sandboxId;
      this.#planInSandbox();
    }
    this.actions.containersToKill = [...this.#kills.values()];
    return this.actions;
  }

  /** Something still runs that a kill of the pod would stop. */
  get #anythingRuns(): boolean {
    return this.state.sandboxes.some((s) => s.phase === 'ready') || this.state.containers.some((c) => isLive(c) || c.phase === 'created');
  }

  #planNewSandbox(): void {
    const { pod, state } = this;
    // Stopping the old sandboxes also releases the dead one's network (CNI DEL).
    this.actions.killPod = state.sandboxes.length > 0;
    // A pod that does not restart and already ran something is finished: a new sandbox
    // would only run containers that must not run again.
    if (!shouldRestartOnFailure(pod) && state.sandboxes.length > 0 && state.containers.length > 0) {
      this.actions.killPod = this.#anythingRuns;
      return;
    }
    const toStart = regularContainers(pod).filter((c) => !(podRestartPolicy(pod) === 'OnFailure' && succeeded(latestInstance(state, c.name))));
    if (toStart.length === 0 && hasAnyRegularContainerCreated(pod, state)) {
      this.actions.killPod = this.#anythingRuns;
      return;
    }
    this.actions.createSandbox = true;
    const first = initContainers(pod)[0];
    if (first) {
      this.#startNextInit(first);
      return;
    }
    for (const c of toStart) this.#start(c, 'regular');
  }

  #planInSandbox(): void {
    this.#killContainersNotInSpec();
    this.#planEphemeral();
    if (!this.#planInit()) return;
    this.#planRegular();
  }

  /** Ephemeral containers start once each, even before initialization is done, and never again. */
  #planEphemeral(): void {
    if (this.pod.metadata?.deletionTimestamp) return;
    for (const c of ephemeralContainers(this.pod)) {
      if (!latestInstance(this.state, c.name)) this.actions.containersToStart.push({ name: c.name, kind: 'ephemeral', attempt: 0 });
    }
  }

  #killContainersNotInSpec(): void {
    const names = new Set([...initContainers(this.pod), ...regularContainers(this.pod), ...ephemeralContainers(this.pod)].map((c) => c.name));
    for (const c of this.state.containers) {
      if (!names.has(c.name) && (isLive(c) || c.phase === 'created')) {
        this.#kill(c, `Container ${c.name} is not in the pod spec`);
      }
    }
  }

  /**
   * Walks the init containers from the last to the first, as upstream does: completed init
   * containers may have been removed from the runtime, so the newest evidence is the last
   * one that left a trace. Returns whether the pod is initialized.
   */
  #planInit(): boolean {
    const { pod, state, input } = this;
    const inits = initContainers(pod);
    if (inits.length === 0) return true;
    // A regular container that was created or runs proves initialization finished once,
    // even when the init containers' own records are gone.
    let initialized = regularContainers(pod).some((c) => {
      const phase = latestInstance(state, c.name)?.phase;
      return phase === 'created' || phase === 'running';
    });
    let frontierSeen = initialized;
    const restartOnFailure = shouldRestartOnFailure(pod);
    const sidecarRestarts: V1Container[] = [];

    for (let i = inits.length - 1; i >= 0; i--) {
      const c = inits[i]!;
      const sidecar = isRestartableInitContainer(c);
      const latest = latestInstance(state, c.name);
      if (!latest) {
        // Its record is gone but the pod got past it: a sidecar must run again.
        if (frontierSeen && sidecar) sidecarRestarts.push(c);
        continue;
      }
      if (frontierSeen && !sidecar) continue;
      const isLast = i === inits.length - 1;

      switch (latest.phase) {
        case 'created':
          // Created but never started: the start failed; try again.
          if (sidecar) sidecarRestarts.push(c);
          else this.#startNextInit(c);
          break;
        case 'running': {
          if (!sidecar) break; // wait for it to finish
          if (c.startupProbe && !input.startupPassed?.has(latest.id)) {
            if (input.startupFailed?.has(latest.id)) {
              this.#kill(latest, `Init container ${c.name} failed startup probe`, 'startup');
              sidecarRestarts.push(c);
            }
            break; // not started yet
          }
          if (isLast) initialized = true;
          else if (!frontierSeen) this.#startNextInit(inits[i + 1]!);
          const hash = latest.specHash;
          if (hash !== undefined && hash !== input.specHash(c)) {
            this.#kill(latest, `Init container ${c.name} definition changed`);
            sidecarRestarts.push(c);
          } else if (input.livenessFailed?.has(latest.id)) {
            this.#kill(latest, `Init container ${c.name} failed liveness probe`, 'liveness');
            sidecarRestarts.push(c);
          } else if (this.#resize(c, latest) === 'restart') {
            sidecarRestarts.push(c);
          }
          break;
        }
        case 'exited':
          if (sidecar) sidecarRestarts.push(c);
          else if (isInitContainerFailed(latest)) {
            if (!restartOnFailure) return this.#initFailed(c, latest);
            this.#startNextInit(c);
          } else if (isLast) initialized = true;
          else this.#startNextInit(inits[i + 1]!);
          break;
        case 'unknown':
          if (!sidecar && !restartOnFailure) return this.#initFailed(c, latest);
          this.#kill(latest, `Init container is in "unknown" state, try killing it before restart`);
          if (sidecar) sidecarRestarts.push(c);
          else this.#startNextInit(c);
          break;
      }
      frontierSeen = true;
    }
    if (!frontierSeen) this.#startNextInit(inits[0]!);
    // Restarts were found walking backwards; start them in spec order.
    for (const c of sidecarRestarts.reverse()) this.#start(c, 'init');
    return initialized;
  }

  #initFailed(c: V1Container, latest: ContainerState): false {
    this.actions.podFailed = {
      reason: 'InitContainerFailed',
      message:
        latest.phase === 'unknown'
          ? `init container ${c.name} is in an unknown state and restartPolicy is Never`
          : `init container ${c.name} failed (exit code ${latest.exitCode ?? 'unknown'}${latest.reason ? `, ${latest.reason}` : ''}) and restartPolicy is Never`,
    };
    this.actions.killPod = this.#anythingRuns;
    this.actions.nextInitContainer = undefined;
    this.actions.containersToStart = [];
    this.actions.backingOff = [];
    this.#kills.clear();
    return false;
  }

  #planRegular(): void {
    const { pod, state, input } = this;
    let keep = 0;
    let regularStarts = 0; // including those backing off: they still want to run
    const restartOnFailure = shouldRestartOnFailure(pod);
    for (const c of regularContainers(pod)) {
      const latest = latestInstance(state, c.name);
      if (latest?.phase !== 'running') {
        if (shouldContainerBeRestarted(c, pod, state)) {
          // An unknown container may still run: stop it so two never run at once.
          if (latest?.phase === 'unknown') this.#kill(latest, `Container is in "unknown" state, try killing it before restart`);
          this.#start(c, 'regular');
          regularStarts++;
        }
        continue;
      }
      let message: string;
      let probe: ContainerToKill['probe'];
      let restart = restartOnFailure;
      const hash = latest.specHash;
      if (hash !== undefined && hash !== input.specHash(c)) {
        message = `Container ${c.name} definition changed`;
        restart = true; // a new spec runs whatever the restart policy
      } else if (input.livenessFailed?.has(latest.id)) {
        message = `Container ${c.name} failed liveness probe`;
        probe = 'liveness';
      } else if (input.startupFailed?.has(latest.id)) {
        message = `Container ${c.name} failed startup probe`;
        probe = 'startup';
      } else if (this.#resize(c, latest) === 'restart') {
        this.#start(c, 'regular');
        regularStarts++;
        continue;
      } else {
        keep++;
        continue;
      }
      if (restart && !pod.metadata?.deletionTimestamp) {
        this.#kill(latest, `${message}, will be restarted`, probe);
        this.#start(c, 'regular');
        regularStarts++;
      } else {
        this.#kill(latest, message, probe);
      }
    }
    if (keep === 0 && regularStarts === 0) {
      // Every regular container is done for good: sidecars must not keep the pod alive.
      this.actions.killPod = true;
      this.actions.containersToStart = this.actions.containersToStart.filter((s) => s.kind === 'regular');
      this.actions.backingOff = []; // only sidecars can be backing off here
    }
  }

  /**
   * A running container whose allocated resources differ from what it runs with: updated in
   * place, or killed for a restart when its resizePolicy says so (the caller starts it).
   */
  #resize(c: V1Container, latest: ContainerState): 'none' | 'update' | 'restart' {
    if (!this.input.actuated || this.pod.metadata?.deletionTimestamp) return 'none';
    const action = containerResize(c, c.resources, this.input.actuated(c.name));
    if (action === 'update') this.actions.containersToResize.push({ id: latest.id, name: c.name });
    if (action === 'restart') this.#kill(latest, `Container ${c.name} resize requires restart`);
    return action;
  }

  #startNextInit(c: V1Container): void {
    const start = this.#gate(c, 'init');
    if (start) this.actions.nextInitContainer = start;
  }

  #start(c: V1Container, kind: ContainerToStart['kind']): void {
    const start = this.#gate(c, kind);
    if (start) this.actions.containersToStart.push(start);
  }

  /** The start, or nothing when the container is in crash-loop back-off (then noted in backingOff). */
  #gate(c: V1Container, kind: ContainerToStart['kind']): ContainerToStart | undefined {
    const { state, input } = this;
    const finishedAt = exitedAtMs(state, c.name);
    if (finishedAt !== undefined) {
      const key = crashBackoffKey(state.uid, c);
      if (input.backoff.isInBackoffSince(key, finishedAt, input.now)) {
        const b: ContainerBackoff = { name: c.name, retryAt: input.backoff.retryAt(key, finishedAt) ?? input.now, delayMs: input.backoff.delayMs(key) };
        this.actions.backingOff.push(b);
        return undefined;
      }
    }
    return { name: c.name, kind, attempt: nextAttempt(state, c.name) };
  }

  #kill(c: ContainerState, message: string, probe?: ContainerToKill['probe']): void {
    this.#kills.set(c.id, { id: c.id, name: c.name, message, ...(probe ? { probe } : {}) });
  }
}

function shortId(id: string): string {
  return id.slice(0, 13);
}
