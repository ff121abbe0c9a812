// The probe worker's decisions (worker-step.ts) and the planners' view of probe results
// (probe-view.ts): pure functions, checked against upstream's rules.
import type { V1ContainerStatus, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { probeEvent } from '../../src/probes/probe-outcome.js';
import { probeView } from '../../src/probes/probe-view.js';
import { initialWorkerState, planTick, recordResult, type TickInput, type WorkerState } from '../../src/probes/worker-step.js';

const T0 = Date.parse('2026-01-01T00:10:00Z');

function running(id: string, startedAt: number, extra: Partial<V1ContainerStatus> = {}): V1ContainerStatus {
  return {
    name: 'app',
    image: 'x',
    imageID: '',
    ready: false,
    restartCount: 0,
    containerID: `containerd://${id}`,
    state: { running: { startedAt: new Date(startedAt) } },
    ...extra,
  };
}

function input(status: V1PodStatus | undefined, extra: Partial<TickInput> = {}): TickInput {
  return {
    type: 'Readiness',
    containerName: 'app',
    sidecar: false,
    restartPolicy: 'Always',
    deletionRequested: false,
    initialDelaySeconds: 0,
    status,
    now: T0,
    proberStartedAt: T0 - 60_000,
    ...extra,
  };
}

const pending: V1PodStatus = {
  phase: 'Pending',
  containerStatuses: [{ name: 'app', image: 'x', imageID: '', ready: false, restartCount: 0, state: { waiting: {} } }],
};

describe('planTick', () => {
  it('waits while the pod has no status or the container has no ID yet', () => {
    expect(planTick(initialWorkerState(), input(undefined)).next).toBe('wait');
    expect(planTick(initialWorkerState(), input(pending))).toEqual({ state: initialWorkerState(), ops: [], next: 'wait' });
  });

  it('stops once the pod has finished', () => {
    expect(planTick(initialWorkerState(), input({ phase: 'Succeeded' })).next).toBe('stop');
    expect(planTick(initialWorkerState(), input({ phase: 'Failed' })).next).toBe('stop');
  });

  it.each([
    ['Readiness', 'failure'],
    ['Liveness', 'success'],
    ['Startup', 'unknown'],
  ] as const)('a new container starts the %s result at %s, then probes', (type, initial) => {
    const status = { phase: 'Running', containerStatuses: [running('c1', T0 - 5000, { started: type !== 'Startup' })] };
    const p = planTick(initialWorkerState(), input(status, { type }));
    expect(p.ops).toEqual([{ op: 'set', id: 'c1', result: initial }]);
    expect(p.state.containerId).toBe('c1');
    expect(p.next).toBe('probe');
  });

  it('a restarted container drops the old instance result and the counts: nothing leaks across restarts', () => {
    const prev: WorkerState = { containerId: 'c1', lastResult: 'failure', resultRun: 2, onHold: true };
    const p = planTick(prev, input({ phase: 'Running', containerStatuses: [running('c2', T0 - 1000, { started: true })] }, { type: 'Liveness' }));
    expect(p.ops).toEqual([
      { op: 'remove', id: 'c1' },
      { op: 'set', id: 'c2', result: 'success' },
    ]);
    expect(p.state).toEqual({ containerId: 'c2', resultRun: 0, onHold: false });
    expect(p.next).toBe('probe');
  });

  it('keeps a container that ran before a kubelet restart without a fresh initial result (so a Ready pod stays Ready until probed)', () => {
    const status = { phase: 'Running', containerStatuses: [running('c1', T0 - 3_600_000, { started: true })] };
    const p = planTick(initialWorkerState(), input(status, { proberStartedAt: T0 - 1000 }));
    expect(p.ops).toEqual([]);
    expect(p.next).toBe('probe');
  });

  it('a started sidecar that survived a kubelet restart keeps its startup success', () => {
    const status = { phase: 'Running', initContainerStatuses: [running('s1', T0 - 3_600_000, { started: true })] };
    const p = planTick(initialWorkerState(), input(status, { type: 'Startup', sidecar: true, proberStartedAt: T0 - 1000 }));
    expect(p.ops).toEqual([{ op: 'set', id: 's1', result: 'success' }]);
    expect(p.next).toBe('wait');
  });

  it('holds after a decision until the next instance', () => {
    const status = { phase: 'Running', containerStatuses: [running('c1', T0 - 1000, { started: true })] };
    expect(planTick({ containerId: 'c1', resultRun: 0, onHold: true }, input(status)).next).toBe('wait');
  });

  it('a container that is not running fails; the worker stops when it will not run again', () => {
    const exited = (exitCode: number): V1PodStatus => ({
      phase: 'Running',
      containerStatuses: [{ ...running('c1', T0), state: { terminated: { exitCode } } }],
    });
    const prev: WorkerState = { containerId: 'c1', resultRun: 0, onHold: false };
    expect(planTick(prev, input(exited(1)))).toMatchObject({ ops: [{ op: 'set', id: 'c1', result: 'failure' }], next: 'wait' });
    expect(planTick(prev, input(exited(1), { restartPolicy: 'Never' })).next).toBe('stop');
    expect(planTick(prev, input(exited(0), { restartPolicy: 'OnFailure' })).next).toBe('stop');
    expect(planTick(prev, input(exited(1), { restartPolicy: 'OnFailure' })).next).toBe('wait');
    expect(planTick(prev, input(exited(0), { restartPolicy: 'Never', sidecar: true })).next).toBe('wait');
  });

  it('a pod being deleted: liveness and startup pass and stop; readiness goes on', () => {
    const status = { phase: 'Running', containerStatuses: [running('c1', T0 - 1000, { started: true })] };
    const prev: WorkerState = { containerId: 'c1', resultRun: 0, onHold: false };
    expect(planTick(prev, input(status, { type: 'Liveness', deletionRequested: true }))).toMatchObject({
      ops: [{ op: 'set', id: 'c1', result: 'success' }],
      next: 'stop',
    });
    expect(planTick(prev, input(status, { type: 'Readiness', deletionRequested: true })).next).toBe('probe');
  });

  it('waits out initialDelaySeconds, counted from the container start', () => {
    const status = { phase: 'Running', containerStatuses: [running('c1', T0 - 9_500, { started: true })] };
    const prev: WorkerState = { containerId: 'c1', resultRun: 0, onHold: false };
    expect(planTick(prev, input(status, { initialDelaySeconds: 10 })).next).toBe('wait');
    expect(planTick(prev, input(status, { initialDelaySeconds: 10, now: T0 + 500 })).next).toBe('probe');
  });

  it('the startup gate: startup probes until started, the others only after', () => {
    const prev: WorkerState = { containerId: 'c1', resultRun: 0, onHold: false };
    const notStarted = { phase: 'Running', containerStatuses: [running('c1', T0 - 1000, { started: false })] };
    const started = { phase: 'Running', containerStatuses: [running('c1', T0 - 1000, { started: true })] };
    expect(planTick(prev, input(notStarted, { type: 'Startup' })).next).toBe('probe');
    expect(planTick(prev, input(notStarted, { type: 'Liveness' })).next).toBe('wait');
    expect(planTick(prev, input(notStarted, { type: 'Readiness' })).next).toBe('wait');
    expect(planTick(prev, input(started, { type: 'Startup' })).next).toBe('wait');
    expect(planTick(prev, input(started, { type: 'Liveness' })).next).toBe('probe');
  });
});

describe('recordResult', () => {
  const th = { success: 2, failure: 3 };
  const run = (type: 'Liveness' | 'Readiness' | 'Startup', results: ('success' | 'failure')[], t = th) => {
    let state = initialWorkerState();
    const sets: (string | undefined)[] = [];
    for (const r of results) {
      const out = recordResult(state, type, r, t);
      state = out.state;
      sets.push(out.set);
    }
    return { state, sets };
  };

  it('sets a result only after threshold equal results in a row', () => {
    expect(run('Readiness', ['failure', 'failure', 'success', 'failure', 'failure', 'failure']).sets).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      'failure',
    ]);
    expect(run('Readiness', ['success', 'success', 'success']).sets).toEqual([undefined, 'success', 'success']);
  });

  it('a liveness failure at the threshold, and any startup decision, put the worker on hold', () => {
    expect(run('Liveness', ['failure', 'failure', 'failure']).state).toMatchObject({ onHold: true, resultRun: 0 });
    expect(run('Startup', ['success'], { success: 1, failure: 3 }).state.onHold).toBe(true);
    expect(run('Readiness', ['failure', 'failure', 'failure']).state.onHold).toBe(false);
  });
});

describe('probeEvent', () => {
  it('words the Unhealthy and ProbeWarning events as upstream', () => {
    expect(probeEvent('Readiness', { result: 'failure', output: 'HTTP probe failed with statuscode: 500' })).toEqual({
      reason: 'Unhealthy',
      message: 'Readiness probe failed: HTTP probe failed with statuscode: 500',
    });
    expect(probeEvent('Liveness', { result: 'unknown', output: '', error: 'rpc error: code = Unknown desc = no such file' })).toEqual({
      reason: 'Unhealthy',
      message: 'Liveness probe errored and resulted in unknown state: rpc error: code = Unknown desc = no such file',
    });
    expect(probeEvent('Startup', { result: 'warning', output: 'Probe terminated redirects, Response body: moved' })).toEqual({
      reason: 'ProbeWarning',
      message: 'Startup probe warning: Probe terminated redirects, Response body: moved',
    });
    expect(probeEvent('Startup', { result: 'success', output: 'ok' })).toBeUndefined();
  });
});

describe('probeView', () => {
  const probe = { exec: { command: ['true'] } };
  const pod = (ready: boolean): V1Pod => ({
    metadata: { uid: 'u1' },
    spec: { containers: [{ name: 'app', readinessProbe: probe, startupProbe: probe, livenessProbe: probe }, { name: 'plain' }] },
    status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  });
  const ns = (ms: number) => BigInt(ms) * 1_000_000n;
  const containers = [
    { id: 'a1', name: 'app', phase: 'running' as const, startedAt: ns(T0 - 1000) },
    { id: 'p1', name: 'plain', phase: 'running' as const, startedAt: ns(T0 - 1000) },
    { id: 'old', name: 'app', phase: 'exited' as const, startedAt: ns(T0 - 99_000) },
  ];
  const all = () => true;

  it('turns results into the sets the planners read; containers without a probe are ready and started', () => {
    const results: Record<string, string> = { 'Readiness/a1': 'success', 'Startup/a1': 'success', 'Liveness/a1': 'failure', 'Liveness/old': 'failure' };
    const v = probeView({
      pod: pod(false),
      previous: undefined,
      containers,
      result: (t, id) => results[`${t}/${id}`] as never,
      hasWorker: (_t, name) => name === 'app',
      proberStartedAt: T0 - 60_000,
    });
    expect([...v.ready].sort()).toEqual(['a1', 'p1']);
    expect([...v.started].sort()).toEqual(['a1', 'p1']);
    expect([...v.livenessFailed]).toEqual(['a1']);
    expect([...v.startupFailed]).toEqual([]);
  });

  it('a container with a startup probe that has no result yet has not started, unless it had before (same instance)', () => {
    const base = { pod: pod(false), containers, result: () => undefined, hasWorker: all, proberStartedAt: T0 - 60_000 };
    expect(probeView({ ...base, previous: undefined }).started.has('a1')).toBe(false);
    const previous: V1PodStatus = { containerStatuses: [running('a1', T0 - 1000, { started: true })] };
    expect(probeView({ ...base, previous }).started.has('a1')).toBe(true);
    const otherInstance: V1PodStatus = { containerStatuses: [running('a0', T0 - 1000, { started: true })] };
    expect(probeView({ ...base, previous: otherInstance }).started.has('a1')).toBe(false);
  });

  it('after a kubelet restart a container keeps the readiness its pod had until probed', () => {
    const base = { previous: undefined, containers, result: () => undefined, hasWorker: all, proberStartedAt: T0 + 60_000 };
    expect(probeView({ ...base, pod: pod(true) }).ready.has('a1')).toBe(true);
    expect(probeView({ ...base, pod: pod(false) }).ready.has('a1')).toBe(false);
    expect(probeView({ ...base, pod: pod(true), result: (t) => (t === 'Readiness' ? 'failure' : undefined) }).ready.has('a1')).toBe(false);
  });
});
