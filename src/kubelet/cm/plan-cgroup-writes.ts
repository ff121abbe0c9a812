// The file operations that give one cgroup its ResourceConfig, for cgroup v1 (a
// directory per controller; cpu.shares, cpu.cfs_quota_us, memory.limit_in_bytes,
// pids.max) or v2 (one directory; the parent's subtree_control first, then cpu.weight,
// cpu.max, memory.max, pids.max). Pure, so the v2 plan is tested on this v1 machine.
import type { CgroupLayout } from './cgroup-layout.js';
import type { ResourceConfig } from './resource-config.js';

export type CgroupOp =
  | { kind: 'mkdir'; dir: string }
  /** v1 cpuset: a new cgroup needs cpus and mems before a task may join; copy the parent's when empty. */
  | { kind: 'inherit'; file: string; from: string }
  | { kind: 'write'; file: string; value: string };

/** cgroup v2 cpu.weight from v1 shares (the kubelet's own conversion). */
export function cpuSharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** The directories of a cgroup (by its path under the hierarchy root) in every hierarchy. */
export function cgroupDirs(layout: CgroupLayout, path: string): string[] {
  if (layout.version === 2) return [`${layout.root}${path}`];
  return [...new Set(layout.mounts.values())].map((m) => `${m}${path}`);
}

/** Where a cgroup is removed from: its own directories and, on v1, the same path in the other hierarchies runc uses. */
export function cgroupRemovalDirs(layout: CgroupLayout, path: string): string[] {
  if (layout.version === 2) return cgroupDirs(layout, path);
  return [...cgroupDirs(layout, path), ...(layout.others ?? []).map((m) => `${m}${path}`)];
}

export function planCgroupWrites(layout: CgroupLayout, path: string, config: ResourceConfig): CgroupOp[] {
  const ops: CgroupOp[] = [];
  if (layout.version === 2) {
    const segments = path.split('/').filter(Boolean);
    // Each ancestor must hand the controllers down before the child's files exist.
    for (let i = 0; i < segments.length; i++) {
      const parent = `${layout.root}${i === 0 ? '' : `/${segments.slice(0, i).join('/')}`}`;
      ops.push({ kind: 'write', file: `${parent}/cgroup.subtree_control`, value: '+cpu +memory +pids' });
      ops.push({ kind: 'mkdir', dir: `${layout.root}/${segments.slice(0, i + 1).join('/')}` });
    }
    const dir = `${layout.root}${path}`;
    if (config.cpuShares !== undefined) ops.push({ kind: 'write', file: `${dir}/cpu.weight`, value: String(cpuSharesToWeight(config.cpuShares)) });
    if (config.cpuQuota !== undefined || config.cpuPeriod !== undefined) {
      const quota = config.cpuQuota === undefined || config.cpuQuota <= 0 ? 'max' : String(config.cpuQuota);
      ops.push({ kind: 'write', file: `${dir}/cpu.max`, value: `${quota} ${config.cpuPeriod ?? 100_000}` });
    }
    if (config.memoryLimitBytes !== undefined) ops.push({ kind: 'write', file: `${dir}/memory.max`, value: String(config.memoryLimitBytes) });
    if (config.pidsLimit !== undefined) ops.push({ kind: 'write', file: `${dir}/pids.max`, value: config.pidsLimit > 0 ? String(config.pidsLimit) : 'max' });
    return ops;
  }
  const mount = (c: string) => layout.mounts.get(c);
  for (const dir of cgroupDirs(layout, path)) ops.push({ kind: 'mkdir', dir });
  const cpuset = mount('cpuset');
  if (cpuset) {
    const segments = path.split('/').filter(Boolean);
    for (let i = 1; i <= segments.length; i++) {
      const dir = `${cpuset}/${segments.slice(0, i).join('/')}`;
      const parent = `${cpuset}${i === 1 ? '' : `/${segments.slice(0, i - 1).join('/')}`}`;
      ops.push({ kind: 'inherit', file: `${dir}/cpuset.cpus`, from: `${parent}/cpuset.cpus` });
      ops.push({ kind: 'inherit', file: `${dir}/cpuset.mems`, from: `${parent}/cpuset.mems` });
    }
  }
  const cpu = mount('cpu');
  if (cpu) {
    if (config.cpuShares !== undefined) ops.push({ kind: 'write', file: `${cpu}${path}/cpu.shares`, value: String(config.cpuShares) });
    // The period first: a quota is checked against the period in force.
    if (config.cpuPeriod !== undefined) ops.push({ kind: 'write', file: `${cpu}${path}/cpu.cfs_period_us`, value: String(config.cpuPeriod) });
    if (config.cpuQuota !== undefined && config.cpuQuota !== 0)
      ops.push({ kind: 'write', file: `${cpu}${path}/cpu.cfs_quota_us`, value: String(config.cpuQuota) });
  }
  const memory = mount('memory');
  if (memory && config.memoryLimitBytes !== undefined) {
    ops.push({ kind: 'write', file: `${memory}${path}/memory.limit_in_bytes`, value: String(config.memoryLimitBytes) });
  }
  const pids = mount('pids');
  if (pids && config.pidsLimit !== undefined)
    ops.push({ kind: 'write', file: `${pids}${path}/pids.max`, value: config.pidsLimit > 0 ? String(config.pidsLimit) : 'max' });
  return ops;
}
