import type { V1Container, V1ContainerStatus, V1Pod, V1PodCondition, V1PodSpec, V1PodStatus } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { computePodStatus, podStatusEqual, type PodStatusInput } from '../../src/kubelet/pods/compute-pod-status.js';
import type { ContainerState, PodRuntimeState, SandboxState } from '../../src/kubelet/pods/runtime-state.js';
import type { WaitingReason } from '../../src/kubelet/pods/waiting-reason.js';

const T0 = 1_700_000_000_000;
const ns = (sec: number): bigint => BigInt(T0 + sec * 1000) * 1_000_000n;
const NOW = new Date(T0 + 3_600_000);

function pod(spec: Partial<V1PodSpec>, extra: Partial<V1Pod> = {}): V1Pod {
  return { metadata: { name: 'web', namespace: 'default', uid: 'uid-1', generation: 1 }, spec: { containers: [], ...spec }, ...extra };
}
const c = (name: string, extra: Partial<V1Container> = {}): V1Container => ({ name, image: `img-${name}`, ...extra });
const sidecar = (name: string, extra: Partial<V1Container> = {}): V1Container => c(name, { restartPolicy: 'Always', ...extra });
const probe = { exec: { command: ['true'] } };

function sb(over: Partial<SandboxState> = {}): SandboxState {
  return { id: 'sb0', attempt: 0, phase: 'ready', createdAt: ns(0), ips: ['10.0.0.5'], hostNetwork: false, ...over };
}
let seq = 0;
function ctr(name: string, phase: ContainerState['phase'], over: Partial<ContainerState> = {}): ContainerState {
  seq++;
  const base: ContainerState = {
    id: `${name}${seq}`,
    name,
    sandboxId: 'sb0',
    attempt: 0,
    phase,
    createdAt: ns(seq),
    startedAt: ns(seq),
    image: `img-${name}`,
    imageRef: `sha256:${name}`,
  };
  if (phase === 'exited') Object.assign(base, { exitCode: 0, reason: 'Completed', finishedAt: ns(seq + 1) });
  return { ...base, ...over };
}
function rs(sandboxes: SandboxState[], containers: ContainerState[]): PodRuntimeState {
  const sorted = [...containers].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  return { uid: 'uid-1', name: 'web', namespace: 'default', sandboxes, containers: sorted };
}
function input(over: Partial<PodStatusInput> = {}): PodStatusInput {
  return { now: NOW, hostIPs: ['192.168.1.10'], waiting: new Map(), runtimeName: 'containerd', ...over };
}
const cond = (s: V1PodStatus, type: string): V1PodCondition | undefined => s.conditions?.find((x) => x.type === type);
const cs = (s: V1PodStatus, name: string): V1ContainerStatus | undefined =>
  [...(s.containerStatuses ?? []), ...(s.initContainerStatuses ?? [])].find((x) => x.name === name);
const condSummary = (s: V1PodStatus): Record<string, string> =>
  Object.fromEntries((s.conditions ?? []).map((x) => [x.type, x.status + (x.reason ? `/${x.reason}` : '')]));

describe('computePodStatus: a fresh pod', () => {
  const s = computePodStatus(pod({ containers: [c('app')] }), rs([], []), input());

  it('is Pending with the container waiting in ContainerCreating', () => {
    expect(s.phase).toBe('Pending');
    expect(cs(s, 'app')).toEqual({
      name: 'app',
      image: 'img-app',
      imageID: '',
      ready: false,
      started: false,
      restartCount: 0,
      state: { waiting: { reason: 'ContainerCreating' } },
      lastState: {},
    });
  });

  it('has the kubelet conditions in upstream order, stamped now', () => {
    expect(s.conditions?.map((x) => x.type)).toEqual(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);
    expect(condSummary(s)).toEqual({
      PodReadyToStartContainers: 'False',
      Initialized: 'True',
      Ready: 'False/ContainersNotReady',
      ContainersReady: 'False/ContainersNotReady',
      PodScheduled: 'True',
    });
    expect(cond(s, 'Ready')?.message).toBe('containers with unready status: [app]');
    expect(cond(s, 'Ready')?.lastTransitionTime).toEqual(NOW);
    expect(cond(s, 'Ready')?.observedGeneration).toBe(1);
  });

  it('has host IPs, start time and QoS but no pod IP', () => {
    expect(s.hostIP).toBe('192.168.1.10');
    expect(s.hostIPs).toEqual([{ ip: '192.168.1.10' }]);
    expect(s.podIP).toBeUndefined();
    expect(s.startTime).toEqual(NOW);
    expect(s.qosClass).toBe('BestEffort');
    expect(s.observedGeneration).toBe(1);
  });
});

describe('computePodStatus: running', () => {
  it('a running pod with no probes is Running and Ready', () => {
    const app = ctr('app', 'running', { attempt: 2, startedAt: ns(10) + 123_456_789n });
    const s = computePodStatus(pod({ containers: [c('app')] }), rs([sb()], [app]), input());
    expect(s.phase).toBe('Running');
    expect(s.podIP).toBe('10.0.0.5');
    expect(s.podIPs).toEqual([{ ip: '10.0.0.5' }]);
    expect(cs(s, 'app')).toMatchObject({
      containerID: `containerd://${app.id}`,
      image: 'img-app',
      imageID: 'sha256:app',
      restartCount: 2,
      ready: true,
      started: true,
      state: { running: { startedAt: new Date(T0 + 10_000) } },
    });
    expect(condSummary(s)).toMatchObject({ PodReadyToStartContainers: 'True', Ready: 'True', ContainersReady: 'True' });
  });

  it.each([
    ['readiness probe not yet passed', { readinessProbe: probe }, false, false, true],
    ['readiness probe passed', { readinessProbe: probe }, true, true, true],
    ['startup probe not yet passed', { startupProbe: probe }, true, false, false],
  ])('%s', (_, extra, passes, ready, started) => {
    const app = ctr('app', 'running');
    const ids = new Set(passes ? [app.id] : []);
    const s = computePodStatus(pod({ containers: [c('app', extra)] }), rs([sb()], [app]), input({ ready: ids }));
    expect(cs(s, 'app')?.ready).toBe(ready);
    expect(cs(s, 'app')?.started).toBe(started);
    expect(cond(s, 'Ready')?.status).toBe(ready ? 'True' : 'False');
    expect(s.phase).toBe('Running');
  });

  it('container statuses are sorted by name; the init ones keep spec order', () => {
    const s = computePodStatus(
      pod({ initContainers: [c('zinit'), c('ainit')], containers: [c('b'), c('a')] }),
      rs([sb()], [ctr('zinit', 'exited'), ctr('ainit', 'exited'), ctr('b', 'running'), ctr('a', 'running')]),
      input(),
    );
    expect(s.containerStatuses?.map((x) => x.name)).toEqual(['a', 'b']);
    expect(s.initContainerStatuses?.map((x) => x.name)).toEqual(['zinit', 'ainit']);
  });

  it('readiness gates hold Ready back until their condition is True', () => {
    const p = pod({ containers: [c('app')], readinessGates: [{ conditionType: 'example.com/lb' }] });
    const state = rs([sb()], [ctr('app', 'running')]);
    const s = computePodStatus(p, state, input());
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'ReadinessGatesNotReady' });
    expect(cond(s, 'Ready')?.message).toBe('corresponding condition of pod readiness gate "example.com/lb" does not exist.');
    p.status = { conditions: [{ type: 'example.com/lb', status: 'True' }] };
    const s2 = computePodStatus(p, state, input());
    expect(cond(s2, 'Ready')?.status).toBe('True');
    expect(cond(s2, 'example.com/lb')?.status).toBe('True');
  });
});

describe('computePodStatus: addresses', () => {
  it('dual stack: the node family first', () => {
    const state = rs([sb({ ips: ['fd00::5', '10.0.0.5'] })], [ctr('app', 'running')]);
    const s = computePodStatus(pod({ containers: [c('app')] }), state, input({ hostIPs: ['192.168.1.10', 'fd00::10'] }));
    expect(s.podIPs).toEqual([{ ip: '10.0.0.5' }, { ip: 'fd00::5' }]);
    expect(s.hostIPs).toEqual([{ ip: '192.168.1.10' }, { ip: 'fd00::10' }]);
  });

  it('host network: the pod carries the node IPs', () => {
    const state = rs([sb({ hostNetwork: true, ips: [] })], [ctr('app', 'running')]);
    const s = computePodStatus(pod({ hostNetwork: true, containers: [c('app')] }), state, input());
    expect(s.podIP).toBe('192.168.1.10');
  });

  it('keeps the known pod IP while the sandbox is not ready', () => {
    const state = rs([sb({ phase: 'not-ready' })], [ctr('app', 'exited')]);
    const s = computePodStatus(pod({ containers: [c('app')] }), state, input({ previous: { podIP: '10.0.0.5', podIPs: [{ ip: '10.0.0.5' }] } }));
    expect(s.podIP).toBe('10.0.0.5');
    expect(cond(s, 'PodReadyToStartContainers')?.status).toBe('False');
  });
});

describe('computePodStatus: restarts and waiting reasons', () => {
  it('CrashLoopBackOff: waiting with the back-off message, last state terminated, restart count', () => {
    const old = ctr('app', 'exited', { exitCode: 1, reason: 'Error', attempt: 1 });
    const cur = ctr('app', 'exited', { exitCode: 2, reason: 'Error', attempt: 2, message: 'boom' });
    const message = 'back-off 20s restarting failed container=app pod=web_default(uid-1)';
    const s = computePodStatus(
      pod({ containers: [c('app')] }),
      rs([sb()], [old, cur]),
      input({ waiting: new Map([['app', { reason: 'CrashLoopBackOff', message }]]) }),
    );
    const st = cs(s, 'app');
    expect(st?.state).toEqual({ waiting: { reason: 'CrashLoopBackOff', message } });
    expect(st?.lastState?.terminated).toMatchObject({ exitCode: 2, reason: 'Error', message: 'boom', containerID: `containerd://${cur.id}` });
    expect(st?.restartCount).toBe(2);
    expect(s.phase).toBe('Running');
  });

  it('a restarted container shows its previous instance as lastState', () => {
    const old = ctr('app', 'exited', { exitCode: 137, reason: 'Error' });
    const cur = ctr('app', 'running', { attempt: 1 });
    const s = computePodStatus(pod({ containers: [c('app')] }), rs([sb()], [old, cur]), input());
    expect(cs(s, 'app')?.state?.running).toBeDefined();
    expect(cs(s, 'app')?.lastState?.terminated?.exitCode).toBe(137);
    expect(cs(s, 'app')?.restartCount).toBe(1);
  });

  it.each(['ErrImagePull', 'ImagePullBackOff', 'CreateContainerConfigError'] as const)(
    '%s on a fresh container: Pending, waiting with the reason',
    (reason) => {
      const s = computePodStatus(pod({ containers: [c('app')] }), rs([sb()], []), input({ waiting: new Map([['app', { reason, message: 'details' }]]) }));
      expect(cs(s, 'app')?.state).toEqual({ waiting: { reason, message: 'details' } });
      expect(s.phase).toBe('Pending');
    },
  );

  it('a waiting reason is ignored for a running container', () => {
    const s = computePodStatus(
      pod({ containers: [c('app')] }),
      rs([sb()], [ctr('app', 'running')]),
      input({ waiting: new Map([['app', { reason: 'ErrImagePull', message: '' }]]) }),
    );
    expect(cs(s, 'app')?.state?.running).toBeDefined();
  });

  it('a created container that never started is waiting', () => {
    const s = computePodStatus(pod({ containers: [c('app')] }), rs([sb()], [ctr('app', 'created')]), input());
    expect(cs(s, 'app')?.state).toEqual({ waiting: {} });
    expect(s.phase).toBe('Pending');
  });

  it('a running container the runtime lost: terminated as ContainerStatusUnknown', () => {
    const app = ctr('app', 'unknown', { attempt: 0 });
    const previous: V1PodStatus = { containerStatuses: [{ name: 'app', image: 'img-app', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] };
    const s = computePodStatus(pod({ containers: [c('app')] }), rs([sb()], [app]), input({ previous }));
    expect(cs(s, 'app')?.state?.terminated).toEqual({
      reason: 'ContainerStatusUnknown',
      message: 'The container could not be located when the pod was terminated',
      exitCode: 137,
    });
    expect(cs(s, 'app')?.restartCount).toBe(1);
  });

  it('a running container whose record vanished: waiting, last state unknown, not Pending', () => {
    const previous: V1PodStatus = {
      phase: 'Running',
      containerStatuses: [{ name: 'app', image: 'img-app', imageID: '', ready: true, restartCount: 3, state: { running: {} } }],
    };
    const s = computePodStatus(pod({ containers: [c('app')] }), rs([sb()], []), input({ previous }));
    expect(cs(s, 'app')?.lastState?.terminated?.reason).toBe('ContainerStatusUnknown');
    expect(cs(s, 'app')?.restartCount).toBe(4);
    expect(s.phase).toBe('Running');
  });
});

describe('computePodStatus: phase by restart policy', () => {
  it.each([
    ['Always', [0], 'Running'],
    ['Always', [1], 'Running'],
    ['OnFailure', [0, 0], 'Succeeded'],
    ['OnFailure', [0, 1], 'Running'],
    ['Never', [0, 0], 'Succeeded'],
    ['Never', [0, 1], 'Failed'],
  ] as const)('%s with exit codes %j: %s', (policy, codes, phase) => {
    const specs = codes.map((_, i) => c(`c${i}`));
    const state = rs(
      [sb()],
      codes.map((exitCode, i) => ctr(`c${i}`, 'exited', { exitCode })),
    );
    expect(computePodStatus(pod({ restartPolicy: policy, containers: specs }), state, input()).phase).toBe(phase);
  });

  it('a terminal pod (worker says so) is Failed on any failure regardless of policy', () => {
    const state = rs([sb()], [ctr('app', 'exited', { exitCode: 1 })]);
    expect(computePodStatus(pod({ containers: [c('app')] }), state, input({ podIsTerminal: true })).phase).toBe('Failed');
  });

  it('Succeeded: containers ready false with PodCompleted', () => {
    const s = computePodStatus(pod({ restartPolicy: 'Never', containers: [c('app')] }), rs([sb()], [ctr('app', 'exited')]), input());
    expect(condSummary(s)).toMatchObject({ ContainersReady: 'False/PodCompleted', Ready: 'False/PodCompleted', Initialized: 'True/PodCompleted' });
  });

  it('a terminal phase is never left', () => {
    const state = rs([sb()], [ctr('app', 'running')]);
    const s = computePodStatus(pod({ containers: [c('app')] }), state, input({ previous: { phase: 'Succeeded', reason: 'Done' } }));
    expect(s.phase).toBe('Succeeded');
    expect(s.reason).toBe('Done');
  });
});

describe('computePodStatus: init containers and sidecars', () => {
  const spec = { initContainers: [c('i1'), c('i2')], containers: [c('app')] };

  it('initializing: Pending, regular containers in PodInitializing, Initialized False', () => {
    const s = computePodStatus(pod(spec), rs([sb()], [ctr('i1', 'exited'), ctr('i2', 'running')]), input());
    expect(s.phase).toBe('Pending');
    expect(cs(s, 'app')?.state).toEqual({ waiting: { reason: 'PodInitializing' } });
    expect(cs(s, 'i1')?.ready).toBe(true);
    expect(cs(s, 'i2')?.ready).toBe(false);
    expect(cond(s, 'Initialized')).toMatchObject({ status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [i2]' });
  });

  it('initialized: Initialized True, Running once the app runs', () => {
    const s = computePodStatus(pod(spec), rs([sb()], [ctr('i1', 'exited'), ctr('i2', 'exited'), ctr('app', 'running')]), input());
    expect(s.phase).toBe('Running');
    expect(cond(s, 'Initialized')?.status).toBe('True');
  });

  it('failed init container under Never: Failed', () => {
    const s = computePodStatus(pod({ ...spec, restartPolicy: 'Never' }), rs([sb()], [ctr('i1', 'exited', { exitCode: 1, reason: 'Error' })]), input());
    expect(s.phase).toBe('Failed');
    expect(condSummary(s)).toMatchObject({ ContainersReady: 'False/PodFailed', Initialized: 'False/ContainersNotInitialized' });
  });

  it('failed init container under Always in back-off: Pending, waiting CrashLoopBackOff', () => {
    const waiting = new Map<string, WaitingReason>([['i1', { reason: 'CrashLoopBackOff', message: 'back-off 10s' }]]);
    const s = computePodStatus(pod(spec), rs([sb()], [ctr('i1', 'exited', { exitCode: 1 })]), input({ waiting }));
    expect(s.phase).toBe('Pending');
    expect(cs(s, 'i1')?.state?.waiting?.reason).toBe('CrashLoopBackOff');
    expect(cs(s, 'i1')?.lastState?.terminated?.exitCode).toBe(1);
  });

  it('init records removed after the app was created: reported Completed', () => {
    const s = computePodStatus(pod(spec), rs([sb()], [ctr('app', 'running')]), input());
    expect(cs(s, 'i1')?.state?.terminated).toMatchObject({ reason: 'Completed', exitCode: 0 });
    expect(s.phase).toBe('Running');
  });

  const sideSpec = { initContainers: [sidecar('proxy', { readinessProbe: probe })], containers: [c('app')] };

  it('a started sidecar is an init status, counts for ContainersReady', () => {
    const proxy = ctr('proxy', 'running');
    const state = rs([sb()], [proxy, ctr('app', 'running')]);
    const notReady = computePodStatus(pod(sideSpec), state, input());
    expect(notReady.initContainerStatuses?.map((x) => x.name)).toEqual(['proxy']);
    expect(cs(notReady, 'proxy')).toMatchObject({ started: true, ready: false });
    expect(cond(notReady, 'ContainersReady')?.message).toBe('containers with unready status: [proxy]');
    const ready = computePodStatus(pod(sideSpec), state, input({ ready: new Set([proxy.id]) }));
    expect(cond(ready, 'Ready')?.status).toBe('True');
    expect(ready.phase).toBe('Running');
  });

  it('a sidecar still starting keeps the pod Pending before the app ran', () => {
    const s = computePodStatus(
      pod({ initContainers: [sidecar('proxy', { startupProbe: probe })], containers: [c('app')] }),
      rs([sb()], [ctr('proxy', 'running')]),
      input(),
    );
    expect(s.phase).toBe('Pending');
    expect(cond(s, 'Initialized')?.message).toBe('containers with incomplete status: [proxy]');
  });

  it('a sidecar that exited after the app finished does not hold the phase', () => {
    const state = rs([sb()], [ctr('proxy', 'exited', { exitCode: 137 }), ctr('app', 'exited', { exitCode: 0 })]);
    expect(computePodStatus(pod({ ...sideSpec, restartPolicy: 'Never' }), state, input()).phase).toBe('Succeeded');
  });
});

describe('computePodStatus: history', () => {
  const p = pod({ containers: [c('app')] });

  it('keeps lastTransitionTime while a condition keeps its status, moves it on change', () => {
    const before = new Date(T0 - 60_000);
    const previous: V1PodStatus = {
      startTime: before,
      conditions: [
        { type: 'Ready', status: 'True', lastTransitionTime: before },
        { type: 'PodScheduled', status: 'True', lastTransitionTime: before },
        { type: 'ContainersReady', status: 'False', lastTransitionTime: before },
      ],
    };
    const s = computePodStatus(p, rs([sb()], [ctr('app', 'running')]), input({ previous }));
    expect(cond(s, 'Ready')?.lastTransitionTime).toEqual(before);
    expect(cond(s, 'PodScheduled')?.lastTransitionTime).toEqual(before);
    expect(cond(s, 'ContainersReady')?.lastTransitionTime).toEqual(NOW);
    expect(s.startTime).toEqual(before);
  });

  it('computing again a little later from the same state gives an equal status', () => {
    const state = rs([sb()], [ctr('app', 'running')]);
    const first = computePodStatus(p, state, input());
    const again = computePodStatus(p, state, input({ now: new Date(NOW.getTime() + 5_000), previous: first }));
    expect(podStatusEqual(first, again)).toBe(true);
    const changed = computePodStatus(p, rs([sb()], [ctr('app', 'exited', { exitCode: 1 })]), input({ previous: first }));
    expect(podStatusEqual(first, changed)).toBe(false);
  });

  it('keeps conditions it does not own, and DisruptionTarget from the previous status', () => {
    const withOthers = pod({ containers: [c('app')] }, { status: { conditions: [{ type: 'example.com/gate', status: 'False' }] } });
    const previous: V1PodStatus = { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI' }] };
    const s = computePodStatus(withOthers, rs([sb()], [ctr('app', 'running')]), input({ previous }));
    expect(s.conditions?.map((x) => x.type)).toEqual([
      'example.com/gate',
      'DisruptionTarget',
      'PodReadyToStartContainers',
      'Initialized',
      'Ready',
      'ContainersReady',
      'PodScheduled',
    ]);
  });
});

describe('podStatusEqual', () => {
  const base: V1PodStatus = {
    phase: 'Running',
    startTime: new Date(T0),
    conditions: [
      { type: 'Ready', status: 'True', lastTransitionTime: new Date(T0) },
      { type: 'PodScheduled', status: 'True', lastTransitionTime: new Date(T0) },
    ],
    containerStatuses: [
      { name: 'a', image: 'i', imageID: '', ready: true, restartCount: 0, state: { running: { startedAt: new Date(T0) } } },
      { name: 'b', image: 'i', imageID: '', ready: true, restartCount: 0, state: { running: { startedAt: new Date(T0) } }, lastState: {} },
    ],
  };

  it.each<[string, V1PodStatus, boolean]>([
    ['identical', structuredClone(base), true],
    ['conditions reordered', { ...base, conditions: [...(base.conditions ?? [])].reverse() }, true],
    ['container statuses reordered', { ...base, containerStatuses: [...(base.containerStatuses ?? [])].reverse() }, true],
    ['sub-second time noise', { ...base, startTime: new Date(T0 + 999) }, true],
    ['a date as an RFC 3339 string', { ...base, startTime: new Date(T0).toISOString() as unknown as Date }, true],
    ['empty message vs none', { ...base, message: '' }, true],
    ['phase changed', { ...base, phase: 'Failed' }, false],
    ['restart count changed', { ...base, containerStatuses: [{ ...base.containerStatuses![0]!, restartCount: 1 }, base.containerStatuses![1]!] }, false],
    ['condition status changed', { ...base, conditions: [{ type: 'Ready', status: 'False' }, base.conditions![1]!] }, false],
    ['a second later', { ...base, startTime: new Date(T0 + 1000) }, false],
  ])('%s: %s', (_, other, equal) => {
    expect(podStatusEqual(base, other)).toBe(equal);
  });
});
