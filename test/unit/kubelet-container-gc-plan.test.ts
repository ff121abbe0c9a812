import { describe, expect, it } from 'vitest';
import { planContainerGc } from '../../src/kubelet/gc/plan-container-gc.js';
import type { ContainerPhase, ContainerState, PodRuntimeState, SandboxState } from '../../src/kubelet/pods/runtime-state.js';

const sandbox = (id: string, createdAt: number, phase: SandboxState['phase'] = 'ready'): SandboxState => ({
  id,
  attempt: 0,
  phase,
  createdAt: BigInt(createdAt),
  ips: [],
  hostNetwork: false,
});
const container = (id: string, name: string, attempt: number, phase: ContainerPhase, sandboxId = 's1'): ContainerState => ({
  id,
  name,
  sandboxId,
  attempt,
  phase,
  createdAt: BigInt(attempt * 1000 + 1),
  image: 'img',
  imageRef: 'sha256:1',
});
const pod = (containers: ContainerState[], sandboxes: SandboxState[] = [sandbox('s1', 1)]): PodRuntimeState => ({
  uid: 'u1',
  name: 'web',
  namespace: 'default',
  sandboxes,
  containers,
});
const removedIds = (p: PodRuntimeState) => planContainerGc([p]).containers.map((c) => c.id);

describe('planContainerGc', () => {
  it('keeps the running instance and the newest dead one; older dead ones go', () => {
    const p = pod([
      container('c3', 'app', 3, 'running'),
      container('c2', 'app', 2, 'exited'),
      container('c1', 'app', 1, 'exited'),
      container('c0', 'app', 0, 'exited'),
    ]);
    expect(removedIds(p)).toEqual(['c1', 'c0']);
    expect(planContainerGc([p]).containers[0]).toEqual({ id: 'c1', podUid: 'u1', podName: 'web', podNamespace: 'default', containerName: 'app', attempt: 1 });
  });

  it('keeps only the newest instance when it is dead itself (a container in back-off)', () => {
    expect(removedIds(pod([container('c2', 'app', 2, 'exited'), container('c1', 'app', 1, 'exited'), container('c0', 'app', 0, 'exited')]))).toEqual([
      'c1',
      'c0',
    ]);
  });

  it('keeps the newest instance of every container name, whatever its state', () => {
    const p = pod([container('i1', 'init-a', 0, 'exited'), container('i2', 'init-b', 0, 'exited'), container('m', 'main', 0, 'exited')]);
    expect(removedIds(p)).toEqual([]);
  });

  it('never removes a running or unknown instance, even an old one', () => {
    expect(removedIds(pod([container('c2', 'app', 2, 'exited'), container('c1', 'app', 1, 'running'), container('c0', 'app', 0, 'unknown')]))).toEqual([]);
  });

  it('orders by creation time, not by the order the runtime listed', () => {
    expect(removedIds(pod([container('c0', 'app', 0, 'exited'), container('c2', 'app', 2, 'running'), container('c1', 'app', 1, 'exited')]))).toEqual(['c0']);
    expect(removedIds(pod([container('c0', 'app', 0, 'exited'), container('c1', 'app', 1, 'exited'), container('c2', 'app', 2, 'exited')]))).toEqual([
      'c1',
      'c0',
    ]);
  });

  it('removes a dead sandbox that is not the newest once its containers are all going', () => {
    const old = sandbox('s0', 1, 'not-ready');
    const current = sandbox('s1', 2);
    const p = pod([container('c1', 'app', 1, 'running', 's1'), container('c0', 'app', 0, 'exited', 's0')], [current, old]);
    expect(planContainerGc([p]).sandboxes).toEqual([]);
    const p2 = pod(
      [container('c2', 'app', 2, 'running', 's1'), container('c1', 'app', 1, 'exited', 's1'), container('c0', 'app', 0, 'exited', 's0')],
      [current, old],
    );
    expect(planContainerGc([p2])).toMatchObject({ containers: [{ id: 'c0' }], sandboxes: [{ id: 's0', podUid: 'u1' }] });
  });

  it('keeps the newest sandbox even when it is not ready, and any ready one', () => {
    const p = pod([], [sandbox('s1', 2, 'not-ready'), sandbox('s0', 1)]);
    expect(planContainerGc([p]).sandboxes).toEqual([]);
  });
});
