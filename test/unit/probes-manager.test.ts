// The prober manager's scheduling on fake timers: a jittered first run after the kubelet
// starts, one timer per probe, thresholds, initial delay, the startup gate, results reset
// when a container restarts, triggers, and stopping. Probe handlers are a script the test
// writes; the pod status is the one the test says the kubelet computed.
import type { V1ContainerStatus, V1Pod, V1PodStatus, V1Probe } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ProbeOutcome } from '../../src/probes/probe-outcome.js';
import { ProberManager } from '../../src/probes/prober-manager.js';
import type { ProbeTarget } from '../../src/probes/run-probe.js';

interface Call {
  at: number;
  probe: string;
  containerId: string;
}

const T0 = Date.parse('2026-01-01T00:00:00Z');
const probe = (name: string, extra: Partial<V1Probe> = {}): V1Probe => ({ exec: { command: [name] }, periodSeconds: 10, ...extra });

let statuses: Map<string, V1PodStatus>;
let calls: Call[];
let answers: Map<string, () => ProbeOutcome | Promise<ProbeOutcome>>;
let changes: string[];
let events: string[];
let manager: ProberManager;

function startManager(random = 0.5): ProberManager {
  manager = new ProberManager({
    cri: undefined as never,
    statusOf: (uid) => statuses.get(uid),
    onResultChanged: (uid) => changes.push(uid),
    warning: (_pod, fieldPath, reason, message) => events.push(`${fieldPath} ${reason}: ${message}`),
    log: pino({ level: 'silent' }),
    random: () => random,
    run: async (p: V1Probe, t: ProbeTarget) => {
      const name = p.exec?.command?.[0] ?? '';
      calls.push({ at: Date.now() - T0, probe: name, containerId: t.containerId });
      return (answers.get(name) ?? (() => ({ result: 'success', output: '' })))();
    },
  });
  return manager;
}

function pod(uid: string, containers: V1Pod['spec'] extends infer S ? (S extends { containers: infer C } ? C : never) : never): V1Pod {
  return { metadata: { name: uid, namespace: 'default', uid }, spec: { containers } };
}

function runningStatus(id: string, startedAt: number, extra: Partial<V1ContainerStatus> = {}): V1PodStatus {
  return {
    phase: 'Running',
    podIP: '10.88.0.9',
    containerStatuses: [
      {
        name: 'app',
        image: 'x',
        imageID: '',
        ready: false,
        restartCount: 0,
        containerID: `containerd://${id}`,
        state: { running: { startedAt: new Date(startedAt) } },
        ...extra,
      },
    ],
  };
}

const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);

beforeEach(() => {
  vi.useFakeTimers({ now: T0, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  statuses = new Map();
  calls = [];
  answers = new Map();
  changes = [];
  events = [];
});
afterEach(() => {
  manager?.stop();
  vi.useRealTimers();
});

describe('ProberManager scheduling', () => {
  it('right after the kubelet starts, first runs are jittered over a period; later pods probe at once', async () => {
    const m = startManager(0.5);
    statuses.set('a', runningStatus('ca', T0 - 60_000, { started: true }));
    m.addPod(pod('a', [{ name: 'app', image: 'x', readinessProbe: probe('ready-a') }]));
    await advance(4_999);
    expect(calls).toEqual([]);
    await advance(1);
    expect(calls.map((c) => c.at)).toEqual([5_000]);
    await advance(20_000);
    expect(calls.map((c) => c.at)).toEqual([5_000, 15_000, 25_000]);

    // More than a period after the start: no jitter.
    statuses.set('b', runningStatus('cb', Date.now() - 1000, { started: true }));
    m.addPod(pod('b', [{ name: 'app', image: 'x', readinessProbe: probe('ready-b') }]));
    await advance(0);
    expect(calls.filter((c) => c.probe === 'ready-b').map((c) => c.at)).toEqual([25_000]);
  });

  it('keeps one timer per probe and no more, however many ticks pass', async () => {
    const m = startManager(0.1);
    for (const uid of ['a', 'b', 'c']) {
      statuses.set(uid, runningStatus(`c-${uid}`, T0 - 60_000, { started: true }));
      m.addPod(pod(uid, [{ name: 'app', image: 'x', readinessProbe: probe('r', { periodSeconds: 1 }), livenessProbe: probe('l', { periodSeconds: 1 }) }]));
    }
    expect(m.workerCount).toBe(6);
    expect(vi.getTimerCount()).toBe(6);
    await advance(30_000);
    expect(vi.getTimerCount()).toBe(6);
    // Each probe ran once a second: 30 runs each, give or take the first jittered one.
    expect(calls.length).toBeGreaterThanOrEqual(6 * 29);
    expect(calls.length).toBeLessThanOrEqual(6 * 31);
    m.removePod('a');
    expect(vi.getTimerCount()).toBe(4);
    m.stop();
    expect(vi.getTimerCount()).toBe(0);
    expect(m.results.size).toBe(0);
  });

  it('a hanging probe holds up only itself', async () => {
    const m = startManager(0);
    answers.set('hang', () => new Promise(() => undefined));
    statuses.set('a', runningStatus('ca', T0 - 60_000, { started: true }));
    m.addPod(pod('a', [{ name: 'app', image: 'x', readinessProbe: probe('hang', { periodSeconds: 1 }), livenessProbe: probe('fine', { periodSeconds: 1 }) }]));
    await advance(10_000);
    expect(calls.filter((c) => c.probe === 'hang')).toHaveLength(1);
    expect(calls.filter((c) => c.probe === 'fine').length).toBeGreaterThanOrEqual(10);
  });
});

describe('ProberManager results', () => {
  it('readiness starts failed and passes after successThreshold successes; a change is reported once', async () => {
    const m = startManager(0);
    // Started after the kubelet: it begins with readiness failed (one from before a restart would keep its readiness).
    statuses.set('a', runningStatus('ca', T0, { started: true }));
    m.addPod(pod('a', [{ name: 'app', image: 'x', readinessProbe: probe('r', { successThreshold: 2 }) }]));
    await advance(0);
    expect(calls).toHaveLength(1);
    expect(m.results.get('Readiness', 'ca')).toBe('failure');
    await advance(10_000);
    expect(m.results.get('Readiness', 'ca')).toBe('success');
    await advance(30_000);
    expect(changes).toEqual(['a', 'a']);
  });

  it('liveness fails only after failureThreshold failures in a row, with an Unhealthy event for each, then holds', async () => {
    const m = startManager(0);
    let healthy = true;
    answers.set('l', () => (healthy ? { result: 'success', output: '' } : { result: 'failure', output: 'HTTP probe failed with statuscode: 500' }));
    statuses.set('a', runningStatus('ca', T0 - 60_000, { started: true }));
    m.addPod(pod('a', [{ name: 'app', image: 'x', livenessProbe: probe('l', { failureThreshold: 3 }) }]));
    await advance(0);
    healthy = false;
    await advance(20_000);
    expect(m.results.get('Liveness', 'ca')).toBe('success');
    await advance(10_000);
    expect(m.results.get('Liveness', 'ca')).toBe('failure');
    expect(events).toEqual(Array(3).fill('spec.containers{app} Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 500'));
    // On hold: the container is to be restarted, no more probing of this instance.
    await advance(60_000);
    expect(calls).toHaveLength(4);
  });

  it('a restarted container starts from scratch: the old instance result goes, the new one gets the initial result', async () => {
    const m = startManager(0);
    answers.set('l', () => ({ result: 'failure', output: 'down' }));
    statuses.set('a', runningStatus('c1', T0 - 60_000, { started: true }));
    m.addPod(pod('a', [{ name: 'app', image: 'x', livenessProbe: probe('l', { failureThreshold: 1 }) }]));
    await advance(0);
    expect(m.results.get('Liveness', 'c1')).toBe('failure');
    answers.set('l', () => ({ result: 'success', output: '' }));
    statuses.set('a', runningStatus('c2', Date.now(), { started: true, restartCount: 1 }));
    await advance(10_000);
    expect(m.results.get('Liveness', 'c1')).toBeUndefined();
    expect(m.results.get('Liveness', 'c2')).toBe('success');
    expect(calls.map((c) => c.containerId)).toEqual(['c1', 'c2']);
  });

  it('waits out initialDelaySeconds from the container start', async () => {
    const m = startManager(0);
    statuses.set('a', runningStatus('ca', T0 + 60_000, { started: true }));
    await advance(60_000);
    m.addPod(pod('a', [{ name: 'app', image: 'x', readinessProbe: probe('r', { initialDelaySeconds: 25 }) }]));
    await advance(20_000);
    expect(calls).toEqual([]);
    await advance(10_000);
    expect(calls.map((c) => c.at)).toEqual([90_000]);
  });

  it('the startup probe gates the others: liveness and readiness wait until the container has started', async () => {
    const m = startManager(0);
    let up = false;
    answers.set('s', () => (up ? { result: 'success', output: '' } : { result: 'failure', output: 'not yet' }));
    statuses.set('a', runningStatus('ca', T0 - 1000, { started: false }));
    m.addPod(
      pod('a', [{ name: 'app', image: 'x', startupProbe: probe('s', { failureThreshold: 30 }), livenessProbe: probe('l'), readinessProbe: probe('r') }]),
    );
    await advance(40_000);
    expect(new Set(calls.map((c) => c.probe))).toEqual(new Set(['s']));
    expect(m.results.get('Startup', 'ca')).toBe('unknown');
    up = true;
    await advance(10_000);
    expect(m.results.get('Startup', 'ca')).toBe('success');
    // The kubelet now reports the container started; the other probes take over and startup stops probing.
    statuses.set('a', runningStatus('ca', T0 - 1000, { started: true }));
    const startupRuns = calls.filter((c) => c.probe === 's').length;
    await advance(30_000);
    expect(calls.filter((c) => c.probe === 's')).toHaveLength(startupRuns);
    expect(calls.filter((c) => c.probe === 'l').length).toBeGreaterThanOrEqual(3);
    expect(calls.filter((c) => c.probe === 'r').length).toBeGreaterThanOrEqual(3);
  });

  it('a startup probe that keeps failing fails the container at its threshold', async () => {
    const m = startManager(0);
    answers.set('s', () => ({ result: 'failure', output: 'not yet' }));
    statuses.set('a', runningStatus('ca', T0 - 1000, { started: false }));
    m.addPod(pod('a', [{ name: 'app', image: 'x', startupProbe: probe('s', { failureThreshold: 3 }) }]));
    await advance(20_000);
    expect(m.results.get('Startup', 'ca')).toBe('failure');
  });

  it('a not-ready container is probed at once when its status comes in, and the period restarts from there', async () => {
    const m = startManager(0);
    answers.set('r', () => ({ result: 'failure', output: 'no' }));
    const p = pod('a', [{ name: 'app', image: 'x', readinessProbe: probe('r') }]);
    statuses.set('a', runningStatus('ca', T0 - 60_000, { started: true }));
    m.addPod(p);
    await advance(3_000);
    m.statusChanged(p, runningStatus('ca', T0 - 60_000, { started: true, ready: false }));
    await advance(0);
    m.statusChanged(p, runningStatus('ca', T0 - 60_000, { started: true, ready: true }));
    await advance(12_000);
    expect(calls.map((c) => c.at)).toEqual([0, 3_000, 13_000]);
  });

  it('a terminating pod keeps its readiness probe only; a removed pod leaves nothing behind', async () => {
    const m = startManager(0);
    statuses.set('a', runningStatus('ca', T0 - 60_000, { started: true }));
    m.addPod(pod('a', [{ name: 'app', image: 'x', readinessProbe: probe('r'), livenessProbe: probe('l'), startupProbe: probe('s') }]));
    await advance(0);
    m.stopLivenessAndStartup('a');
    expect(m.workerCount).toBe(1);
    const before = calls.length;
    await advance(30_000);
    expect(new Set(calls.slice(before).map((c) => c.probe))).toEqual(new Set(['r']));
    m.removePod('a');
    expect(m.workerCount).toBe(0);
    expect(m.results.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a finished pod stops its workers; adding the pod again does not bring them back', async () => {
    const m = startManager(0);
    const p = pod('a', [{ name: 'app', image: 'x', readinessProbe: probe('r') }]);
    statuses.set('a', { phase: 'Succeeded' });
    m.addPod(p);
    await advance(0);
    expect(m.workerCount).toBe(0);
    m.addPod(p);
    expect(m.workerCount).toBe(0);
  });
});
