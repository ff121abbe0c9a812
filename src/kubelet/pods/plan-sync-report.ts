// From what a pod sync decided and did (its step results) to what the kubelet says about
// it: the events, the waiting reason of each container that does not run, and when the
// sync must come back even if nothing changes (a back-off ends). Pure: the clock is an input.
import type { V1Pod } from '@kubernetes/client-node';
import { crashLoopEventMessage, crashLoopMessage } from './crash-backoff.js';
import type { PodActions } from './pod-actions.js';
import type { PodRuntimeState } from './runtime-state.js';
import type { StepResult } from './sync-steps.js';
import type { WaitingReason } from './waiting-reason.js';

export interface PlannedEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface StepReport {
  events: PlannedEvent[];
  /** One line for the kubelet's log, where the step says more than its events. */
  log?: { level: 'info' | 'warn'; message: string; fields: Record<string, unknown> };
  waiting?: { container: string } & WaitingReason;
  /** Come back at this time (ms since the epoch). */
  requeueAt?: number;
  /** The pod has finished for good: the pod worker goes on to terminate it. */
  terminal?: true;
}

/** A container that could not start for a reason other than an image back-off is tried again after this. */
export const startRetryMs = 10_000;
/** A pod whose volumes are not ready tries again after this (sooner when an object it waits for changes). */
export const mountRetryMs = 2_000;
/** Slack after a back-off ends, so the retry finds it over. */
const requeueSlackMs = 100;

/** The steps the plan itself settles, before anything is tried: containers held back, a sandbox replaced, a failed pod. */
export function decidedSteps(actions: PodActions, state: PodRuntimeState): StepResult[] {
  const steps: StepResult[] = actions.backingOff.map((b) => ({ step: 'wait-backoff', container: b.name, retryAt: b.retryAt, delayMs: b.delayMs }));
  // Only a replacement is a change: a finished pod's sandbox just stops (upstream says nothing then).
  if (actions.killPod && actions.createSandbox && state.sandboxes.length > 0) steps.push({ step: 'replace-sandbox', why: actions.sandboxWhy ?? '' });
  if (actions.podFailed) steps.push({ step: 'pod-failed', ...actions.podFailed });
  return steps;
}

/** What one step result means for the pod's events, waiting reasons and requeue. */
export function reportStep(pod: V1Pod, result: StepResult, now: number): StepReport {
  switch (result.step) {
    case 'wait-backoff': {
      // Upstream's words first (tools match on them), then when the restart will come.
      const at = new Date(result.retryAt).toISOString().replace(/\.\d+Z$/, 'Z');
      return {
        events: [{ type: 'Warning', reason: 'BackOff', message: crashLoopEventMessage(pod, result.container) }],
        waiting: {
          container: result.container,
          reason: 'CrashLoopBackOff',
          message: `${crashLoopMessage(pod, result.container, result.delayMs)}; next restart at ${at}`,
        },
        requeueAt: result.retryAt,
      };
    }
    case 'replace-sandbox':
      return {
        events: [{ type: 'Normal', reason: 'SandboxChanged', message: 'Pod sandbox changed, it will be killed and re-created.' }],
        log: { level: 'info', message: 'replacing the pod sandbox', fields: { why: result.why } },
      };
    case 'pod-failed':
      return { events: [], log: { level: 'info', message: result.message, fields: { reason: result.reason } }, terminal: true };
    case 'mount-volumes':
      return {
        // Upstream's words: tools and users search for them.
        events: result.failures.map((f) => ({
          type: 'Warning',
          reason: 'FailedMount',
          message: `MountVolume.SetUp failed for volume ${JSON.stringify(f.volume)} : ${f.message}`,
        })),
        ...(result.ready ? {} : { requeueAt: now + mountRetryMs }),
      };
    case 'start-container': {
      const o = result.outcome;
      if (o.ok) return { events: [] };
      return {
        events: [],
        log: { level: 'warn', message: o.message, fields: { container: result.container, reason: o.reason } },
        waiting: { container: result.container, reason: o.reason, message: o.message },
        requeueAt: result.imageRetryAt ?? now + startRetryMs,
      };
    }
  }
}

/** The waiting reasons (a later step's wins for a container), the requeue delay as of `now`, and whether the pod is done. */
export function foldReports(reports: readonly StepReport[], now: number): { waiting: Map<string, WaitingReason>; requeueAfterMs?: number; terminal: boolean } {
  const waiting = new Map<string, WaitingReason>();
  for (const r of reports) if (r.waiting) waiting.set(r.waiting.container, { reason: r.waiting.reason, message: r.waiting.message });
  const at = reports.flatMap((r) => (r.requeueAt === undefined ? [] : [r.requeueAt]));
  const terminal = reports.some((r) => r.terminal);
  if (at.length === 0) return { waiting, terminal };
  return { waiting, requeueAfterMs: Math.max(0, Math.min(...at) - now) + requeueSlackMs, terminal };
}
