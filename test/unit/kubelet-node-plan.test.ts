import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { TskubeError } from '../../src/common/errors.js';
import { defaultKubeletConfiguration } from '../../src/kubelet/options/defaults.js';
import type { KubeletOptions } from '../../src/kubelet/options/kubelet-options.js';
import { decideCgroupDriver } from '../../src/kubelet/node/cgroup-driver.js';
import { defaultRouteAddress, defaultRouteInterfaces } from '../../src/kubelet/node/default-route.js';
import { goArch, memoryFromMeminfo, pidsFromLoadavg, prettyName, systemUUIDFrom } from '../../src/kubelet/node/gather-node-facts.js';
import { leaseNeedsOwner, newLease, nodeOwnerReference, renewedLease, renewIntervalMs } from '../../src/kubelet/node/lease-plan.js';
import { nodeSettingsFromOptions, threshold, thresholdAmount } from '../../src/kubelet/node/node-settings.js';
import { apiMicroTime, apiTime, type NodeStatus } from '../../src/kubelet/node/node-wire.js';
import { describeCallFailure, runtimeConditions, runtimeVersionString } from '../../src/kubelet/node/runtime-facts.js';
import { deepEqual, mergeNodeStatus, nodeStatusChanged, planStatusReport, statusPatch } from '../../src/kubelet/node/status-report-plan.js';

const cond = (type: string, status: 'True' | 'False', reason: string, hb = '2026-01-01T00:00:00Z', tt = '2026-01-01T00:00:00Z') => ({
  type,
  status,
  reason,
  message: reason,
  lastHeartbeatTime: hb,
  lastTransitionTime: tt,
});

const base: NodeStatus = {
  capacity: { cpu: '2', memory: '8Gi' },
  allocatable: { cpu: '1900m', memory: '7Gi' },
  conditions: [cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory'), cond('Ready', 'True', 'KubeletReady')],
  addresses: [
    { type: 'InternalIP', address: '10.0.0.1' },
    { type: 'Hostname', address: 'n' },
  ],
  images: [],
};

describe('status changed or not (nodeStatusHasChanged)', () => {
  it('ignores heartbeat times', () => {
    const later = { ...base, conditions: base.conditions!.map((c) => ({ ...c, lastHeartbeatTime: '2026-01-01T00:00:10Z' })) };
    expect(nodeStatusChanged(base, later)).toBe(false);
  });

  it('sees a status, reason, message or transition change', () => {
    const flipped = { ...base, conditions: [base.conditions![0]!, cond('Ready', 'False', 'KubeletNotReady', '2026-01-01T00:00:10Z', '2026-01-01T00:00:10Z')] };
    expect(nodeStatusChanged(base, flipped)).toBe(true);
    const reworded = { ...base, conditions: [base.conditions![0]!, { ...base.conditions![1]!, message: 'other' }] };
    expect(nodeStatusChanged(base, reworded)).toBe(true);
  });

  it('sees addresses, images and resources change, but not quantity spelling or key order', () => {
    expect(nodeStatusChanged(base, { ...base, addresses: [{ type: 'Hostname', address: 'n' }] })).toBe(true);
    expect(nodeStatusChanged(base, { ...base, images: [{ names: ['x'], sizeBytes: 1 }] })).toBe(true);
    expect(nodeStatusChanged(base, { ...base, capacity: { cpu: '4', memory: '8Gi' } })).toBe(true);
    expect(nodeStatusChanged(base, { ...base, capacity: { memory: '8388608Ki', cpu: '2' } })).toBe(false);
  });

  it('treats an empty list as the absent one the apiserver returns', () => {
    const { images: _images, ...withoutImages } = base;
    expect(nodeStatusChanged(withoutImages, base)).toBe(false);
    expect(deepEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
  });

  it('is true when nothing was known', () => {
    expect(nodeStatusChanged(undefined, base)).toBe(true);
  });
});

describe('merging over the status the apiserver holds', () => {
  it("keeps other components' conditions and resources; replaces the kubelet's in place", () => {
    const current: NodeStatus = {
      ...base,
      capacity: { ...base.capacity, 'example.com/gpu': '1' },
      conditions: [cond('NetworkUnavailable', 'False', 'RouteCreated'), ...base.conditions!],
      runtimeHandlers: [{ name: 'runc' }],
    };
    const ours: NodeStatus = {
      ...base,
      conditions: [
        cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory'),
        cond('Ready', 'False', 'KubeletNotReady'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID'),
      ],
    };
    const merged = mergeNodeStatus(current, ours);
    expect(merged.conditions?.map((c) => [c.type, c.status])).toEqual([
      ['NetworkUnavailable', 'False'],
      ['MemoryPressure', 'False'],
      ['Ready', 'False'],
      ['PIDPressure', 'False'],
    ]);
    expect(merged.capacity?.['example.com/gpu']).toBe('1');
    expect(merged['runtimeHandlers']).toEqual([{ name: 'runc' }]);
  });

  it('replaces the address list whole in the patch (two InternalIPs must not fold into one)', () => {
    expect(statusPatch(base).status['addresses']).toEqual([...base.addresses!, { $patch: 'replace' }]);
    expect(statusPatch(base).status['conditions']).toEqual(base.conditions);
  });
});

describe('when to patch (nodeStatusReportFrequency)', () => {
  const heartbeat = { ...base, conditions: base.conditions!.map((c) => ({ ...c, lastHeartbeatTime: '2026-01-01T00:04:00Z' })) };

  it('patches the first time, whatever the apiserver holds', () => {
    expect(planStatusReport({ current: base, ours: heartbeat, lastReportAt: undefined, now: 1_000, reportFrequencyMs: 300_000 })).toMatchObject({
      kind: 'patch',
      why: 'report-due',
    });
  });

  it('skips an unchanged status within the report frequency', () => {
    expect(planStatusReport({ current: base, ours: heartbeat, lastReportAt: 0, now: 299_999, reportFrequencyMs: 300_000 })).toEqual({ kind: 'skip' });
  });

  it('patches an unchanged status once the report frequency has passed', () => {
    expect(planStatusReport({ current: base, ours: heartbeat, lastReportAt: 0, now: 300_000, reportFrequencyMs: 300_000 })).toMatchObject({
      kind: 'patch',
      why: 'report-due',
    });
  });

  it('patches a change at once', () => {
    const down = { ...base, conditions: [base.conditions![0]!, cond('Ready', 'False', 'KubeletNotReady')] };
    const plan = planStatusReport({ current: base, ours: down, lastReportAt: 0, now: 10_000, reportFrequencyMs: 300_000 });
    expect(plan).toMatchObject({ kind: 'patch', why: 'changed' });
    expect(plan.kind === 'patch' && plan.status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
  });
});

describe('the node lease', () => {
  const now = new Date('2026-11-23T09:00:00.123Z');

  it('renews every quarter of the duration: 10 s for 40 s', () => {
    expect(renewIntervalMs(40)).toBe(10_000);
    expect(renewIntervalMs(10)).toBe(2_500);
  });

  it('is held by the node, with a MicroTime renewTime, owned by the Node when it exists', () => {
    const owner = nodeOwnerReference({ metadata: { name: 'n', uid: 'u-1' } });
    expect(newLease({ nodeName: 'n', leaseDurationSeconds: 40, now, owner })).toEqual({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'n', namespace: 'kube-node-lease', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n', uid: 'u-1' }] },
      spec: { holderIdentity: 'n', leaseDurationSeconds: 40, renewTime: '2026-11-23T09:00:00.123000Z' },
    });
    expect(newLease({ nodeName: 'n', leaseDurationSeconds: 40, now, owner: undefined }).metadata.ownerReferences).toBeUndefined();
    expect(nodeOwnerReference({ metadata: { name: 'n' } })).toBeUndefined();
  });

  it('moves renewTime, adds a missing owner, keeps an existing one and the resourceVersion', () => {
    const lease = newLease({ nodeName: 'n', leaseDurationSeconds: 40, now, owner: undefined });
    lease.metadata.resourceVersion = '7';
    expect(leaseNeedsOwner(lease)).toBe(true);
    const owner = { apiVersion: 'v1', kind: 'Node', name: 'n', uid: 'u-2' };
    const renewed = renewedLease(lease, { nodeName: 'n', leaseDurationSeconds: 40, now: new Date('2026-11-23T09:00:10Z'), owner });
    expect(renewed.spec?.renewTime).toBe('2026-11-23T09:00:10.000000Z');
    expect(renewed.metadata.resourceVersion).toBe('7');
    expect(renewed.metadata.ownerReferences).toEqual([owner]);
    const again = renewedLease(renewed, { nodeName: 'n', leaseDurationSeconds: 40, now, owner: { ...owner, uid: 'u-3' } });
    expect(again.metadata.ownerReferences).toEqual([owner]);
  });

  it('formats metav1.Time and MicroTime as the apiserver does', () => {
    expect(apiTime(now)).toBe('2026-11-23T09:00:00Z');
    expect(apiMicroTime(now)).toBe('2026-11-23T09:00:00.123000Z');
  });
});

describe('runtime facts', () => {
  it('names the failed call, the endpoint and the time taken', () => {
    const err = new TskubeError('unavailable', 'Status: cannot reach the container runtime at unix:///x.sock: No connection established (is it running?)');
    expect(describeCallFailure('Status', 'unix:///x.sock', 2_049, err)).toBe(
      'Status call to unix:///x.sock failed after 2.0s: unavailable: Status: cannot reach the container runtime at unix:///x.sock: No connection established (is it running?)',
    );
  });

  it('says a call hung when its deadline passed', () => {
    const err = new TskubeError('deadline-exceeded', 'Status: the runtime at unix:///x.sock did not answer within 2000 ms');
    expect(describeCallFailure('Status', 'unix:///x.sock', 2_003, err)).toBe('Status call to unix:///x.sock hung: no answer within 2.0s');
  });

  it("reads RuntimeReady and NetworkReady with the runtime's reasons; a missing one is not ready", () => {
    expect(
      runtimeConditions([
        { type: 'RuntimeReady', status: true, reason: '', message: '' },
        { type: 'NetworkReady', status: false, reason: 'NetworkPluginNotReady', message: 'cni' },
      ]),
    ).toEqual({
      runtimeReady: { ok: true, reason: '', message: '' },
      networkReady: { ok: false, reason: 'NetworkPluginNotReady', message: 'cni' },
    });
    expect(runtimeConditions([]).runtimeReady).toEqual({ ok: false, reason: '', message: 'the runtime did not report RuntimeReady' });
    expect(runtimeVersionString({ runtimeName: 'containerd', runtimeVersion: '1.6.20~ds1' })).toBe('containerd://1.6.20~ds1');
  });
});

describe('the cgroup driver', () => {
  it("uses the config's value when the runtime does not implement RuntimeConfig (containerd 1.6)", () => {
    expect(decideCgroupDriver({ kind: 'unimplemented' }, 'systemd', 'unix:///c.sock')).toEqual({ ok: true, driver: 'systemd', source: 'config' });
  });

  it("uses the runtime's when they agree", () => {
    expect(decideCgroupDriver({ kind: 'answered', driver: 'cgroupfs' }, 'cgroupfs', 'unix:///c.sock')).toEqual({
      ok: true,
      driver: 'cgroupfs',
      source: 'runtime',
    });
  });

  it('is one clear error naming both values when they differ', () => {
    const d = decideCgroupDriver({ kind: 'answered', driver: 'systemd' }, 'cgroupfs', 'unix:///c.sock');
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect(d.error.code).toBe('failed-precondition');
    expect(d.error.message).toContain('the container runtime at unix:///c.sock uses "systemd"');
    expect(d.error.message).toContain('configured with cgroupDriver "cgroupfs"');
  });
});

describe('node settings from the kubelet options', () => {
  const options = (over: Partial<KubeletOptions['config']> = {}): KubeletOptions => ({
    nodeName: 'n',
    nodeIPs: ['10.0.0.1'],
    nodeLabels: { 'node.kubernetes.io/pool': 'a' },
    rootDir: '/var/lib/kubelet',
    containerLogLinksDir: '/var/log/containers',
    containerGcPeriodMs: 60_000,
    imageGcPeriodMs: 300_000,
    certDir: '/var/lib/kubelet/pki',
    verbosity: 0,
    config: { ...defaultKubeletConfiguration(), ...over },
  });

  it('takes upstream defaults: 110 pods, port 10250, 100Mi and 10% hard eviction, no reservations', () => {
    const s = nodeSettingsFromOptions(options(), 'v1.36.3');
    expect(s).toMatchObject({
      nodeName: 'n',
      nodeIPs: ['10.0.0.1'],
      kubeletPort: 10250,
      maxPods: 110,
      labels: { 'node.kubernetes.io/pool': 'a' },
      taints: [],
      reserved: { cpuMillis: 0, memoryBytes: 0, ephemeralBytes: 0 },
      evictionHard: { memoryAvailable: { kind: 'quantity', value: 100 * 2 ** 20 }, nodefsAvailable: { kind: 'percentage', value: 0.1 } },
      maxImages: 50,
    });
  });

  it('adds kubeReserved and systemReserved, and converts taints', () => {
    const s = nodeSettingsFromOptions(
      options({
        kubeReserved: { cpu: '100m', memory: '256Mi' },
        systemReserved: { cpu: '0.5', 'ephemeral-storage': '1Gi' },
        registerWithTaints: [{ key: 'k', effect: 'NoExecute' }],
      }),
      'v1.36.3',
    );
    expect(s.reserved).toEqual({ cpuMillis: 600, memoryBytes: 256 * 2 ** 20, ephemeralBytes: 2 ** 30 });
    expect(s.taints).toEqual([{ key: 'k', effect: 'NoExecute' }]);
  });

  it('names the field of a bad quantity or percentage', () => {
    expect(() => nodeSettingsFromOptions(options({ kubeReserved: { memory: 'lots' } }), 'v')).toThrow(/kubeReserved\[memory\]: invalid quantity "lots"/);
    expect(() => threshold({ 'nodefs.available': '120%' }, 'nodefs.available')).toThrow(/evictionHard\[nodefs.available\]: invalid value "120%"/);
    expect(thresholdAmount({ kind: 'percentage', value: 0.1 }, 1000)).toBe(100);
    expect(thresholdAmount(undefined, 1000)).toBe(0);
  });
});

describe('node facts helpers', () => {
  it('maps Node architectures to GOARCH', () => {
    expect(goArch('x64')).toBe('amd64');
    expect(goArch('arm64')).toBe('arm64');
    expect(goArch('ia32')).toBe('386');
  });

  it('reads PRETTY_NAME from os-release', () => {
    expect(prettyName('NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n')).toBe('Debian GNU/Linux 12 (bookworm)');
    expect(prettyName('ID=x')).toBeUndefined();
  });

  it('takes the system UUID from the first source cadvisor could read', () => {
    expect(systemUUIDFrom(['4C4C4544-0042-3510-8052-B4C04F4E4A31\n', undefined, undefined, 'm\n'])).toBe('4C4C4544-0042-3510-8052-B4C04F4E4A31');
    // No DMI (a container, some VMs): POWER's device tree ends its values in NULs.
    expect(systemUUIDFrom([undefined, 'IBM,02780ABCD\0', undefined, 'm\n'])).toBe('IBM,02780ABCD');
    // Nothing else: the machine ID, as upstream's kubelet reports it on such a node.
    expect(systemUUIDFrom([undefined, undefined, undefined, '3d1219c7c4c5404aaa1f6d2a48adfda4\n'])).toBe('3d1219c7c4c5404aaa1f6d2a48adfda4');
    // A readable but empty DMI file is taken, as cadvisor takes it.
    expect(systemUUIDFrom(['\n', undefined, undefined, 'm\n'])).toBe('');
    expect(systemUUIDFrom([undefined, undefined, undefined, undefined])).toBe('');
  });

  it('counts PIDs in use from /proc/loadavg', () => {
    expect(pidsFromLoadavg('0.42 0.30 0.25 2/345 6789\n')).toBe(345);
    expect(pidsFromLoadavg('garbage')).toBeUndefined();
  });

  it('reads total and available memory from /proc/meminfo, as systeminformation did', async () => {
    const meminfo = 'MemTotal:       24576000 kB\nMemFree:         1000000 kB\nMemAvailable:   20000000 kB\nBuffers:          100 kB\n';
    expect(memoryFromMeminfo(meminfo)).toEqual({ total: 24576000 * 1024, available: 20000000 * 1024 });
    // Kernels before 3.14 have no MemAvailable.
    const old = 'MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 10 kB\nCached: 20 kB\nSReclaimable: 5 kB\n';
    expect(memoryFromMeminfo(old)).toEqual({ total: 1000 * 1024, available: 135 * 1024 });
    // This host's figures match systeminformation's.
    const si = (await import('systeminformation')).default;
    const here = memoryFromMeminfo(await readFile('/proc/meminfo', 'utf8'));
    expect(here.total).toBe((await si.mem()).total);
  });

  const route = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0',
    'eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0',
    'down0\t00000000\t010200C0\t0002\t0\t0\t0\t00000000\t0\t0\t0',
    'cni0\t0000580A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
  ].join('\n');
  const ipv6Route = [
    `${'0'.repeat(32)} 00 ${'0'.repeat(32)} 00 ${'0'.repeat(31)}1 00000400 00000001 00000000 00000003   eth1`,
    `fe80${'0'.repeat(28)} 40 ${'0'.repeat(32)} 00 ${'0'.repeat(32)} 00000100 00000001 00000000 00000001   eth0`,
    `${'0'.repeat(32)} 00 ${'0'.repeat(32)} 00 ${'0'.repeat(32)} ffffffff 00000001 00000000 00200200       lo`,
  ].join('\n');

  it('finds the default routes that are up, IPv4 by metric before IPv6', () => {
    expect(defaultRouteInterfaces(route, ipv6Route)).toEqual(['eth0', 'wlan0', 'eth1']);
    expect(defaultRouteInterfaces('Iface\tDestination\n', '')).toEqual([]);
  });

  it("takes the default route interface's first address that is not loopback or link-local, IPv4 first", () => {
    const a = (address: string, family: 'IPv4' | 'IPv6', internal = false) => ({ address, family, internal, netmask: '', mac: '', cidr: null }) as never;
    const addrs = {
      eth0: [a('fe80::1', 'IPv6'), a('2001:db8::5', 'IPv6'), a('192.0.2.5', 'IPv4')],
      eth1: [a('fe80::2', 'IPv6'), a('2001:db8::6', 'IPv6')],
      lo: [a('127.0.0.1', 'IPv4', true)],
    };
    expect(defaultRouteAddress(['eth0', 'eth1'], addrs)).toBe('192.0.2.5');
    expect(defaultRouteAddress(['eth1'], addrs)).toBe('2001:db8::6');
    expect(defaultRouteAddress(['missing', 'lo'], addrs)).toBeUndefined();
  });
});
