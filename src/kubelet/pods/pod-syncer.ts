/*
 * One sync of one pod: observe (the runtime cache), plan (computePodActions), act (the
 * executor steps in runtime/), report (computePodStatus → status manager). Termination
 * follows planTermination's ordered steps and says which step it waits on.
 */
import type { V1Container, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { TskubeError } from '../../common/errors.js';
import { killContainer } from '../runtime/container-kill.js';
import { startContainer } from '../runtime/container-start.js';
import type { ExecutorDeps } from '../runtime/executor-deps.js';
import type { RuntimeCache } from '../runtime/runtime-cache.js';
import { runSandbox, type RunningSandbox } from '../runtime/sandbox-run.js';
import type { StatusManager } from '../status/status-manager.js';
import { computePodActions } from './compute-pod-actions.js';
import { computePodStatus } from './compute-pod-status.js';
import { crashLoopEventMessage, crashLoopMessage, recordRestarts, type CrashBackoff } from './crash-backoff.js';
import { minimumStopGraceSeconds, planTermination } from './plan-termination.js';
import type { SyncResult } from './pod-workers.js';
import { emptyRuntimeState, type PodRuntimeState } from './runtime-state.js';

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
}

type Waiting = { reason: string; message: string };

/** Waits whose end the pod worker should come back for (ms). */
const configErrorRetryMs = 10_000;

function podKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`;
}

function specOf(pod: V1Pod, name: string): V1Container | undefined {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === name);
}

export class PodSyncer {
  readonly #o: PodSyncerOptions;
  readonly #now: () => number;

  constructor(options: PodSyncerOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  async #state(pod: V1Pod, newerThan = 0): Promise<PodRuntimeState> {
    const uid = pod.metadata?.uid ?? '';
    return (await this.#o.cache.pod(uid, newerThan)) ?? emptyRuntimeState(uid, pod.metadata?.name ?? '', pod.metadata?.namespace ?? 'default');
  }

  async sync(pod: V1Pod, signal: AbortSignal): Promise<SyncResult> {
    const { deps, backoff, log } = this.#o;
    await this.#o.prefetch?.(pod);
    const now = this.#now();
    const state = await this.#state(pod);
    const actions = computePodActions(pod, state, { now, backoff, specHash: this.#o.specHash });
    const waiting = new Map<string, Waiting>();
    const requeueAt: number[] = [];
    for (const b of actions.backingOff) {
      // Upstream's words first (tools match on them), then when the restart will come.
      const at = new Date(b.retryAt).toISOString().replace(/\.\d+Z$/, 'Z');
      waiting.set(b.name, { reason: 'CrashLoopBackOff', message: `${crashLoopMessage(pod, b.name, b.delayMs)}; next restart at ${at}` });
      deps.events.warning(pod, 'BackOff', crashLoopEventMessage(pod, b.name));
      requeueAt.push(b.retryAt);
    }
    const grace = pod.spec?.terminationGracePeriodSeconds ?? 30;
    let acted = false;

    if (actions.killPod) {
      // Only a replacement is a change; a finished pod's sandbox just stops (upstream says nothing then).
      if (actions.createSandbox && state.sandboxes.length > 0)
        deps.events.normal(pod, 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
      await this.#stopEverything(pod, state, grace, signal);
      acted = true;
    }
    for (const k of actions.containersToKill) {
      await killContainer(deps, pod, { id: k.id, name: k.name, ...this.#specAndIp(pod, state, k.name) }, grace, k.message, signal);
      acted = true;
    }

    let sandbox: RunningSandbox | undefined;
    if (actions.createSandbox) {
      sandbox = await runSandbox(deps, pod, actions.sandboxAttempt, signal);
      log.info({ pod: podKey(pod), sandbox: sandbox.id.slice(0, 13), ips: sandbox.ips }, 'sandbox created');
      acted = true;
    } else if (actions.sandboxId) {
      const current = state.sandboxes.find((s) => s.id === actions.sandboxId);
      sandbox = { id: actions.sandboxId, config: deps.builders.sandbox(pod, current?.attempt ?? 0), ips: current?.ips ?? [] };
    }

    const starts = [...(actions.nextInitContainer ? [actions.nextInitContainer] : []), ...actions.containersToStart];
    if (sandbox && starts.length > 0) {
      recordRestarts(backoff, state, starts, now);
      for (const s of starts) {
        const spec = specOf(pod, s.name);
        if (!spec) continue;
        const outcome = await startContainer(deps, pod, spec, s.attempt, sandbox, signal);
        acted = true;
        if (outcome.ok) continue;
        waiting.set(s.name, outcome);
        log.warn({ pod: podKey(pod), container: s.name, reason: outcome.reason }, outcome.message);
        const imageRetry = deps.images.retryAt(pod.metadata?.uid ?? '', spec.image ?? '');
        requeueAt.push(imageRetry ?? now + configErrorRetryMs);
      }
    }

    const fresh = acted ? await this.#state(pod, this.#now()) : state;
    this.#report(pod, fresh, waiting);
    if (requeueAt.length === 0) return {};
    return { requeueAfterMs: Math.max(0, Math.min(...requeueAt) - this.#now()) + 100 };
  }

  /**
   * Stops the pod's containers in planTermination's order within the grace period, then
   * its sandboxes. Each step that outlives its grace period is logged and evented, so a
   * pod stuck terminating says what it waits on.
   */
  async terminate(pod: V1Pod, gracePeriodSeconds: number, signal: AbortSignal): Promise<void> {
    const { deps, log } = this.#o;
    const state = await this.#state(pod, this.#now());
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
          await Promise.all(
            step.containers.map((c) =>
              killContainer(deps, pod, { id: c.id, name: c.name, ...this.#specAndIp(pod, state, c.name) }, grace, `Stopping container ${c.name}`, signal),
            ),
          );
        }
      } finally {
        clearTimeout(stuck);
      }
    }
    this.#report(pod, await this.#state(pod, this.#now()), new Map(), true);
  }

  /** After termination: remove what the runtime keeps of the pod. */
  async removeFromRuntime(uid: string): Promise<void> {
    const state = await this.#o.cache.pod(uid, this.#now());
    for (const s of state?.sandboxes ?? []) {
      // RemovePodSandbox removes the sandbox's containers too.
      await this.#o.deps.cri.runtime.call('StopPodSandbox', { podSandboxId: s.id }, { timeoutMs: 60_000 }).catch(() => undefined);
      await this.#o.deps.cri.runtime.call('RemovePodSandbox', { podSandboxId: s.id }, { timeoutMs: 60_000 });
    }
  }

  async #stopEverything(pod: V1Pod, state: PodRuntimeState, grace: number, signal: AbortSignal): Promise<void> {
    const running = state.containers.filter((c) => c.phase === 'running' || c.phase === 'unknown');
    await Promise.all(
      running.map((c) =>
        killContainer(this.#o.deps, pod, { id: c.id, name: c.name, ...this.#specAndIp(pod, state, c.name) }, grace, `Stopping container ${c.name}`, signal),
      ),
    );
    for (const s of state.sandboxes.filter((x) => x.phase === 'ready')) {
      await this.#o.deps.cri.runtime.call('StopPodSandbox', { podSandboxId: s.id }, { signal, timeoutMs: 60_000 });
    }
  }

  #specAndIp(pod: V1Pod, state: PodRuntimeState, name: string): { spec?: V1Container; podIP?: string } {
    const spec = specOf(pod, name);
    const podIP = state.sandboxes.find((s) => s.phase === 'ready')?.ips[0];
    return { ...(spec ? { spec } : {}), ...(podIP ? { podIP } : {}) };
  }

  #report(pod: V1Pod, state: PodRuntimeState, waiting: ReadonlyMap<string, Waiting>, podIsTerminal = false): void {
    const uid = pod.metadata?.uid ?? '';
    const previous: V1PodStatus | undefined = this.#o.statuses.statusOf(uid) ?? pod.status;
    try {
      const status = computePodStatus(pod, state, {
        now: new Date(this.#now()),
        hostIPs: this.#o.hostIPs(),
        waiting,
        runtimeName: this.#o.runtimeName,
        podIsTerminal,
        ...(previous ? { previous } : {}),
      });
      this.#o.statuses.set(pod, status);
    } catch (err) {
      this.#o.log.error({ pod: podKey(pod), err: TskubeError.from(err).message }, 'computing pod status failed');
    }
  }
}
