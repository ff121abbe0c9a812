import { describe, expect, it } from 'vitest';
import { buildNode, buildNodeStatus, nodeImages, nodeLabels, notReadyMessage, readyCondition } from '../../src/kubelet/node/build-node.js';
import type { NodeFacts, RuntimeFacts } from '../../src/kubelet/node/node-facts.js';
import type { NodeSettings } from '../../src/kubelet/node/node-settings.js';
import { reconcileExistingNode } from '../../src/kubelet/node/reconcile-node.js';
import { formatBytes, formatCpuMillis, sameResources } from '../../src/kube/quantity.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

const facts: NodeFacts = {
  hostname: 'vm',
  kernelVersion: '6.1.0-18-amd64',
  osImage: 'Debian GNU/Linux 12 (bookworm)',
  architecture: 'amd64',
  operatingSystem: 'linux',
  machineID: 'm-1',
  systemUUID: 'u-1',
  bootID: 'b-1',
  hostIPs: ['192.0.2.2'],
  cpuCores: 2,
  memoryBytes: 8 * GiB,
  memoryAvailableBytes: 6 * GiB,
  rootfsBytes: 100 * GiB,
  rootfsAvailableBytes: 50 * GiB,
  pidsInUse: 300,
  pidMax: 4_194_304,
};

const settings: NodeSettings = {
  nodeName: 'node-1',
  nodeIPs: [],
  kubeletVersion: 'v1.36.3',
  kubeletPort: 10250,
  maxPods: 110,
  labels: {},
  taints: [],
  providerID: '',
  reserved: { cpuMillis: 0, memoryBytes: 0, ephemeralBytes: 0 },
  evictionHard: { memoryAvailable: { kind: 'quantity', value: 100 * MiB }, nodefsAvailable: { kind: 'percentage', value: 0.1 } },
  maxImages: 50,
};

const up: RuntimeFacts = {
  runtimeVersion: 'containerd://1.6.20~ds1',
  runtimeReady: { ok: true, reason: '', message: '' },
  networkReady: { ok: true, reason: '', message: '' },
};

const t0 = new Date('2026-11-23T09:00:00.123Z');
const t1 = new Date('2026-11-23T09:00:10.456Z');
const status = (over: Partial<Parameters<typeof buildNodeStatus>[0]> = {}) => buildNodeStatus({ facts, runtime: up, settings, images: [], now: t0, ...over });

describe('labels, taints and the registered Node', () => {
  it('sets the well-known labels from the node name and GOOS/GOARCH', () => {
    expect(nodeLabels(facts, settings)).toEqual({
      'kubernetes.io/hostname': 'node-1',
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'beta.kubernetes.io/os': 'linux',
      'beta.kubernetes.io/arch': 'amd64',
    });
  });

  it('lets --node-labels add to and override the defaults, as upstream does', () => {
    const labels = nodeLabels(facts, { ...settings, labels: { 'node-role.kubernetes.io/worker': '', 'kubernetes.io/hostname': 'other' } });
    expect(labels['node-role.kubernetes.io/worker']).toBe('');
    expect(labels['kubernetes.io/hostname']).toBe('other');
  });

  it('registers with the taints, the attach/detach annotation and the provider ID', () => {
    const node = buildNode(facts, { ...settings, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }], providerID: 'kind://docker/x' });
    expect(node.metadata.name).toBe('node-1');
    expect(node.metadata.annotations).toEqual({ 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' });
    expect(node.spec).toEqual({ taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }], providerID: 'kind://docker/x' });
    expect(node.status).toBeUndefined();
  });

  it('leaves spec.taints out when there are none, and carries a first status when given one', () => {
    const node = buildNode(facts, settings, status());
    expect(node.spec).toEqual({});
    expect(readyCondition(node.status)?.status).toBe('True');
  });
});

describe('capacity and allocatable', () => {
  it('reports cpu, memory, pods, ephemeral-storage and hugepages in canonical quantities', () => {
    expect(status().capacity).toEqual({
      cpu: '2',
      memory: '8Gi',
      pods: '110',
      'ephemeral-storage': '100Gi',
      'hugepages-1Gi': '0',
      'hugepages-2Mi': '0',
    });
  });

  it('subtracts kube+system reserved and the hard eviction thresholds', () => {
    const s = status({ settings: { ...settings, reserved: { cpuMillis: 100, memoryBytes: 256 * MiB, ephemeralBytes: GiB } } });
    expect(s.allocatable).toMatchObject({
      cpu: '1900m',
      // 8Gi - 256Mi - 100Mi
      memory: `${8 * 1024 - 356}Mi`,
      // 100Gi - 1Gi - 10% of 100Gi
      'ephemeral-storage': `${(100 * GiB - GiB - 10 * GiB) / GiB}Gi`,
      pods: '110',
    });
  });

  it('never goes below zero', () => {
    const s = status({ settings: { ...settings, reserved: { cpuMillis: 5000, memoryBytes: 16 * GiB, ephemeralBytes: 0 } } });
    expect(s.allocatable?.['cpu']).toBe('0');
    expect(s.allocatable?.['memory']).toBe('0');
  });

  it('writes quantities as the apiserver canonicalises them', () => {
    expect(formatBytes(0)).toBe('0');
    expect(formatBytes(1000)).toBe('1000');
    expect(formatBytes(16374512 * 1024)).toBe('16374512Ki');
    expect(formatBytes(2 * MiB)).toBe('2Mi');
    expect(formatBytes(47093746742)).toBe('47093746742');
    expect(formatCpuMillis(2000)).toBe('2');
    expect(formatCpuMillis(1900)).toBe('1900m');
    expect(formatCpuMillis(-5)).toBe('0');
    expect(sameResources({ memory: '1Gi' }, { memory: '1048576Ki' })).toBe(true);
    expect(sameResources({ memory: '1Gi' }, { memory: '1Mi' })).toBe(false);
    expect(sameResources({ memory: '1Gi' }, { memory: '1Gi', cpu: '1' })).toBe(false);
  });
});

describe('conditions', () => {
  it('reports the upstream conditions, reasons and messages, Ready last', () => {
    expect(status().conditions?.map((c) => [c.type, c.status, c.reason, c.message])).toEqual([
      ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
      ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
      ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
      ['Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'],
    ]);
  });

  it('reports pressure when the hard eviction thresholds are crossed', () => {
    const s = status({
      facts: { ...facts, memoryAvailableBytes: 50 * MiB, rootfsAvailableBytes: 5 * GiB, pidsInUse: 4_190_000 },
      settings: { ...settings, evictionHard: { ...settings.evictionHard, pidAvailable: { kind: 'percentage', value: 0.01 } } },
    });
    expect(s.conditions?.slice(0, 3).map((c) => [c.type, c.status, c.reason, c.message])).toEqual([
      ['MemoryPressure', 'True', 'KubeletHasInsufficientMemory', 'kubelet has insufficient memory available'],
      ['DiskPressure', 'True', 'KubeletHasDiskPressure', 'kubelet has disk pressure'],
      ['PIDPressure', 'True', 'KubeletHasInsufficientPID', 'kubelet has insufficient PID available'],
    ]);
  });

  it('reports no PID pressure without a pid.available threshold (upstream has none by default)', () => {
    const s = status({ facts: { ...facts, pidsInUse: facts.pidMax } });
    expect(s.conditions?.find((c) => c.type === 'PIDPressure')?.status).toBe('False');
  });

  it('writes heartbeat and transition times as metav1.Time (seconds)', () => {
    const ready = readyCondition(status());
    expect(ready?.lastHeartbeatTime).toBe('2026-11-23T09:00:00Z');
    expect(ready?.lastTransitionTime).toBe('2026-11-23T09:00:00Z');
  });

  it('keeps lastTransitionTime while the status holds, moves it when it flips', () => {
    const first = status();
    const same = status({ now: t1, previous: first });
    expect(readyCondition(same)?.lastHeartbeatTime).toBe('2026-11-23T09:00:10Z');
    expect(readyCondition(same)?.lastTransitionTime).toBe('2026-11-23T09:00:00Z');
    const down = status({ now: t1, previous: first, runtime: { ...up, unreachable: 'Status call to unix:///x failed after 0.0s: unavailable: no' } });
    expect(readyCondition(down)?.lastTransitionTime).toBe('2026-11-23T09:00:10Z');
    // Other conditions did not flip: their transition times stay.
    expect(down.conditions?.find((c) => c.type === 'MemoryPressure')?.lastTransitionTime).toBe('2026-11-23T09:00:00Z');
  });
});

describe('Ready=False messages', () => {
  const runtimeDown: RuntimeFacts = {
    ...up,
    unreachable: 'Status call to unix:///run/containerd/containerd.sock failed after 2.0s: unavailable: connection refused',
    runtimeReady: { ok: false, reason: 'RuntimeUnreachable', message: 'x' },
    networkReady: { ok: false, reason: 'RuntimeUnreachable', message: 'x' },
  };

  it('names the CRI call that failed when the runtime is unreachable', () => {
    expect(notReadyMessage(runtimeDown)).toBe(
      'container runtime is down: Status call to unix:///run/containerd/containerd.sock failed after 2.0s: unavailable: connection refused',
    );
    const ready = readyCondition(status({ runtime: runtimeDown }));
    expect(ready).toMatchObject({ status: 'False', reason: 'KubeletNotReady' });
  });

  it("carries the runtime's own reason when RuntimeReady is false", () => {
    const r = { ...up, runtimeReady: { ok: false, reason: 'ContainerdNotReady', message: 'containerd is starting' } };
    expect(notReadyMessage(r)).toBe('container runtime not ready: RuntimeReady=false reason:ContainerdNotReady message:containerd is starting');
  });

  it("carries the runtime's own reason when NetworkReady is false", () => {
    const r = { ...up, networkReady: { ok: false, reason: 'NetworkPluginNotReady', message: 'Network plugin returns error: cni plugin not initialized' } };
    expect(readyCondition(status({ runtime: r }))?.message).toBe(
      'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
    );
  });

  it('joins both with "," as upstream does', () => {
    const r = { ...up, runtimeReady: { ok: false, reason: 'A', message: 'a' }, networkReady: { ok: false, reason: 'B', message: 'b' } };
    expect(notReadyMessage(r)).toBe(
      'container runtime not ready: RuntimeReady=false reason:A message:a,container runtime network not ready: NetworkReady=false reason:B message:b',
    );
  });

  it('is undefined when the runtime is fine', () => {
    expect(notReadyMessage(up)).toBeUndefined();
  });
});

describe('addresses, nodeInfo, daemon endpoints and images', () => {
  it('uses --node-ip when given, else the host address, and the node name as Hostname', () => {
    expect(status().addresses).toEqual([
      { type: 'InternalIP', address: '192.0.2.2' },
      { type: 'Hostname', address: 'node-1' },
    ]);
    expect(status({ settings: { ...settings, nodeIPs: ['10.0.0.5', 'fd00::5'] } }).addresses).toEqual([
      { type: 'InternalIP', address: '10.0.0.5' },
      { type: 'InternalIP', address: 'fd00::5' },
      { type: 'Hostname', address: 'node-1' },
    ]);
    expect(status({ facts: { ...facts, hostIPs: [] } }).addresses).toEqual([{ type: 'Hostname', address: 'node-1' }]);
  });

  it('fills nodeInfo and the kubelet endpoint', () => {
    const s = status();
    expect(s.nodeInfo).toEqual({
      machineID: 'm-1',
      systemUUID: 'u-1',
      bootID: 'b-1',
      kernelVersion: '6.1.0-18-amd64',
      osImage: 'Debian GNU/Linux 12 (bookworm)',
      containerRuntimeVersion: 'containerd://1.6.20~ds1',
      kubeletVersion: 'v1.36.3',
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: 'amd64',
    });
    expect(s.daemonEndpoints).toEqual({ kubeletEndpoint: { Port: 10250 } });
  });

  it('lists images largest first, at most 5 names each, at most nodeStatusMaxImages', () => {
    const images = [
      { names: ['small'], sizeBytes: 1 },
      { names: ['a', 'b', 'c', 'd', 'e', 'f'], sizeBytes: 100 },
      { names: [], sizeBytes: 1000 },
      { names: ['mid'], sizeBytes: 10 },
    ];
    expect(nodeImages(images, 50)).toEqual([
      { names: ['a', 'b', 'c', 'd', 'e'], sizeBytes: 100 },
      { names: ['mid'], sizeBytes: 10 },
      { names: ['small'], sizeBytes: 1 },
    ]);
    expect(nodeImages(images, 1).map((i) => i.names[0])).toEqual(['a']);
    expect(nodeImages(images, 0)).toEqual([]);
    expect(nodeImages(images, -1)).toHaveLength(3);
  });
});

describe('re-registration', () => {
  const wanted = buildNode(facts, { ...settings, labels: { 'node.kubernetes.io/pool': 'a' }, taints: [{ key: 'k', effect: 'NoSchedule' }] });

  it('changes nothing when the existing Node has what the kubelet owns', () => {
    expect(reconcileExistingNode(wanted, { metadata: { ...wanted.metadata, labels: { ...wanted.metadata.labels, extra: 'x' } } })).toBeUndefined();
  });

  it('puts back default labels and the attach/detach annotation, and only those', () => {
    const existing = {
      metadata: {
        name: 'node-1',
        labels: { ...wanted.metadata.labels, 'kubernetes.io/arch': 'arm64', 'node.kubernetes.io/pool': 'b' },
        annotations: {},
      },
      spec: {},
    };
    expect(reconcileExistingNode(wanted, existing)).toEqual({
      metadata: {
        labels: { 'kubernetes.io/arch': 'amd64' },
        annotations: { 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
      },
    });
  });

  it('removes a default label whose wanted value is empty', () => {
    const w = { metadata: { labels: { 'kubernetes.io/hostname': '' } } };
    expect(reconcileExistingNode(w, { metadata: { labels: { 'kubernetes.io/hostname': 'old' }, annotations: {} } })).toEqual({
      metadata: { labels: { 'kubernetes.io/hostname': null } },
    });
  });
});
