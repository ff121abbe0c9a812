import type { V1Container, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { computePodActions, sandboxChange, type PodActionsInput } from '../../src/kubelet/pods/compute-pod-actions.js';
import { CrashBackoff, crashBackoffKey, recordRestarts } from '../../src/kubelet/pods/crash-backoff.js';
import type { ContainerState, PodRuntimeState, SandboxState } from '../../src/kubelet/pods/runtime-state.js';

const T0 = 1_700_000_000_000; // ms
const ns = (sec: number): bigint => BigInt(T0 + sec * 1000) * 1_000_000n;
const UID = 'uid-1';

function pod(spec: Partial<V1PodSpec>, meta: V1Pod['metadata'] = {}): V1Pod {
  return { metadata: { name: 'web', namespace: 'default', uid: UID, ...meta }, spec: { containers: [], ...spec } };
}
const c = (name: string, extra: Partial<V1Container> = {}): V1Container => ({ name, image: `img-${name}`, ...extra });
const sidecar = (name: string, extra: Partial<V1Container> = {}): V1Container => c(name, { restartPolicy: 'Always', ...extra });
const specHash = (x: V1Container): string => `h-${x.image}`;

function sb(over: Partial<SandboxState> = {}): SandboxState {
  return { id: 'sb0', attempt: 0, phase: 'ready', createdAt: ns(0), ips: ['10.0.0.5'], hostNetwork: false, ...over };
}
let seq = 0;
function ctr(name: string, phase: ContainerState['phase'], over: Partial<ContainerState> = {}): ContainerState {
  seq++;
  const base: ContainerState = {
    id: `${name}-${seq}`,
    name,
    sandboxId: 'sb0',
    attempt: 0,
    phase,
    createdAt: ns(seq),
    startedAt: ns(seq),
    image: `img-${name}`,
    imageRef: `sha256:${name}`,
    specHash: `h-img-${name}`,
  };
  if (phase === 'exited') Object.assign(base, { exitCode: 0, finishedAt: ns(seq + 1) });
  return { ...base, ...over };
}
function rs(sandboxes: SandboxState[], containers: ContainerState[]): PodRuntimeState {
  const sorted = [...containers].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  return { uid: UID, name: 'web', namespace: 'default', sandboxes, containers: sorted };
}
function input(over: Partial<PodActionsInput> = {}): PodActionsInput {
  return { now: T0 + 3_600_000, backoff: new CrashBackoff(), specHash, ...over };
}
const names = (xs: { name: string }[]): string[] => xs.map((x) => x.name);

describe('sandboxChange', () => {
  const p = pod({ containers: [c('app')] });
  it.each([
    ['no sandbox', [], true, 0, undefined],
    ['ready sandbox', [sb()], false, 0, 'sb0'],
    ['dead sandbox', [sb({ phase: 'not-ready', attempt: 2 })], true, 3, 'sb0'],
    ['two ready sandboxes', [sb({ id: 'sb1', attempt: 1 }), sb()], true, 2, 'sb1'],
    ['ready sandbox without IP', [sb({ ips: [] })], true, 1, 'sb0'],
    ['network mode changed', [sb({ hostNetwork: true })], true, 1, 'sb0'],
  ] as const)('%s', (_, sandboxes, create, attempt, id) => {
    const ch = sandboxChange(p, rs([...sandboxes], []));
    expect(ch.create).toBe(create);
    expect(ch.attempt).toBe(attempt);
    expect(ch.sandboxId).toBe(id);
  });

  it('a host-network pod needs no IP on its sandbox', () => {
    expect(sandboxChange(pod({ hostNetwork: true, containers: [c('a')] }), rs([sb({ hostNetwork: true, ips: [] })], [])).create).toBe(false);
  });
});

describe('computePodActions: sandbox', () => {
  it('fresh pod: create the sandbox (attempt 0) and start every container', () => {
    const a = computePodActions(pod({ containers: [c('app'), c('log')] }), rs([], []), input());
    expect(a).toMatchObject({ killPod: false, createSandbox: true, sandboxAttempt: 0 });
    expect(a.containersToStart).toEqual([
      { name: 'app', kind: 'regular', attempt: 0 },
      { name: 'log', kind: 'regular', attempt: 0 },
    ]);
    expect(a.sandboxId).toBeUndefined();
  });

  it('fresh pod with init containers: only the first init container goes with the new sandbox', () => {
    const a = computePodActions(pod({ initContainers: [c('i1'), c('i2')], containers: [c('app')] }), rs([], []), input());
    expect(a.createSandbox).toBe(true);
    expect(a.nextInitContainer).toEqual({ name: 'i1', kind: 'init', attempt: 0 });
    expect(a.containersToStart).toEqual([]);
  });

  it('sandbox died under Always: kill, new sandbox with attempt + 1, containers restart with attempt + 1', () => {
    const state = rs([sb({ phase: 'not-ready', attempt: 1 })], [ctr('app', 'exited', { attempt: 3, exitCode: 137 })]);
    const a = computePodActions(pod({ containers: [c('app')] }), state, input());
    expect(a).toMatchObject({ killPod: true, createSandbox: true, sandboxAttempt: 2 });
    expect(a.containersToStart).toEqual([{ name: 'app', kind: 'regular', attempt: 4 }]);
  });

  it('sandbox died under Never after containers ran: no new sandbox', () => {
    const state = rs([sb({ phase: 'not-ready' })], [ctr('app', 'exited', { exitCode: 1 })]);
    const a = computePodActions(pod({ restartPolicy: 'Never', containers: [c('app')] }), state, input());
    expect(a.createSandbox).toBe(false);
    expect(a.killPod).toBe(false);
    expect(a.containersToStart).toEqual([]);
  });

  it('sandbox died under Never while a container still runs: kill, but no new sandbox', () => {
    const state = rs([sb({ phase: 'not-ready' })], [ctr('app', 'running')]);
    const a = computePodActions(pod({ restartPolicy: 'Never', containers: [c('app')] }), state, input());
    expect(a).toMatchObject({ createSandbox: false, killPod: true });
  });

  it('sandbox creation failed before any container under Never: try again', () => {
    const a = computePodActions(pod({ restartPolicy: 'Never', containers: [c('app')] }), rs([sb({ phase: 'not-ready' })], []), input());
    expect(a).toMatchObject({ createSandbox: true, sandboxAttempt: 1 });
    expect(names(a.containersToStart)).toEqual(['app']);
  });

  it('OnFailure with every container succeeded: no new sandbox', () => {
    const state = rs([sb({ phase: 'not-ready' })], [ctr('app', 'exited', { exitCode: 0 })]);
    const a = computePodActions(pod({ restartPolicy: 'OnFailure', containers: [c('app')] }), state, input());
    expect(a.createSandbox).toBe(false);
  });

  it('OnFailure: a new sandbox restarts only the containers that did not succeed', () => {
    const state = rs([sb({ phase: 'not-ready' })], [ctr('ok', 'exited', { exitCode: 0 }), ctr('bad', 'exited', { exitCode: 2 })]);
    const a = computePodActions(pod({ restartPolicy: 'OnFailure', containers: [c('ok'), c('bad')] }), state, input());
    expect(a.createSandbox).toBe(true);
    expect(names(a.containersToStart)).toEqual(['bad']);
  });

  it('healthy pod: nothing to do, containers go into the current sandbox', () => {
    const a = computePodActions(pod({ containers: [c('app')] }), rs([sb()], [ctr('app', 'running')]), input());
    expect(a).toEqual({
      killPod: false,
      createSandbox: false,
      sandboxAttempt: 0,
      sandboxId: 'sb0',
      containersToStart: [],
      containersToKill: [],
      containersToResize: [],
      backingOff: [],
    });
  });
});

describe('computePodActions: init containers', () => {
  const spec = { initContainers: [c('i1'), c('i2')], containers: [c('app')] };

  it('one at a time in spec order: i1 done, start i2', () => {
    const a = computePodActions(pod(spec), rs([sb()], [ctr('i1', 'exited')]), input());
    expect(a.nextInitContainer).toEqual({ name: 'i2', kind: 'init', attempt: 0 });
    expect(a.containersToStart).toEqual([]);
  });

  it('waits while an init container runs', () => {
    const a = computePodActions(pod(spec), rs([sb()], [ctr('i1', 'exited'), ctr('i2', 'running')]), input());
    expect(a.nextInitContainer).toBeUndefined();
    expect(a.containersToStart).toEqual([]);
  });

  it('sandbox up but no init container yet: start the first', () => {
    expect(computePodActions(pod(spec), rs([sb()], []), input()).nextInitContainer?.name).toBe('i1');
  });

  it('all init containers done: start the regular containers', () => {
    const a = computePodActions(pod(spec), rs([sb()], [ctr('i1', 'exited'), ctr('i2', 'exited')]), input());
    expect(a.nextInitContainer).toBeUndefined();
    expect(a.containersToStart).toEqual([{ name: 'app', kind: 'regular', attempt: 0 }]);
  });

  it('init records removed but the app runs: initialization is not repeated', () => {
    const a = computePodActions(pod(spec), rs([sb()], [ctr('app', 'running')]), input());
    expect(a.nextInitContainer).toBeUndefined();
    expect(a.containersToStart).toEqual([]);
  });

  it.each([
    ['Always', 'restart'],
    ['OnFailure', 'restart'],
    ['Never', 'fail'],
  ] as const)('failed init container under %s: %s', (policy, outcome) => {
    const state = rs([sb()], [ctr('i1', 'exited', { exitCode: 3, reason: 'Error', attempt: 1 })]);
    const a = computePodActions(pod({ ...spec, restartPolicy: policy }), state, input());
    if (outcome === 'restart') {
      expect(a.nextInitContainer).toEqual({ name: 'i1', kind: 'init', attempt: 2 });
      expect(a.podFailed).toBeUndefined();
    } else {
      expect(a.nextInitContainer).toBeUndefined();
      expect(a.podFailed).toEqual({
        reason: 'InitContainerFailed',
        message: 'init container i1 failed (exit code 3, Error) and restartPolicy is Never',
      });
      expect(a.killPod).toBe(true);
    }
    expect(a.containersToStart).toEqual([]);
  });

  it('an OOM-killed init container failed even with exit code 0', () => {
    const state = rs([sb()], [ctr('i1', 'exited', { exitCode: 0, reason: 'OOMKilled' })]);
    const a = computePodActions(pod({ ...spec, restartPolicy: 'Never' }), state, input());
    expect(a.podFailed?.reason).toBe('InitContainerFailed');
  });

  it('an init container in unknown state is killed, then restarted', () => {
    const i1 = ctr('i1', 'unknown');
    const a = computePodActions(pod(spec), rs([sb()], [i1]), input());
    expect(a.containersToKill).toEqual([{ id: i1.id, name: 'i1', message: 'Init container is in "unknown" state, try killing it before restart' }]);
    expect(a.nextInitContainer).toEqual({ name: 'i1', kind: 'init', attempt: 1 });
  });

  it('a failed init container restarts only after its back-off', () => {
    const backoff = new CrashBackoff();
    const finished = T0 + 100_000;
    backoff.next(crashBackoffKey(UID, c('i1')), finished - 5_000, finished - 5_000);
    const state = rs([sb()], [ctr('i1', 'exited', { exitCode: 1, finishedAt: BigInt(finished) * 1_000_000n })]);
    const a = computePodActions(pod(spec), state, input({ backoff, now: finished + 4_000 }));
    expect(a.nextInitContainer).toBeUndefined();
    expect(a.backingOff).toEqual([{ name: 'i1', retryAt: finished + 10_000, delayMs: 10_000 }]);
  });
});

describe('computePodActions: sidecars', () => {
  const spec = { initContainers: [sidecar('proxy'), c('migrate')], containers: [c('app')] };

  it('a sidecar starts first, as an init container', () => {
    expect(computePodActions(pod(spec), rs([sb()], []), input()).nextInitContainer).toEqual({ name: 'proxy', kind: 'init', attempt: 0 });
  });

  it('the next init container starts once the sidecar runs', () => {
    const a = computePodActions(pod(spec), rs([sb()], [ctr('proxy', 'running')]), input());
    expect(a.nextInitContainer?.name).toBe('migrate');
  });

  it('a sidecar with a startup probe must pass it before the next init container starts', () => {
    const s = { ...spec, initContainers: [sidecar('proxy', { startupProbe: { exec: { command: ['true'] } } }), c('migrate')] };
    const proxy = ctr('proxy', 'running');
    expect(computePodActions(pod(s), rs([sb()], [proxy]), input()).nextInitContainer).toBeUndefined();
    const a = computePodActions(pod(s), rs([sb()], [proxy]), input({ startupPassed: new Set([proxy.id]) }));
    expect(a.nextInitContainer?.name).toBe('migrate');
  });

  it('sidecar as the last init container: running means initialized, regular containers start', () => {
    const s = { initContainers: [c('migrate'), sidecar('proxy')], containers: [c('app')] };
    const a = computePodActions(pod(s), rs([sb()], [ctr('migrate', 'exited'), ctr('proxy', 'running')]), input());
    expect(names(a.containersToStart)).toEqual(['app']);
  });

  it('a sidecar that exits after initialization is restarted while the app keeps running', () => {
    const state = rs([sb()], [ctr('proxy', 'exited', { exitCode: 1, attempt: 0 }), ctr('migrate', 'exited'), ctr('app', 'running')]);
    const a = computePodActions(pod({ ...spec, restartPolicy: 'Never' }), state, input());
    expect(a.containersToStart).toEqual([{ name: 'proxy', kind: 'init', attempt: 1 }]);
    expect(a.nextInitContainer).toBeUndefined();
    expect(a.killPod).toBe(false);
  });

  it('a sidecar whose record is gone after initialization is started again', () => {
    const a = computePodActions(pod(spec), rs([sb()], [ctr('app', 'running')]), input());
    expect(a.containersToStart).toEqual([{ name: 'proxy', kind: 'init', attempt: 0 }]);
  });

  it('a running sidecar with a changed spec is killed and restarted', () => {
    const proxy = ctr('proxy', 'running', { specHash: 'old' });
    const a = computePodActions(pod(spec), rs([sb()], [proxy, ctr('migrate', 'exited'), ctr('app', 'running')]), input());
    expect(a.containersToKill).toEqual([{ id: proxy.id, name: 'proxy', message: 'Init container proxy definition changed' }]);
    expect(a.containersToStart).toEqual([{ name: 'proxy', kind: 'init', attempt: 1 }]);
  });

  it('a sidecar failing liveness is killed and restarted', () => {
    const proxy = ctr('proxy', 'running');
    const a = computePodActions(
      pod(spec),
      rs([sb()], [proxy, ctr('migrate', 'exited'), ctr('app', 'running')]),
      input({ livenessFailed: new Set([proxy.id]) }),
    );
    expect(a.containersToKill[0]?.message).toBe('Init container proxy failed liveness probe');
    expect(names(a.containersToStart)).toEqual(['proxy']);
  });

  it('a sidecar failing its startup probe is killed and restarted, and the next init container still waits', () => {
    const proxy = ctr('proxy', 'running');
    const withProbe = { ...spec, initContainers: [sidecar('proxy', { startupProbe: { exec: { command: ['true'] } } }), c('migrate')] };
    const a = computePodActions(pod(withProbe), rs([sb()], [proxy]), input({ startupFailed: new Set([proxy.id]) }));
    expect(a.containersToKill).toEqual([{ id: proxy.id, name: 'proxy', message: 'Init container proxy failed startup probe', probe: 'startup' }]);
    expect(names(a.containersToStart)).toEqual(['proxy']);
    expect(a.nextInitContainer).toBeUndefined();
  });

  it('when every regular container is done, sidecars are not restarted and the pod is killed', () => {
    const state = rs([sb()], [ctr('proxy', 'exited', { exitCode: 1 }), ctr('migrate', 'exited'), ctr('app', 'exited', { exitCode: 0 })]);
    const a = computePodActions(pod({ ...spec, restartPolicy: 'OnFailure' }), state, input());
    expect(a.killPod).toBe(true);
    expect(a.containersToStart).toEqual([]);
  });
});

describe('computePodActions: regular containers and restart policy', () => {
  it.each([
    ['Always', 0, true],
    ['Always', 1, true],
    ['OnFailure', 0, false],
    ['OnFailure', 1, true],
    ['Never', 0, false],
    ['Never', 1, false],
  ] as const)('restartPolicy %s, exit code %d: restart=%s', (policy, exitCode, restart) => {
    const state = rs([sb()], [ctr('app', 'exited', { exitCode, attempt: 2 }), ctr('side', 'running')]);
    const a = computePodActions(pod({ restartPolicy: policy, containers: [c('app'), c('side')] }), state, input());
    expect(a.containersToStart).toEqual(restart ? [{ name: 'app', kind: 'regular', attempt: 3 }] : []);
    expect(a.killPod).toBe(false);
  });

  it('a container stuck in created is started again', () => {
    const a = computePodActions(pod({ restartPolicy: 'Never', containers: [c('app')] }), rs([sb()], [ctr('app', 'created')]), input());
    expect(a.containersToStart).toEqual([{ name: 'app', kind: 'regular', attempt: 1 }]);
  });

  it('a container in unknown state is killed before its restart', () => {
    const app = ctr('app', 'unknown');
    const a = computePodActions(pod({ containers: [c('app')] }), rs([sb()], [app]), input());
    expect(a.containersToKill).toEqual([{ id: app.id, name: 'app', message: 'Container is in "unknown" state, try killing it before restart' }]);
    expect(names(a.containersToStart)).toEqual(['app']);
  });

  it('spec change: kill and restart, even under Never', () => {
    const app = ctr('app', 'running', { specHash: 'h-old' });
    const a = computePodActions(pod({ restartPolicy: 'Never', containers: [c('app')] }), rs([sb()], [app]), input());
    expect(a.containersToKill).toEqual([{ id: app.id, name: 'app', message: 'Container app definition changed, will be restarted' }]);
    expect(a.containersToStart).toEqual([{ name: 'app', kind: 'regular', attempt: 1 }]);
  });

  it('a container without a recorded hash is not treated as changed', () => {
    const a = computePodActions(pod({ containers: [c('app')] }), rs([sb()], [ctr('app', 'running', { specHash: undefined })]), input());
    expect(a.containersToKill).toEqual([]);
  });

  it.each([
    ['Always', true],
    ['Never', false],
  ] as const)('liveness failure under %s: kill, restart=%s', (policy, restart) => {
    const app = ctr('app', 'running');
    const other = ctr('other', 'running');
    const a = computePodActions(
      pod({ restartPolicy: policy, containers: [c('app'), c('other')] }),
      rs([sb()], [app, other]),
      input({ livenessFailed: new Set([app.id]) }),
    );
    expect(a.containersToKill).toEqual([
      {
        id: app.id,
        name: 'app',
        message: restart ? 'Container app failed liveness probe, will be restarted' : 'Container app failed liveness probe',
        probe: 'liveness',
      },
    ]);
    expect(a.containersToStart).toEqual(restart ? [{ name: 'app', kind: 'regular', attempt: 1 }] : []);
  });

  it.each([
    ['Always', true],
    ['OnFailure', true],
    ['Never', false],
  ] as const)('startup probe failure under %s: kill, restart=%s', (policy, restart) => {
    const app = ctr('app', 'running');
    const a = computePodActions(pod({ restartPolicy: policy, containers: [c('app')] }), rs([sb()], [app]), input({ startupFailed: new Set([app.id]) }));
    expect(a.containersToKill).toEqual([
      {
        id: app.id,
        name: 'app',
        message: restart ? 'Container app failed startup probe, will be restarted' : 'Container app failed startup probe',
        probe: 'startup',
      },
    ]);
    expect(a.containersToStart).toEqual(restart ? [{ name: 'app', kind: 'regular', attempt: 1 }] : []);
  });

  it('a liveness failure outranks a startup failure in the message, as upstream checks liveness first', () => {
    const app = ctr('app', 'running');
    const ids = new Set([app.id]);
    const a = computePodActions(pod({ containers: [c('app')] }), rs([sb()], [app]), input({ livenessFailed: ids, startupFailed: ids }));
    expect(a.containersToKill[0]).toMatchObject({ message: 'Container app failed liveness probe, will be restarted', probe: 'liveness' });
  });

  it('a liveness result for an older instance does not kill the new one', () => {
    const old = ctr('app', 'exited', { exitCode: 137 });
    const now = ctr('app', 'running', { attempt: 1 });
    const a = computePodActions(pod({ containers: [c('app')] }), rs([sb()], [old, now]), input({ livenessFailed: new Set([old.id]) }));
    expect(a.containersToKill).toEqual([]);
  });

  it('containers not in the spec are killed; exited ones are left to garbage collection', () => {
    const stray = ctr('stray', 'running');
    const gone = ctr('gone', 'exited');
    const a = computePodActions(pod({ containers: [c('app')] }), rs([sb()], [ctr('app', 'running'), stray, gone]), input());
    expect(a.containersToKill).toEqual([{ id: stray.id, name: 'stray', message: 'Container stray is not in the pod spec' }]);
  });

  it('all containers finished under Never: kill the pod, start nothing', () => {
    const state = rs([sb()], [ctr('app', 'exited', { exitCode: 0 })]);
    const a = computePodActions(pod({ restartPolicy: 'Never', containers: [c('app')] }), state, input());
    expect(a).toMatchObject({ killPod: true, createSandbox: false, containersToStart: [] });
  });

  it('a pod being deleted restarts nothing', () => {
    const state = rs([sb()], [ctr('app', 'exited', { exitCode: 1 }), ctr('web', 'running')]);
    const a = computePodActions(pod({ containers: [c('app'), c('web')] }, { deletionTimestamp: new Date(T0) }), state, input());
    expect(a.containersToStart).toEqual([]);
  });
});

describe('computePodActions: crash-loop back-off', () => {
  const p = pod({ containers: [c('app')] });
  const key = crashBackoffKey(UID, c('app'));

  it('first crash restarts at once; the executor then records the restart', () => {
    const backoff = new CrashBackoff();
    const finished = T0 + 50_000;
    const state = rs([sb()], [ctr('app', 'exited', { exitCode: 1, finishedAt: BigInt(finished) * 1_000_000n })]);
    const a = computePodActions(p, state, input({ backoff, now: finished + 1 }));
    expect(a.containersToStart).toEqual([{ name: 'app', kind: 'regular', attempt: 1 }]);
    recordRestarts(backoff, p, state, a.containersToStart, finished + 1);
    expect(backoff.delayMs(key)).toBe(10_000);
  });

  it('second crash within the delay: backing off until finishedAt + delay, then started', () => {
    const backoff = new CrashBackoff();
    backoff.next(key, T0, T0);
    const finished = T0 + 3_000;
    const state = rs([sb()], [ctr('app', 'exited', { exitCode: 1, attempt: 1, finishedAt: BigInt(finished) * 1_000_000n })]);
    const waiting = computePodActions(p, state, input({ backoff, now: finished + 9_999 }));
    expect(waiting.containersToStart).toEqual([]);
    expect(waiting.backingOff).toEqual([{ name: 'app', retryAt: finished + 10_000, delayMs: 10_000 }]);
    expect(waiting.killPod).toBe(false);
    const ready = computePodActions(p, state, input({ backoff, now: finished + 10_000 }));
    expect(ready.containersToStart).toEqual([{ name: 'app', kind: 'regular', attempt: 2 }]);
    expect(ready.backingOff).toEqual([]);
  });

  it('a liveness kill restarts subject to the back-off of the previous exit', () => {
    const backoff = new CrashBackoff();
    backoff.next(key, T0, T0);
    const finished = T0 + 1_000;
    const old = ctr('app', 'exited', { exitCode: 1, finishedAt: BigInt(finished) * 1_000_000n });
    const cur = ctr('app', 'running', { attempt: 1 });
    const a = computePodActions(p, rs([sb()], [old, cur]), input({ backoff, now: finished + 2_000, livenessFailed: new Set([cur.id]) }));
    expect(names(a.containersToKill)).toEqual(['app']);
    expect(a.backingOff.map((b) => b.name)).toEqual(['app']);
  });
});
