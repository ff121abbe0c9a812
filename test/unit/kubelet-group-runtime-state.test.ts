import { describe, expect, it } from 'vitest';
import type { Container__Output } from '../../src/gen/cri/runtime/v1/Container.js';
import type { PodSandbox__Output } from '../../src/gen/cri/runtime/v1/PodSandbox.js';
import type { ContainerStatus__Output } from '../../src/gen/cri/runtime/v1/ContainerStatus.js';
import type { PodSandboxStatus__Output } from '../../src/gen/cri/runtime/v1/PodSandboxStatus.js';
import { groupRuntimeState } from '../../src/kubelet/runtime/group-runtime-state.js';

const podLabels = (uid: string) => ({ 'io.kubernetes.pod.uid': uid, 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.namespace': 'default' });

function sandbox(id: string, uid: string, createdAt: string, state = 'SANDBOX_READY', attempt = 0): PodSandbox__Output {
  return {
    id,
    metadata: { name: 'web', uid, namespace: 'default', attempt },
    state,
    createdAt,
    labels: podLabels(uid),
    annotations: {},
    runtimeHandler: '',
  } as PodSandbox__Output;
}
function container(id: string, uid: string, name: string, createdAt: string, state: string, attempt = 0): Container__Output {
  return {
    id,
    podSandboxId: 's1',
    metadata: { name, attempt },
    image: { image: 'busybox', annotations: {}, userSpecifiedImage: 'busybox:1', runtimeHandler: '' },
    imageRef: 'sha256:abc',
    state,
    createdAt,
    labels: { ...podLabels(uid), 'io.kubernetes.container.name': name },
    annotations: { 'io.kubernetes.container.hash': 'h1' },
  } as unknown as Container__Output;
}

describe('groupRuntimeState', () => {
  it('groups by pod UID, newest first, with IPs and exit details from status', () => {
    const pods = groupRuntimeState({
      sandboxes: [sandbox('s0', 'u1', '100', 'SANDBOX_NOTREADY'), sandbox('s1', 'u1', '200', 'SANDBOX_READY', 1), { ...sandbox('x', '', '1'), labels: {} }],
      containers: [container('c1', 'u1', 'app', '300', 'CONTAINER_EXITED', 0), container('c2', 'u1', 'app', '400', 'CONTAINER_RUNNING', 1)],
      sandboxStatuses: new Map([
        [
          's1',
          {
            network: { ip: '10.88.0.5', additionalIps: [{ ip: 'fd00::5' }] },
            linux: { namespaces: { options: { network: 'POD' } } },
          } as unknown as PodSandboxStatus__Output,
        ],
      ]),
      containerStatuses: new Map([
        ['c1', { state: 'CONTAINER_EXITED', exitCode: 2, reason: 'Error', message: '', startedAt: '310', finishedAt: '320' } as ContainerStatus__Output],
        ['c2', { state: 'CONTAINER_RUNNING', exitCode: 0, reason: '', message: '', startedAt: '410', finishedAt: '0' } as ContainerStatus__Output],
      ]),
    });
    expect([...pods.keys()]).toEqual(['u1']);
    const p = pods.get('u1')!;
    expect(p.sandboxes.map((s) => [s.id, s.phase, s.attempt, s.ips])).toEqual([
      ['s1', 'ready', 1, ['10.88.0.5', 'fd00::5']],
      ['s0', 'not-ready', 0, []],
    ]);
    expect(p.containers[0]).toMatchObject({ id: 'c2', name: 'app', phase: 'running', attempt: 1, startedAt: 410n, image: 'busybox:1', specHash: 'h1' });
    expect(p.containers[0]?.finishedAt).toBeUndefined();
    expect(p.containers[0]?.exitCode).toBeUndefined();
    expect(p.containers[1]).toMatchObject({ id: 'c1', phase: 'exited', exitCode: 2, reason: 'Error', finishedAt: 320n });
  });
});
