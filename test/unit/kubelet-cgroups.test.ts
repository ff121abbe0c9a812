import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parseOtherV1Hierarchies, parseV1Mounts } from '../../src/kubelet/cm/cgroup-layout.js';
import { cgroupLiteral, parseCgroupRoot, podCgroupName } from '../../src/kubelet/cm/cgroup-names.js';
import { cgroupRemovalDirs, cpuSharesToWeight, planCgroupWrites } from '../../src/kubelet/cm/plan-cgroup-writes.js';
import { burstableCpuShares, kubepodsResourceConfig, podResourceConfig } from '../../src/kubelet/cm/resource-config.js';

const pod = (containers: V1Container[], uid = '1a2b-3c'): V1Pod => ({ metadata: { uid }, spec: { containers } });
const c = (requests?: Record<string, string>, limits?: Record<string, string>): V1Container => ({ name: 'c', resources: { requests, limits } });
const opts = { enforceCpuLimits: true, cpuPeriodUs: 100_000, podPidsLimit: -1 };

describe('cgroup names', () => {
  it('spells pod cgroups as upstream does for both drivers', () => {
    const burstable = pod([c({ cpu: '100m' })]);
    expect(cgroupLiteral(podCgroupName([], burstable), 'cgroupfs')).toBe('/kubepods/burstable/pod1a2b-3c');
    expect(cgroupLiteral(podCgroupName([], burstable), 'systemd')).toBe('/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1a2b_3c.slice');
    const guaranteed = pod([c({ cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })]);
    expect(cgroupLiteral(podCgroupName(parseCgroupRoot('/custom', 'cgroupfs'), guaranteed), 'cgroupfs')).toBe('/custom/kubepods/pod1a2b-3c');
    expect(cgroupLiteral(podCgroupName([], pod([c()])), 'systemd')).toBe('/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1a2b_3c.slice');
    expect(parseCgroupRoot('custom.slice', 'systemd')).toEqual(['custom']);
  });
});

describe('resource configs', () => {
  it('gives Guaranteed pods shares, quota and a memory limit; Burstable ones limits only when every container has them; BestEffort the minimum', () => {
    expect(podResourceConfig(pod([c({ cpu: '250m', memory: '64Mi' }, { cpu: '250m', memory: '64Mi' })]), { ...opts, podPidsLimit: 100 })).toEqual({
      cpuShares: 256,
      cpuQuota: 25_000,
      cpuPeriod: 100_000,
      memoryLimitBytes: 64 * 2 ** 20,
      pidsLimit: 100,
    });
    expect(podResourceConfig(pod([c({ cpu: '100m' }, { memory: '128Mi' })]), opts)).toEqual({ cpuShares: 102, memoryLimitBytes: 128 * 2 ** 20 });
    expect(podResourceConfig(pod([c({ cpu: '100m' }, { memory: '128Mi' }), { name: 'd' }]), opts)).toEqual({ cpuShares: 102 });
    expect(podResourceConfig(pod([c()]), opts)).toEqual({ cpuShares: 2 });
    expect(burstableCpuShares([pod([c({ cpu: '100m' })]), pod([c({ cpu: '400m' })]), pod([c()])])).toBe(512);
  });

  it('limits kubepods to capacity, or to allocatable when enforced', () => {
    const cap = { cpuMillis: 2000, memoryBytes: 8 * 2 ** 30, pids: 4_194_304 };
    const reserved = { cpuMillis: 500, memoryBytes: 2 ** 30, pids: 1000 };
    expect(kubepodsResourceConfig(cap, reserved, false)).toEqual({ cpuShares: 2048, memoryLimitBytes: 8 * 2 ** 30, pidsLimit: 4_194_304 });
    expect(kubepodsResourceConfig(cap, reserved, true)).toEqual({ cpuShares: 1536, memoryLimitBytes: 7 * 2 ** 30, pidsLimit: 4_193_304 });
  });
});

describe('cgroup file plans', () => {
  const config = { cpuShares: 256, cpuQuota: 25_000, cpuPeriod: 100_000, memoryLimitBytes: 67108864, pidsLimit: 100 };

  it('on cgroup v2: enables the controllers down the tree, then cpu.weight, cpu.max, memory.max, pids.max', () => {
    expect(planCgroupWrites({ version: 2, root: '/sys/fs/cgroup' }, '/kubepods/pod1', config)).toEqual([
      { kind: 'write', file: '/sys/fs/cgroup/cgroup.subtree_control', value: '+cpu +memory +pids' },
      { kind: 'mkdir', dir: '/sys/fs/cgroup/kubepods' },
      { kind: 'write', file: '/sys/fs/cgroup/kubepods/cgroup.subtree_control', value: '+cpu +memory +pids' },
      { kind: 'mkdir', dir: '/sys/fs/cgroup/kubepods/pod1' },
      { kind: 'write', file: '/sys/fs/cgroup/kubepods/pod1/cpu.weight', value: '10' },
      { kind: 'write', file: '/sys/fs/cgroup/kubepods/pod1/cpu.max', value: '25000 100000' },
      { kind: 'write', file: '/sys/fs/cgroup/kubepods/pod1/memory.max', value: '67108864' },
      { kind: 'write', file: '/sys/fs/cgroup/kubepods/pod1/pids.max', value: '100' },
    ]);
    expect(planCgroupWrites({ version: 2, root: '/sys/fs/cgroup' }, '/kubepods', { cpuPeriod: 100_000, cpuQuota: -1 }).at(-1)).toEqual({
      kind: 'write',
      file: '/sys/fs/cgroup/kubepods/cpu.max',
      value: 'max 100000',
    });
    expect([cpuSharesToWeight(2), cpuSharesToWeight(1024), cpuSharesToWeight(262144)]).toEqual([1, 39, 10000]);
  });

  it('on cgroup v1: removes a cgroup also from the named and hybrid hierarchies runc puts containers in', () => {
    // A Debian host's mountinfo: controllers, name=systemd, and the hybrid cgroup2.
    const mountinfo = [
      '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
      '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
      '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
      '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
      '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
    ].join('\n');
    const layout = { version: 1 as const, mounts: parseV1Mounts(mountinfo), others: parseOtherV1Hierarchies(mountinfo) };
    expect(layout.others).toEqual(['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified']);
    // Nothing is made or set there; only the removal covers them.
    expect(planCgroupWrites(layout, '/kubepods/podx', {}).filter((op) => op.kind === 'mkdir')).toHaveLength(2);
    expect(cgroupRemovalDirs(layout, '/kubepods/podx')).toEqual([
      '/sys/fs/cgroup/cpu/kubepods/podx',
      '/sys/fs/cgroup/memory/kubepods/podx',
      '/sys/fs/cgroup/systemd/kubepods/podx',
      '/sys/fs/cgroup/unified/kubepods/podx',
    ]);
    expect(cgroupRemovalDirs({ version: 2, root: '/sys/fs/cgroup' }, '/kubepods/podx')).toEqual(['/sys/fs/cgroup/kubepods/podx']);
  });

  it('on cgroup v1: a directory per hierarchy, cpuset copied from the parent, the period before the quota', () => {
    const mounts = parseV1Mounts(
      [
        '30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct',
        '31 25 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
        '32 25 0:28 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset',
        '33 25 0:29 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw',
      ].join('\n'),
    );
    expect(mounts.get('cpu')).toBe('/sys/fs/cgroup/cpu,cpuacct');
    const ops = planCgroupWrites({ version: 1, mounts }, '/kubepods', config);
    expect(ops).toEqual([
      { kind: 'mkdir', dir: '/sys/fs/cgroup/cpu,cpuacct/kubepods' },
      { kind: 'mkdir', dir: '/sys/fs/cgroup/memory/kubepods' },
      { kind: 'mkdir', dir: '/sys/fs/cgroup/cpuset/kubepods' },
      { kind: 'inherit', file: '/sys/fs/cgroup/cpuset/kubepods/cpuset.cpus', from: '/sys/fs/cgroup/cpuset/cpuset.cpus' },
      { kind: 'inherit', file: '/sys/fs/cgroup/cpuset/kubepods/cpuset.mems', from: '/sys/fs/cgroup/cpuset/cpuset.mems' },
      { kind: 'write', file: '/sys/fs/cgroup/cpu,cpuacct/kubepods/cpu.shares', value: '256' },
      { kind: 'write', file: '/sys/fs/cgroup/cpu,cpuacct/kubepods/cpu.cfs_period_us', value: '100000' },
      { kind: 'write', file: '/sys/fs/cgroup/cpu,cpuacct/kubepods/cpu.cfs_quota_us', value: '25000' },
      { kind: 'write', file: '/sys/fs/cgroup/memory/kubepods/memory.limit_in_bytes', value: '67108864' },
    ]);
  });
});
