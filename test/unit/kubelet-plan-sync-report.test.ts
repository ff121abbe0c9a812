import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { decidedSteps, foldReports, reportStep, startRetryMs } from '../../src/kubelet/pods/plan-sync-report.js';
import { noActions } from '../../src/kubelet/pods/pod-actions.js';
import type { PodRuntimeState } from '../../src/kubelet/pods/runtime-state.js';

const pod: V1Pod = { metadata: { name: 'web', namespace: 'prod', uid: 'u-1' } };
const now = Date.parse('2026-01-01T00:00:00Z');
const withSandbox: PodRuntimeState = {
  uid: 'u-1',
  name: 'web',
  namespace: 'prod',
  sandboxes: [{ id: 's1', attempt: 0, phase: 'not-ready', createdAt: 1n, ips: [], hostNetwork: false }],
  containers: [],
};
const empty: PodRuntimeState = { ...withSandbox, sandboxes: [] };

describe('decidedSteps', () => {
  it('holds back containers in back-off, then replaces a sandbox that existed, and fails the pod the planner failed', () => {
    const actions = {
      ...noActions(),
      killPod: true,
      createSandbox: true,
      sandboxWhy: 'sandbox s1 is not ready',
      backingOff: [{ name: 'app', retryAt: now + 20_000, delayMs: 20_000 }],
      podFailed: { reason: 'InitContainerFailed', message: 'init container i failed (exit code 1) and restartPolicy is Never' },
    };
    expect(decidedSteps(actions, withSandbox)).toEqual([
      { step: 'wait-backoff', container: 'app', retryAt: now + 20_000, delayMs: 20_000 },
      { step: 'replace-sandbox', why: 'sandbox s1 is not ready' },
      { step: 'pod-failed', reason: 'InitContainerFailed', message: 'init container i failed (exit code 1) and restartPolicy is Never' },
    ]);
  });

  it('calls neither a first sandbox nor the stop of a finished pod a replacement', () => {
    expect(decidedSteps({ ...noActions(), createSandbox: true, sandboxWhy: 'no sandbox yet' }, empty)).toEqual([]);
    expect(decidedSteps({ ...noActions(), killPod: true }, withSandbox)).toEqual([]);
  });
});

describe('reportStep', () => {
  it('a crash-loop back-off: upstream event and waiting text, and a requeue when it ends', () => {
    expect(reportStep(pod, { step: 'wait-backoff', container: 'app', retryAt: now + 40_000, delayMs: 40_000 }, now)).toEqual({
      events: [{ type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container app in pod web_prod(u-1)' }],
      waiting: {
        container: 'app',
        reason: 'CrashLoopBackOff',
        message: 'back-off 40s restarting failed container=app pod=web_prod(u-1); next restart at 2026-01-01T00:00:40Z',
      },
      requeueAt: now + 40_000,
    });
  });

  it('a sandbox replacement: upstream SandboxChanged event; why goes to the log', () => {
    expect(reportStep(pod, { step: 'replace-sandbox', why: 'the pod network mode changed' }, now)).toEqual({
      events: [{ type: 'Normal', reason: 'SandboxChanged', message: 'Pod sandbox changed, it will be killed and re-created.' }],
      log: { level: 'info', message: 'replacing the pod sandbox', fields: { why: 'the pod network mode changed' } },
    });
  });

  it('a failed start waits with its reason, and comes back when the image back-off ends or after the start retry', () => {
    const outcome = { ok: false as const, reason: 'ImagePullBackOff' as const, message: 'Back-off pulling image "x"' };
    expect(reportStep(pod, { step: 'start-container', container: 'app', outcome, imageRetryAt: now + 5000 }, now)).toMatchObject({
      waiting: { container: 'app', reason: 'ImagePullBackOff', message: 'Back-off pulling image "x"' },
      requeueAt: now + 5000,
    });
    const config = { ok: false as const, reason: 'CreateContainerConfigError' as const, message: 'configmap "c" not found' };
    expect(reportStep(pod, { step: 'start-container', container: 'app', outcome: config }, now).requeueAt).toBe(now + startRetryMs);
    expect(reportStep(pod, { step: 'start-container', container: 'app', outcome: { ok: true, containerId: 'c1' } }, now)).toEqual({ events: [] });
  });

  it('a failed pod is terminal', () => {
    expect(reportStep(pod, { step: 'pod-failed', reason: 'InitContainerFailed', message: 'm' }, now).terminal).toBe(true);
  });
});

describe('foldReports', () => {
  it('keeps the last waiting reason per container, requeues at the earliest time plus slack, and says whether the pod is done', () => {
    const folded = foldReports(
      [
        { events: [], waiting: { container: 'app', reason: 'CrashLoopBackOff', message: 'a' }, requeueAt: now + 30_000 },
        { events: [], waiting: { container: 'app', reason: 'RunContainerError', message: 'b' }, requeueAt: now + 10_000 },
        { events: [], waiting: { container: 'side', reason: 'ErrImagePull', message: 'c' } },
      ],
      now + 2000,
    );
    expect(folded).toEqual({
      waiting: new Map([
        ['app', { reason: 'RunContainerError', message: 'b' }],
        ['side', { reason: 'ErrImagePull', message: 'c' }],
      ]),
      requeueAfterMs: 8_100,
      terminal: false,
    });
    expect(foldReports([{ events: [], terminal: true }], now)).toEqual({ waiting: new Map(), terminal: true });
  });
});
