// The node's and its pods' resource usage, as the eviction manager and image GC read
// it (and the kubelet API's /stats/summary can): memory from the root memory cgroup
// (v1) or /proc/meminfo, the node filesystem under the root dir, the image filesystem
// the runtime reports (CRI ImageFsInfo), PIDs, and each pod's containers from CRI
// ListContainerStats.
import { readFile, statfs } from 'node:fs/promises';
import type { CriClient } from '../../cri-client/index.js';
import { podUidLabel } from '../pods/labels.js';
import { meminfoBytes } from '../../common/meminfo.js';

export interface FsStats {
  capacityBytes: number;
  availableBytes: number;
  inodes: number;
  inodesFree: number;
}

export interface PodUsage {
  uid: string;
  memoryWorkingSetBytes: number;
  /** Writable layers of its containers (their logs are not counted yet). */
  ephemeralBytes: number;
  /** Working set per container name, for eviction messages. */
  containers: { name: string; memoryWorkingSetBytes: number }[];
}

export interface NodeStats {
  memory: { capacityBytes: number; workingSetBytes: number; availableBytes: number };
  nodefs: FsStats;
  imagefs: FsStats & { usedBytes: number };
  pids: { max: number; running: number };
  pods: Map<string, PodUsage>;
}

/** Working set as cAdvisor counts it: usage less inactive file pages. */
export function workingSet(usage: number, inactiveFile: number): number {
  return Math.max(0, usage - inactiveFile);
}

/** Node memory from /proc/meminfo: total, and what is in use less inactive file pages. */
export function memoryFromMeminfo(meminfo: string): { capacityBytes: number; workingSetBytes: number } {
  const total = meminfoBytes(meminfo, 'MemTotal');
  return { capacityBytes: total, workingSetBytes: workingSet(total - meminfoBytes(meminfo, 'MemFree'), meminfoBytes(meminfo, 'Inactive(file)')) };
}

async function fsStats(path: string): Promise<FsStats> {
  const s = await statfs(path);
  return { capacityBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize, inodes: s.files, inodesFree: s.ffree };
}

export interface NodeStatsOptions {
  cri: CriClient;
  rootDir: string;
  /** The v1 memory controller's mount, when the node runs cgroup v1. */
  memoryCgroupMount?: string;
}

export class NodeStatsProvider {
  readonly #o: NodeStatsOptions;

  constructor(options: NodeStatsOptions) {
    this.#o = options;
  }

  async memory(): Promise<NodeStats['memory']> {
    const meminfo = memoryFromMeminfo(await readFile('/proc/meminfo', 'utf8'));
    let ws = meminfo.workingSetBytes;
    if (this.#o.memoryCgroupMount) {
      const usage = Number(await readFile(`${this.#o.memoryCgroupMount}/memory.usage_in_bytes`, 'utf8').catch(() => 'NaN'));
      const stat = await readFile(`${this.#o.memoryCgroupMount}/memory.stat`, 'utf8').catch(() => '');
      const inactive = Number(/^total_inactive_file (\d+)$/m.exec(stat)?.[1] ?? 0);
      if (Number.isFinite(usage)) ws = workingSet(usage, inactive);
    }
    return { capacityBytes: meminfo.capacityBytes, workingSetBytes: ws, availableBytes: Math.max(0, meminfo.capacityBytes - ws) };
  }

  async imagefs(): Promise<NodeStats['imagefs']> {
    const { imageFilesystems } = await this.#o.cri.image.call('ImageFsInfo', {});
    const fs = imageFilesystems[0];
    const mount = fs?.fsId?.mountpoint || this.#o.rootDir;
    return { ...(await fsStats(mount)), usedBytes: Number(fs?.usedBytes?.value ?? 0) };
  }

  async collect(): Promise<NodeStats> {
    const [memory, nodefs, imagefs, pidMax, loadavg, { stats }] = await Promise.all([
      this.memory(),
      fsStats(this.#o.rootDir),
      this.imagefs(),
      readFile('/proc/sys/kernel/pid_max', 'utf8'),
      readFile('/proc/loadavg', 'utf8'),
      this.#o.cri.runtime.call('ListContainerStats', {}),
    ]);
    const pods = new Map<string, PodUsage>();
    for (const s of stats) {
      const uid = s.attributes?.labels[podUidLabel];
      if (!uid) continue;
      const p = pods.get(uid) ?? { uid, memoryWorkingSetBytes: 0, ephemeralBytes: 0, containers: [] };
      const ws = Number(s.memory?.workingSetBytes?.value ?? 0);
      p.memoryWorkingSetBytes += ws;
      p.ephemeralBytes += Number(s.writableLayer?.usedBytes?.value ?? 0);
      p.containers.push({ name: s.attributes?.metadata?.name ?? '', memoryWorkingSetBytes: ws });
      pods.set(uid, p);
    }
    const running = Number(loadavg.trim().split(/\s+/)[3]?.split('/')[1] ?? 0);
    return { memory, nodefs, imagefs, pids: { max: Number(pidMax.trim()) || 0, running }, pods };
  }
}
