import type { V1Container, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { planTermination, podGracePeriodSeconds, terminationComplete } from '../../src/kubelet/pods/plan-termination.js';
import type { ContainerState, PodRuntimeState, SandboxState } from '../../src/kubelet/pods/runtime-state.js';

function pod(spec: Partial<V1PodSpec>, meta: V1Pod['metadata'] = {}): V1Pod {
  return { metadata: { name: 'web', namespace: 'default', uid: 'uid-1', ...meta }, spec: { containers: [], ...spec } };
}
const c = (name: string, extra: Partial<V1Container> = {}): V1Container => ({ name, image: `img-${name}`, ...extra });
const sidecar = (name: string, extra: Partial<V1Container> = {}): V1Container => c(name, { restartPolicy: 'Always', ...extra });
const preStop = { lifecycle: { preStop: { exec: { command: ['sleep', '5'] } } } };

const sb = (over: Partial<SandboxState> = {}): SandboxState => ({
  id: 'sandbox-0123456789abcdef',
  attempt: 0,
  phase: 'ready',
  createdAt: 1n,
  ips: ['10.0.0.5'],
  hostNetwork: false,
  ...over,
});
const ctr = (name: string, phase: ContainerState['phase'] = 'running'): ContainerState => ({
  id: `id-${name}`,
  name,
  sandboxId: 'sandbox-0123456789abcdef',
  attempt: 0,
  phase,
  createdAt: 1n,
  image: `img-${name}`,
  imageRef: '',
});
const rs = (sandboxes: SandboxState[], containers: ContainerState[]): PodRuntimeState => ({
  uid: 'uid-1',
  name: 'web',
  namespace: 'default',
  sandboxes,
  containers,
});

describe('planTermination', () => {
  const spec = { initContainers: [sidecar('log'), c('migrate'), sidecar('proxy')], containers: [c('web', preStop), c('worker')] };

  it('main containers together, then sidecars in reverse spec order, then the sandbox', () => {
    const state = rs([sb()], [ctr('log'), ctr('proxy'), ctr('worker'), ctr('web'), ctr('migrate', 'exited')]);
    const steps = planTermination(pod(spec), state, 30);
    expect(steps.map((s) => [s.kind, s.containers.map((t) => t.name), s.sandboxIds])).toEqual([
      ['stop-containers', ['web', 'worker'], []],
      ['stop-containers', ['proxy'], []],
      ['stop-containers', ['log'], []],
      ['stop-sandbox', [], ['sandbox-0123456789abcdef']],
    ]);
    expect(steps[0]?.containers).toEqual([
      { id: 'id-web', name: 'web', preStop: true },
      { id: 'id-worker', name: 'worker', preStop: false },
    ]);
    expect(steps.map((s) => s.description)).toEqual([
      'waiting for containers web, worker to stop after the preStop hook of web (grace 30s)',
      'waiting for sidecar container proxy to stop (grace 30s)',
      'waiting for sidecar container log to stop (grace 30s)',
      'stopping pod sandbox sandbox-01234',
    ]);
  });

  it('re-planned after the main containers exited: the sidecars are next, with the grace left', () => {
    const state = rs([sb()], [ctr('log'), ctr('proxy'), ctr('web', 'exited'), ctr('worker', 'exited')]);
    const steps = planTermination(pod(spec), state, 12);
    expect(steps[0]).toEqual({
      kind: 'stop-containers',
      containers: [{ id: 'id-proxy', name: 'proxy', preStop: false }],
      sandboxIds: [],
      graceSeconds: 12,
      description: 'waiting for sidecar container proxy to stop (grace 12s)',
    });
  });

  it('one container with a preStop hook', () => {
    const [step] = planTermination(pod({ containers: [c('web', preStop)] }), rs([sb()], [ctr('web')]), 30);
    expect(step?.description).toBe('waiting for container web to stop after its preStop hook (grace 30s)');
  });

  it('no grace left: no preStop hook, and never less than the 2s minimum to stop', () => {
    const [step] = planTermination(pod({ containers: [c('web', preStop)] }), rs([sb()], [ctr('web')]), 0);
    expect(step?.containers[0]?.preStop).toBe(false);
    expect(step?.graceSeconds).toBe(2);
    expect(step?.description).toBe('waiting for container web to stop (grace 2s)');
  });

  it('containers not in the spec and running init containers are stopped with the main ones', () => {
    const steps = planTermination(pod(spec), rs([sb()], [ctr('stray'), ctr('migrate')]), 30);
    expect(steps[0]?.containers.map((t) => t.name)).toEqual(['migrate', 'stray']);
  });

  it('a container in unknown state is stopped; created and exited ones are not', () => {
    const steps = planTermination(
      pod({ containers: [c('a'), c('b'), c('d')] }),
      rs([sb()], [ctr('a', 'unknown'), ctr('b', 'created'), ctr('d', 'exited')]),
      30,
    );
    expect(steps[0]?.containers.map((t) => t.name)).toEqual(['a']);
  });

  it('nothing running: only the sandboxes, every one of them', () => {
    const steps = planTermination(pod(spec), rs([sb({ id: 'new-sandbox-id-1' }), sb({ id: 'old-sandbox-id-0', phase: 'not-ready' })], []), 30);
    expect(steps).toEqual([
      {
        kind: 'stop-sandbox',
        containers: [],
        sandboxIds: ['new-sandbox-id-1', 'old-sandbox-id-0'],
        graceSeconds: 0,
        description: 'stopping pod sandboxes new-sandbox-i, old-sandbox-i',
      },
    ]);
  });

  it('nothing at all: no steps', () => {
    expect(planTermination(pod(spec), rs([], []), 30)).toEqual([]);
  });
});

describe('terminationComplete', () => {
  it.each([
    ['a container runs', [sb({ phase: 'not-ready' })], [ctr('web')], false],
    ['a container is unknown', [sb({ phase: 'not-ready' })], [ctr('web', 'unknown')], false],
    ['the sandbox is still ready', [sb()], [ctr('web', 'exited')], false],
    ['everything stopped', [sb({ phase: 'not-ready' })], [ctr('web', 'exited'), ctr('x', 'created')], true],
    ['nothing left', [], [], true],
  ] as const)('%s: %s', (_, sandboxes, containers, done) => {
    expect(terminationComplete(rs([...sandboxes], [...containers]))).toBe(done);
  });
});

describe('podGracePeriodSeconds', () => {
  it.each([
    ['default', pod({}), undefined, 30],
    ['spec', pod({ terminationGracePeriodSeconds: 60 }), undefined, 60],
    ['deletion request', pod({ terminationGracePeriodSeconds: 60 }, { deletionGracePeriodSeconds: 5 }), undefined, 5],
    ['override', pod({ terminationGracePeriodSeconds: 60 }, { deletionGracePeriodSeconds: 5 }), 1, 1],
  ] as const)('%s', (_, p, override, seconds) => {
    expect(podGracePeriodSeconds(p, override)).toBe(seconds);
  });
});
