import type { V1Container, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { admitPod, type AdmissionInput } from '../../src/kubelet/admission/admit-pod.js';
import { sysctlAllowlist } from '../../src/kubelet/admission/sysctls.js';
import { sysctlPatternProblem } from '../../src/kubelet/options/sysctl-names.js';

let n = 0;
function pod(spec: Partial<V1PodSpec> = {}, meta: V1Pod['metadata'] = {}): V1Pod {
  n++;
  return { metadata: { name: `p${n}`, namespace: 'default', uid: `uid-${n}`, ...meta }, spec: { nodeName: 'node-a', containers: [{ name: 'c' }], ...spec } };
}
const requests = (cpu: string, memory?: string): V1Container => ({
  name: 'c',
  resources: { requests: { cpu, ...(memory ? { memory } : {}) }, limits: { cpu, ...(memory ? { memory } : {}) } },
});

function input(over: Partial<AdmissionInput> & { pod: V1Pod }): AdmissionInput {
  return {
    activePods: [],
    node: { name: 'node-a', labels: { 'kubernetes.io/os': 'linux', zone: 'a' }, taints: [] },
    os: 'linux',
    allocatable: { cpuMillis: 2000, memoryBytes: 4 * 2 ** 30, ephemeralBytes: 100 * 2 ** 30, pods: 110 },
    sysctls: sysctlAllowlist([]),
    pressure: { memory: false, disk: false, pid: false },
    shuttingDown: false,
    appArmorEnabled: false,
    ...over,
  };
}

describe('admitPod', () => {
  it('refuses a pod that asks for an AppArmor profile where the kernel has none, as upstream words it', () => {
    const confined = pod({ securityContext: { appArmorProfile: { type: 'RuntimeDefault' } } });
    expect(admitPod(input({ pod: confined }))).toEqual({
      admit: false,
      reason: 'AppArmor',
      message: 'Cannot enforce AppArmor: AppArmor is not enabled on the host',
    });
    const annotated = pod({}, { annotations: { 'container.apparmor.security.beta.kubernetes.io/c': 'localhost/k8s-nginx' } });
    expect(admitPod(input({ pod: annotated }))).toMatchObject({ admit: false, reason: 'AppArmor' });
    // Unconfined needs nothing from the kernel; a pod that already ran is not checked again.
    expect(admitPod(input({ pod: pod({ securityContext: { appArmorProfile: { type: 'Unconfined' } } }) }))).toEqual({ admit: true, preempt: [] });
    expect(admitPod(input({ pod: { ...confined, status: { phase: 'Running' } } }))).toEqual({ admit: true, preempt: [] });
    expect(admitPod(input({ pod: confined, appArmorEnabled: true }))).toEqual({ admit: true, preempt: [] });
    expect(
      admitPod(input({ pod: pod({ securityContext: { appArmorProfile: { type: 'Localhost', localhostProfile: ' ' } } }), appArmorEnabled: true })),
    ).toMatchObject({
      admit: false,
      message: expect.stringContaining('invalid empty AppArmor profile name'),
    });
  });

  it('admits a pod that fits', () => {
    expect(admitPod(input({ pod: pod({ containers: [requests('500m', '1Gi')] }) }))).toEqual({ admit: true, preempt: [] });
  });

  it('refuses a pod whose requests exceed what is left of allocatable, with upstream reason and message', () => {
    const running = pod({ containers: [requests('1500m')] });
    const r = admitPod(input({ pod: pod({ containers: [requests('1')] }), activePods: [running] }));
    expect(r).toEqual({ admit: false, reason: 'OutOfcpu', message: "Node didn't have enough resource: cpu, requested: 1000, used: 1500, capacity: 2000" });
  });

  it('counts pods against maxPods before resources', () => {
    const r = admitPod(
      input({
        pod: pod({ containers: [requests('3')] }),
        activePods: [pod(), pod()],
        allocatable: { cpuMillis: 2000, memoryBytes: 1, ephemeralBytes: 1, pods: 2 },
      }),
    );
    expect(r).toMatchObject({ admit: false, reason: 'OutOfpods', message: "Node didn't have enough resource: pods, requested: 1, used: 2, capacity: 2" });
  });

  it('checks nodeSelector and required node affinity', () => {
    expect(admitPod(input({ pod: pod({ nodeSelector: { zone: 'b' } }) }))).toEqual({
      admit: false,
      reason: 'NodeAffinity',
      message: "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector",
    });
    const affinity = (operator: string, values: string[]) => ({
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator, values }] }] } },
    });
    expect(admitPod(input({ pod: pod({ affinity: affinity('In', ['a', 'c']) }) })).admit).toBe(true);
    expect(admitPod(input({ pod: pod({ affinity: affinity('NotIn', ['a']) }) })).admit).toBe(false);
  });

  it('refuses a pod for another OS', () => {
    expect(admitPod(input({ pod: pod({ os: { name: 'windows' } }) }))).toMatchObject({ admit: false, reason: 'PodOSNotSupported' });
    expect(admitPod(input({ pod: pod({}, { labels: { 'kubernetes.io/os': 'windows' } }) }))).toMatchObject({
      admit: false,
      reason: 'PodOSSelectorNodeLabelDoesNotMatch',
    });
  });

  it('allows safe sysctls, refuses unsafe ones unless allowedUnsafeSysctls names them', () => {
    const withSysctl = (name: string, hostNetwork = false) => pod({ hostNetwork, securityContext: { sysctls: [{ name, value: '1' }] } });
    expect(admitPod(input({ pod: withSysctl('net.ipv4.tcp_syncookies') })).admit).toBe(true);
    expect(admitPod(input({ pod: withSysctl('net.core.somaxconn') }))).toEqual({
      admit: false,
      reason: 'SysctlForbidden',
      message: 'forbidden sysctl: "net.core.somaxconn" not allowlisted',
    });
    expect(admitPod(input({ pod: withSysctl('net.core.somaxconn'), sysctls: sysctlAllowlist(['net.core.*']) })).admit).toBe(true);
    expect(admitPod(input({ pod: withSysctl('net.core.somaxconn', true), sysctls: sysctlAllowlist(['net.core.*']) }))).toMatchObject({
      message: 'forbidden sysctl: "net.core.somaxconn" not allowed with host Net enabled',
    });
    expect(sysctlPatternProblem('kernel.panic')).toBe('the sysctls "kernel.panic" are not known to be namespaced');
  });

  it('under disk pressure refuses all but critical pods; under memory pressure only BestEffort ones that do not tolerate it', () => {
    const disk = { memory: false, disk: true, pid: false };
    expect(admitPod(input({ pod: pod(), pressure: disk }))).toEqual({ admit: false, reason: 'Evicted', message: 'The node had condition: [DiskPressure]. ' });
    expect(admitPod(input({ pod: pod({ priority: 2_000_001_000 }), pressure: disk })).admit).toBe(true);
    expect(admitPod(input({ pod: pod({}, { annotations: { 'kubernetes.io/config.source': 'file' } }), pressure: disk })).admit).toBe(true);
    const memory = { memory: true, disk: false, pid: false };
    expect(admitPod(input({ pod: pod(), pressure: memory })).admit).toBe(false);
    expect(admitPod(input({ pod: pod({ containers: [requests('100m')] }), pressure: memory })).admit).toBe(true);
    const tolerant = pod({ tolerations: [{ key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' }] });
    expect(admitPod(input({ pod: tolerant, pressure: memory })).admit).toBe(true);
  });

  it('refuses untolerated NoExecute taints, except for static pods', () => {
    const node = { name: 'node-a', labels: {}, taints: [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }] };
    expect(admitPod(input({ pod: pod(), node }))).toMatchObject({ reason: 'TaintToleration' });
    expect(admitPod(input({ pod: pod({ tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db' }] }), node })).admit).toBe(true);
    expect(admitPod(input({ pod: pod({}, { annotations: { 'kubernetes.io/config.source': 'file' } }), node })).admit).toBe(true);
  });

  it('refuses a host port another pod holds', () => {
    const hp = (hostIP?: string): V1Container => ({ name: 'c', ports: [{ containerPort: 80, hostPort: 8080, ...(hostIP ? { hostIP } : {}) }] });
    expect(admitPod(input({ pod: pod({ containers: [hp()] }), activePods: [pod({ containers: [hp('127.0.0.1')] })] }))).toMatchObject({ reason: 'NodePorts' });
    expect(admitPod(input({ pod: pod({ containers: [hp('127.0.0.2')] }), activePods: [pod({ containers: [hp('127.0.0.1')] })] })).admit).toBe(true);
  });

  it('lets a critical pod preempt the fewest, lowest-QoS pods that make it fit', () => {
    const guaranteed = pod({ containers: [requests('1')] });
    const burstable = pod({ containers: [{ name: 'c', resources: { requests: { cpu: '600m' } } }] });
    const critical = pod({ priority: 2_000_000_000, containers: [requests('1')] });
    const r = admitPod(input({ pod: critical, activePods: [guaranteed, burstable] }));
    expect(r).toEqual({ admit: true, preempt: [burstable] });
    // Another critical pod is never preempted.
    const other = pod({ priority: 2_000_000_000, containers: [requests('1')] });
    const plain = pod({ containers: [requests('1')] });
    expect(admitPod(input({ pod: critical, activePods: [other, plain] }))).toEqual({ admit: true, preempt: [plain] });
    expect(admitPod(input({ pod: pod({ priority: 2_000_000_000, containers: [requests('3')] }) }))).toMatchObject({
      admit: false,
      reason: 'UnexpectedAdmissionError',
    });
  });

  it('refuses pods while the node shuts down', () => {
    expect(admitPod(input({ pod: pod(), shuttingDown: true }))).toEqual({
      admit: false,
      reason: 'NodeShutdown',
      message: 'Pod was rejected as the node is shutting down.',
    });
  });
});
