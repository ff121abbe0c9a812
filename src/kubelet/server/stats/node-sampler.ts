/*
 * Reads the node's own numbers for /stats/summary: CPU and memory of the root cgroup
 * (what cAdvisor reports for "/" under the upstream kubelet), the root dir's and the
 * image filesystem's space, the host's network interfaces, process limits, and the
 * kubelet process itself. CPU rates (usageNanoCores) come from the previous sample.
 */
import { readFile, statfs } from 'node:fs/promises';
import type { CriClient } from '../../../cri-client/index.js';
import type { FsSample, NodeSample } from './build-summary.js';
import type { InterfaceStats } from './summary-types.js';

const readText = (path: string) => readFile(path, 'utf8').catch(() => undefined);

/** "key value" lines (memory.stat, cpu.stat) or "Key: value kB" lines (/proc/meminfo). */
export function parseKeyValues(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([\w()]+):?\s+(\d+)(\s+kB)?/.exec(line);
    if (m) out.set(m[1] as string, Number(m[2]) * (m[3] ? 1024 : 1));
  }
  return out;
}

/** /proc/net/dev: receive bytes/errors are fields 1 and 3, transmit 9 and 11. */
export function parseNetDev(text: string): InterfaceStats[] {
  const out: InterfaceStats[] = [];
  for (const line of text.split('\n').slice(2)) {
    const [name, rest] = line.split(':');
    if (!name || rest === undefined) continue;
    const f = rest.trim().split(/\s+/).map(Number);
    out.push({ name: name.trim(), rxBytes: f[0] ?? 0, rxErrors: f[2] ?? 0, txBytes: f[8] ?? 0, txErrors: f[10] ?? 0 });
  }
  return out;
}

/** The interface of the IPv4 default route in /proc/net/route. */
export function defaultRouteInterface(text: string): string | undefined {
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === '00000000' && f[7] === '00000000') return f[0];
  }
  return undefined;
}

/** Interfaces a node's network numbers count: not loopback, not the pods' veth ends and bridges. */
const isNodeInterface = (name: string) => name !== 'lo' && !/^(veth|cni|docker|flannel|cali|tunl|kube-)/.test(name);

async function fsSample(path: string): Promise<FsSample | undefined> {
  try {
    const s = await statfs(path);
    return {
      capacityBytes: s.blocks * s.bsize,
      availableBytes: s.bavail * s.bsize,
      usedBytes: (s.blocks - s.bfree) * s.bsize,
      inodes: s.files,
      inodesFree: s.ffree,
    };
  } catch {
    return undefined;
  }
}

interface RateState {
  atNs: bigint;
  usageNs: number;
}

function rate(prev: RateState | undefined, next: RateState): number | undefined {
  if (!prev || next.atNs <= prev.atNs || next.usageNs < prev.usageNs) return undefined;
  return Math.round(((next.usageNs - prev.usageNs) * 1e9) / Number(next.atNs - prev.atNs));
}

export class NodeSampler {
  readonly #rootDir: string;
  readonly #cri: CriClient;
  #node: RateState | undefined;
  #kubelet: RateState | undefined;

  constructor(options: { rootDir: string; cri: CriClient }) {
    this.#rootDir = options.rootDir;
    this.#cri = options.cri;
  }

  async sample(options: { onlyCpuAndMemory?: boolean } = {}): Promise<NodeSample> {
    const now = new Date();
    const atNs = process.hrtime.bigint();
    const [cpuNs, memory, stat] = await Promise.all([rootCpuNs(), rootMemory(), readText('/proc/stat')]);
    const node: RateState = { atNs, usageNs: cpuNs };
    const nodeRate = rate(this.#node, node);
    this.#node = node;
    const usage = process.cpuUsage();
    const kubelet: RateState = { atNs, usageNs: (usage.user + usage.system) * 1000 };
    const kubeletRate = rate(this.#kubelet, kubelet);
    this.#kubelet = kubelet;
    const btime = Number(/^btime (\d+)/m.exec(stat ?? '')?.[1] ?? 0);
    const sample: NodeSample = {
      time: now,
      bootTime: new Date(btime * 1000),
      cpu: { usageCoreNanoSeconds: cpuNs, usageNanoCores: nodeRate },
      memory,
      kubelet: {
        startTime: new Date(Date.now() - process.uptime() * 1000),
        cpuNs: kubelet.usageNs,
        usageNanoCores: kubeletRate,
        rssBytes: process.memoryUsage.rss(),
      },
    };
    if (options.onlyCpuAndMemory) return sample;
    const [fs, imageFs, netDev, route, pidMax, loadavg] = await Promise.all([
      fsSample(this.#rootDir),
      this.#imageFs(),
      readText('/proc/net/dev'),
      readText('/proc/net/route'),
      readText('/proc/sys/kernel/pid_max'),
      readText('/proc/loadavg'),
    ]);
    sample.fs = fs;
    sample.imageFs = imageFs;
    const interfaces = parseNetDev(netDev ?? '').filter((i) => isNodeInterface(i.name));
    const defaultName = defaultRouteInterface(route ?? '');
    const defaultInterface = interfaces.find((i) => i.name === defaultName) ?? interfaces[0];
    if (defaultInterface) sample.network = { defaultInterface, interfaces };
    // /proc/loadavg's fourth field is "running/total" scheduling entities.
    const curproc = Number(/\d+\/(\d+)/.exec(loadavg ?? '')?.[1] ?? Number.NaN);
    if (pidMax && Number.isFinite(curproc)) sample.rlimit = { maxpid: Number(pidMax.trim()), curproc };
    return sample;
  }

  async #imageFs(): Promise<FsSample | undefined> {
    try {
      const info = await this.#cri.image.call('ImageFsInfo', {}, { timeoutMs: 5000 });
      const fs = info.imageFilesystems[0];
      const mountpoint = fs?.fsId?.mountpoint;
      const space = mountpoint ? await fsSample(mountpoint) : undefined;
      if (!space) return undefined;
      // Space and inodes of the filesystem; "used" is what the runtime says its images take.
      return { ...space, usedBytes: Number(fs?.usedBytes?.value ?? space.usedBytes) };
    } catch {
      return undefined;
    }
  }
}

/** CPU time of the root cgroup in nanoseconds (v1 cpuacct, v2 cpu.stat), else of the whole host from /proc/stat. */
async function rootCpuNs(): Promise<number> {
  const v1 = await readText('/sys/fs/cgroup/cpuacct/cpuacct.usage');
  if (v1 !== undefined) return Number(v1.trim());
  const v2 = await readText('/sys/fs/cgroup/cpu.stat');
  const usec = v2 === undefined ? undefined : parseKeyValues(v2).get('usage_usec');
  if (usec !== undefined) return usec * 1000;
  // /proc/stat's cpu line is in USER_HZ ticks (100 a second on Linux).
  const ticks =
    /^cpu\s+(.*)$/m
      .exec((await readText('/proc/stat')) ?? '')?.[1]
      ?.split(/\s+/)
      .map(Number) ?? [];
  const busy = [0, 1, 2, 5, 6, 7].reduce((a, i) => a + (ticks[i] ?? 0), 0);
  return busy * 10_000_000;
}

/** Memory of the root cgroup (v1), else of the host from /proc/meminfo; working set = usage - inactive file pages. */
async function rootMemory(): Promise<NodeSample['memory']> {
  const meminfo = parseKeyValues((await readText('/proc/meminfo')) ?? '');
  const capacityBytes = meminfo.get('MemTotal') ?? 0;
  const v1Usage = await readText('/sys/fs/cgroup/memory/memory.usage_in_bytes');
  if (v1Usage !== undefined) {
    const stat = parseKeyValues((await readText('/sys/fs/cgroup/memory/memory.stat')) ?? '');
    const usageBytes = Number(v1Usage.trim());
    return {
      capacityBytes,
      usageBytes,
      workingSetBytes: Math.max(0, usageBytes - (stat.get('total_inactive_file') ?? 0)),
      rssBytes: stat.get('total_rss') ?? 0,
      pageFaults: stat.get('total_pgfault') ?? 0,
      majorPageFaults: stat.get('total_pgmajfault') ?? 0,
    };
  }
  const vmstat = parseKeyValues((await readText('/proc/vmstat')) ?? '');
  const usageBytes = capacityBytes - (meminfo.get('MemFree') ?? 0);
  return {
    capacityBytes,
    usageBytes,
    workingSetBytes: Math.max(0, usageBytes - (meminfo.get('Inactive(file)') ?? 0)),
    rssBytes: (meminfo.get('AnonPages') ?? 0) + (meminfo.get('Shmem') ?? 0),
    pageFaults: vmstat.get('pgfault') ?? 0,
    majorPageFaults: vmstat.get('pgmajfault') ?? 0,
  };
}
