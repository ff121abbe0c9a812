// Probes inside the kubelet's pod machinery (PodLifecycle on the in-memory runtime, fake
// time): exec probes through ExecSync decide readiness, restarts and the startup gate, the
// pod status and events say so as upstream's do.
import type { V1Pod } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InMemoryRuntime } from '../support/in-memory-runtime.js';
import { container, type PodHarness, startPodHarness, testImage, testPod, tick, tickUntil, useFakeClock } from '../support/pod-lifecycle-harness.js';

const conditionOf = (h: PodHarness, pod: V1Pod, type: string) => h.status(pod)?.conditions?.find((c) => c.type === type)?.status;
const appStatus = (h: PodHarness, pod: V1Pod) => h.status(pod)?.containerStatuses?.find((c) => c.name === 'app');

describe('probes in the pod lifecycle', () => {
  let rt: InMemoryRuntime;
  let h: PodHarness;
  /** What the container's probe commands find, by command word. */
  let healthy: Record<string, boolean>;
  beforeEach(() => {
    useFakeClock();
    healthy = {};
    rt = new InMemoryRuntime({ images: [{ ref: testImage }] });
    rt.program('app', {
      exec: (cmd) => (healthy[cmd[0] ?? ''] ? { exitCode: 0, stdout: 'ok' } : { exitCode: 1, stderr: `${cmd[0]}: not yet` }),
    });
    h = startPodHarness({ runtime: rt });
  });
  afterEach(async () => {
    await h.destroy();
    vi.useRealTimers();
  });

  it('readiness: not Ready until the probe passes, not Ready again when it fails', async () => {
    const pod = testPod('web', { containers: [container('app', { readinessProbe: { exec: { command: ['ready'] }, periodSeconds: 1, failureThreshold: 1 } })] });
    h.setPods([pod]);
    await tickUntil(() => h.status(pod)?.phase === 'Running');
    await tick(3000);
    expect(appStatus(h, pod)).toMatchObject({ ready: false, started: true });
    expect(conditionOf(h, pod, 'Ready')).toBe('False');
    expect(h.eventsOf(pod)).toContain('Unhealthy: Readiness probe failed: ready: not yet');
    healthy['ready'] = true;
    await tickUntil(() => conditionOf(h, pod, 'Ready') === 'True', 5000);
    expect(conditionOf(h, pod, 'ContainersReady')).toBe('True');
    healthy['ready'] = false;
    await tickUntil(() => conditionOf(h, pod, 'Ready') === 'False', 5000);
    expect(h.status(pod)?.conditions?.find((c) => c.type === 'ContainersReady')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [app]',
    });
    // Readiness never restarts anything.
    expect(rt.containersOf('web', 'app')).toHaveLength(1);
  });

  it('liveness: a failing probe restarts the container with the probe-level grace period, and the events say why', async () => {
    healthy['alive'] = true;
    const pod = testPod('web', {
      terminationGracePeriodSeconds: 30,
      containers: [
        container('app', { livenessProbe: { exec: { command: ['alive'] }, periodSeconds: 1, failureThreshold: 2, terminationGracePeriodSeconds: 5 } }),
      ],
    });
    h.setPods([pod]);
    await tickUntil(() => h.status(pod)?.phase === 'Running');
    await tick(3000);
    expect(appStatus(h, pod)?.restartCount).toBe(0);
    healthy['alive'] = false;
    await tickUntil(() => appStatus(h, pod)?.restartCount === 1 && appStatus(h, pod)?.state?.running !== undefined, 15_000);
    const events = h.eventsOf(pod);
    expect(events.filter((e) => e === 'Unhealthy: Liveness probe failed: alive: not yet')).toHaveLength(2);
    expect(events).toContain('Killing: Container app failed liveness probe, will be restarted');
    const stop = rt.calls.find((c) => c.method === 'StopContainer')?.request as { timeout: string } | undefined;
    expect(stop?.timeout).toBe('5');
  });

  it('startup: a slow starter is not killed by its liveness probe, which only begins once the startup probe passed', async () => {
    const pod = testPod('slow', {
      containers: [
        container('app', {
          startupProbe: { exec: { command: ['started'] }, periodSeconds: 1, failureThreshold: 30 },
          livenessProbe: { exec: { command: ['alive'] }, periodSeconds: 1, failureThreshold: 1 },
          readinessProbe: { exec: { command: ['started'] }, periodSeconds: 1 },
        }),
      ],
    });
    h.setPods([pod]);
    await tickUntil(() => h.status(pod)?.phase === 'Running');
    await tick(10_000);
    expect(appStatus(h, pod)).toMatchObject({ started: false, ready: false, restartCount: 0 });
    expect(h.eventsOf(pod).some((e) => e.includes('Liveness'))).toBe(false);
    healthy['started'] = true;
    healthy['alive'] = true;
    await tickUntil(() => appStatus(h, pod)?.ready === true, 5000);
    expect(appStatus(h, pod)).toMatchObject({ started: true, restartCount: 0 });
  });

  it('a startup probe that never passes kills the container at its threshold', async () => {
    const pod = testPod('never', {
      containers: [container('app', { startupProbe: { exec: { command: ['started'] }, periodSeconds: 1, failureThreshold: 3 } })],
    });
    h.setPods([pod]);
    await tickUntil(() => (appStatus(h, pod)?.restartCount ?? 0) >= 1, 20_000);
    expect(h.eventsOf(pod)).toContain('Killing: Container app failed startup probe, will be restarted');
  });

  it('a terminating pod is not killed by its liveness probe', async () => {
    healthy['alive'] = true;
    rt.program('app', { ignoresSigterm: true, exec: (cmd) => (healthy[cmd[0] ?? ''] ? { exitCode: 0 } : { exitCode: 1 }) });
    const pod = testPod('bye', {
      terminationGracePeriodSeconds: 20,
      containers: [container('app', { livenessProbe: { exec: { command: ['alive'] }, periodSeconds: 1, failureThreshold: 1 } })],
    });
    h.setPods([pod]);
    await tickUntil(() => h.status(pod)?.phase === 'Running');
    h.lifecycle.workers.terminate(pod, 20);
    healthy['alive'] = false;
    await tick(10_000);
    expect(h.eventsOf(pod).filter((e) => e.startsWith('Unhealthy') || e.includes('liveness'))).toEqual([]);
    expect(h.lifecycle.prober.workerCount).toBe(0);
    await tickUntil(() => h.lifecycle.workers.phase(pod.metadata?.uid ?? '') === 'terminated', 30_000);
  });

  it('a terminating pod: readiness goes on and its result reaches the status while the containers stop', async () => {
    healthy['ready'] = true;
    rt.program('app', { ignoresSigterm: true, exec: (cmd) => (healthy[cmd[0] ?? ''] ? { exitCode: 0 } : { exitCode: 1, stderr: 'gone' }) });
    const pod = testPod('draining', {
      terminationGracePeriodSeconds: 20,
      containers: [container('app', { readinessProbe: { exec: { command: ['ready'] }, periodSeconds: 1, failureThreshold: 1 } })],
    });
    h.setPods([pod]);
    await tickUntil(() => conditionOf(h, pod, 'Ready') === 'True', 5000);
    h.lifecycle.workers.terminate(pod, 20);
    healthy['ready'] = false;
    // Long before the 20 s grace period ends, the pod says it is not ready, its container still running.
    await tickUntil(() => conditionOf(h, pod, 'Ready') === 'False', 5000);
    expect(h.lifecycle.workers.phase(pod.metadata?.uid ?? '')).toBe('terminating');
    expect(appStatus(h, pod)).toMatchObject({ ready: false, state: { running: expect.anything() } });
    expect(h.eventsOf(pod)).toContain('Unhealthy: Readiness probe failed: gone');
    // Once stopped, the final status stands: no late readiness report brings the running container back.
    await tickUntil(() => h.lifecycle.workers.phase(pod.metadata?.uid ?? '') === 'terminated', 30_000);
    await tick(3000);
    expect(appStatus(h, pod)?.state?.terminated).toBeDefined();
  });
});
