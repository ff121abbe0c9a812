/*
 * /stats/summary as a pure function of what was sampled: the node (cgroups, /proc,
 * statfs), the runtime's pod and container stats (CRI ListPodSandboxStats and
 * ListContainerStats) and the runtime view of the kubelet's pods. Like upstream's CRI
 * stats provider it reports pods with a ready sandbox and their containers that are
 * not exited.
 */
import type { ContainerStats__Output } from '../../../gen/cri/runtime/v1/ContainerStats.js';
import type { CpuUsage__Output } from '../../../gen/cri/runtime/v1/CpuUsage.js';
import type { FilesystemUsage__Output } from '../../../gen/cri/runtime/v1/FilesystemUsage.js';
import type { MemoryUsage__Output } from '../../../gen/cri/runtime/v1/MemoryUsage.js';
import type { NetworkInterfaceUsage__Output } from '../../../gen/cri/runtime/v1/NetworkInterfaceUsage.js';
import type { NetworkUsage__Output } from '../../../gen/cri/runtime/v1/NetworkUsage.js';
import type { PodSandboxStats__Output } from '../../../gen/cri/runtime/v1/PodSandboxStats.js';
import type { UInt64Value__Output } from '../../../gen/cri/runtime/v1/UInt64Value.js';
import type { PodRuntimeState } from '../../pods/runtime-state.js';
import type { ContainerStats, CpuStats, FsStats, InterfaceStats, MemoryStats, NetworkStats, NodeStats, PodStats, Summary } from './summary-types.js';

export interface FsSample {
  capacityBytes: number;
  availableBytes: number;
  usedBytes: number;
  inodes: number;
  inodesFree: number;
}

/** What the node sampler read (node-sampler.ts). */
export interface NodeSample {
  time: Date;
  bootTime: Date;
  cpu: { usageCoreNanoSeconds: number; usageNanoCores?: number | undefined };
  memory: { capacityBytes: number; usageBytes: number; workingSetBytes: number; rssBytes: number; pageFaults: number; majorPageFaults: number };
  /** The filesystem of the kubelet's root dir. */
  fs?: FsSample | undefined;
  /** The filesystem the runtime keeps images on, with what the runtime says images use. */
  imageFs?: FsSample | undefined;
  network?: { defaultInterface: InterfaceStats; interfaces: InterfaceStats[] } | undefined;
  rlimit?: { maxpid: number; curproc: number } | undefined;
  /** The kubelet process itself, reported as the "kubelet" system container. */
  kubelet?: { startTime: Date; cpuNs: number; usageNanoCores?: number | undefined; rssBytes: number } | undefined;
}

export interface SummaryInputs {
  nodeName: string;
  node: NodeSample;
  pods: ReadonlyMap<string, PodRuntimeState>;
  sandboxStats: readonly PodSandboxStats__Output[];
  containerStats: readonly ContainerStats__Output[];
  /** status.startTime of a pod, by UID, when the kubelet has one. */
  podStartTime: (uid: string) => string | undefined;
  /** ?only_cpu_and_memory=true: leave out filesystems, network and process counts. */
  onlyCpuAndMemory?: boolean;
}

/** metav1.Time: RFC 3339 with whole seconds. */
export function apiTime(at: Date): string {
  return at.toISOString().replace(/\.\d+Z$/, 'Z');
}

const nsTime = (ns: string | undefined, fallback: Date): string => (ns && ns !== '0' ? apiTime(new Date(Number(BigInt(ns) / 1_000_000n))) : apiTime(fallback));
const value = (v: UInt64Value__Output | null | undefined): number | undefined => (v ? Number(v.value) : undefined);

function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function cpuStats(cpu: CpuUsage__Output | null | undefined, now: Date): CpuStats | undefined {
  if (!cpu) return undefined;
  return compact({ time: nsTime(cpu.timestamp, now), usageNanoCores: value(cpu.usageNanoCores), usageCoreNanoSeconds: value(cpu.usageCoreNanoSeconds) });
}

function memoryStats(m: MemoryUsage__Output | null | undefined, now: Date): MemoryStats | undefined {
  if (!m) return undefined;
  const available = value(m.availableBytes);
  return compact({
    time: nsTime(m.timestamp, now),
    // The runtime says 0 for "no limit"; upstream leaves the field out then.
    availableBytes: available === 0 ? undefined : available,
    usageBytes: value(m.usageBytes),
    workingSetBytes: value(m.workingSetBytes),
    rssBytes: value(m.rssBytes),
    pageFaults: value(m.pageFaults),
    majorPageFaults: value(m.majorPageFaults),
  });
}

function interfaceStats(i: NetworkInterfaceUsage__Output): InterfaceStats {
  return compact({ name: i.name, rxBytes: value(i.rxBytes), rxErrors: value(i.rxErrors), txBytes: value(i.txBytes), txErrors: value(i.txErrors) });
}

function networkStats(n: NetworkUsage__Output | null | undefined, now: Date): NetworkStats | undefined {
  if (!n?.defaultInterface) return undefined;
  const interfaces = n.interfaces.length > 0 ? n.interfaces.map(interfaceStats) : [interfaceStats(n.defaultInterface)];
  return { time: nsTime(n.timestamp, now), ...interfaceStats(n.defaultInterface), interfaces };
}

function rootfsStats(layer: FilesystemUsage__Output | null | undefined, imageFs: FsSample | undefined, now: Date): FsStats | undefined {
  if (!layer) return undefined;
  return compact({
    time: nsTime(layer.timestamp, now),
    availableBytes: imageFs?.availableBytes,
    capacityBytes: imageFs?.capacityBytes,
    usedBytes: value(layer.usedBytes),
    inodesFree: imageFs?.inodesFree,
    inodes: imageFs?.inodes,
    inodesUsed: value(layer.inodesUsed),
  });
}

function fsStats(fs: FsSample | undefined, now: Date): FsStats | undefined {
  if (!fs) return undefined;
  return { time: apiTime(now), ...fs, inodesUsed: fs.inodes - fs.inodesFree };
}

function nodeStats(i: SummaryInputs): NodeStats {
  const n = i.node;
  const time = apiTime(n.time);
  const node: NodeStats = {
    nodeName: i.nodeName,
    startTime: apiTime(n.bootTime),
    cpu: compact({ time, usageNanoCores: n.cpu.usageNanoCores, usageCoreNanoSeconds: n.cpu.usageCoreNanoSeconds }),
    memory: {
      time,
      availableBytes: Math.max(0, n.memory.capacityBytes - n.memory.workingSetBytes),
      usageBytes: n.memory.usageBytes,
      workingSetBytes: n.memory.workingSetBytes,
      rssBytes: n.memory.rssBytes,
      pageFaults: n.memory.pageFaults,
      majorPageFaults: n.memory.majorPageFaults,
    },
  };
  if (n.kubelet) {
    node.systemContainers = [
      {
        name: 'kubelet',
        startTime: apiTime(n.kubelet.startTime),
        cpu: compact({ time, usageNanoCores: n.kubelet.usageNanoCores, usageCoreNanoSeconds: n.kubelet.cpuNs }),
        memory: { time, usageBytes: n.kubelet.rssBytes, workingSetBytes: n.kubelet.rssBytes, rssBytes: n.kubelet.rssBytes },
      },
    ];
  }
  if (i.onlyCpuAndMemory) return node;
  if (n.network) node.network = { time, ...n.network.defaultInterface, interfaces: n.network.interfaces };
  const fs = fsStats(n.fs, n.time);
  if (fs) node.fs = fs;
  const imageFs = fsStats(n.imageFs, n.time);
  if (imageFs) node.runtime = { imageFs, containerFs: imageFs };
  if (n.rlimit) node.rlimit = { time, maxpid: n.rlimit.maxpid, curproc: n.rlimit.curproc };
  return node;
}

function sum(values: (number | undefined)[]): number | undefined {
  return values.some((v) => v !== undefined) ? values.reduce<number>((a, v) => a + (v ?? 0), 0) : undefined;
}

export function buildSummary(i: SummaryInputs): Summary {
  const now = i.node.time;
  const sandboxById = new Map(i.sandboxStats.map((s) => [s.attributes?.id ?? '', s]));
  const containerById = new Map(i.containerStats.map((c) => [c.attributes?.id ?? '', c]));
  const pods: PodStats[] = [];
  for (const pod of i.pods.values()) {
    const sandbox = pod.sandboxes.find((s) => s.phase === 'ready');
    if (!sandbox) continue;
    const sandboxStats = sandboxById.get(sandbox.id)?.linux;
    const inSandbox = new Map((sandboxStats?.containers ?? []).map((c) => [c.attributes?.id ?? '', c]));
    const containers: ContainerStats[] = [];
    for (const c of pod.containers) {
      if (c.sandboxId !== sandbox.id || c.phase === 'exited') continue;
      const stats = inSandbox.get(c.id) ?? containerById.get(c.id);
      const started = c.startedAt ?? c.createdAt;
      const out: ContainerStats = { name: c.name, startTime: apiTime(new Date(Number(started / 1_000_000n))) };
      const cpu = cpuStats(stats?.cpu, now);
      const memory = memoryStats(stats?.memory, now);
      if (cpu) out.cpu = cpu;
      if (memory) out.memory = memory;
      const rootfs = i.onlyCpuAndMemory ? undefined : rootfsStats(stats?.writableLayer ?? containerById.get(c.id)?.writableLayer, i.node.imageFs, now);
      if (rootfs) out.rootfs = rootfs;
      containers.push(out);
    }
    const startTime = i.podStartTime(pod.uid) ?? apiTime(new Date(Number(sandbox.createdAt / 1_000_000n)));
    const stats: PodStats = { podRef: { name: pod.name, namespace: pod.namespace, uid: pod.uid }, startTime, containers };
    // Pod-level numbers from the sandbox's own stats; without them, the sum of its containers.
    const cpu = cpuStats(sandboxStats?.cpu, now) ?? sumCpu(containers, now);
    const memory = memoryStats(sandboxStats?.memory, now) ?? sumMemory(containers, now);
    if (cpu) stats.cpu = cpu;
    if (memory) stats.memory = memory;
    if (!i.onlyCpuAndMemory) {
      const network = networkStats(sandboxStats?.network, now);
      if (network) stats.network = network;
      const used = sum(containers.map((c) => c.rootfs?.usedBytes));
      if (used !== undefined)
        stats['ephemeral-storage'] = compact({
          time: apiTime(now),
          ...fsCapacity(i.node.imageFs),
          usedBytes: used,
          inodesUsed: sum(containers.map((c) => c.rootfs?.inodesUsed)),
        });
      const processes = value(sandboxStats?.process?.processCount);
      if (processes !== undefined) stats.process_stats = { process_count: processes };
    }
    pods.push(stats);
  }
  return { node: nodeStats(i), pods };
}

function fsCapacity(fs: FsSample | undefined): Partial<FsStats> {
  return fs ? { availableBytes: fs.availableBytes, capacityBytes: fs.capacityBytes, inodesFree: fs.inodesFree, inodes: fs.inodes } : {};
}

function sumCpu(containers: ContainerStats[], now: Date): CpuStats | undefined {
  const withCpu = containers.filter((c) => c.cpu);
  if (withCpu.length === 0) return undefined;
  return compact({
    time: apiTime(now),
    usageNanoCores: sum(withCpu.map((c) => c.cpu?.usageNanoCores)),
    usageCoreNanoSeconds: sum(withCpu.map((c) => c.cpu?.usageCoreNanoSeconds)),
  });
}

function sumMemory(containers: ContainerStats[], now: Date): MemoryStats | undefined {
  const withMemory = containers.filter((c) => c.memory);
  if (withMemory.length === 0) return undefined;
  return compact({
    time: apiTime(now),
    usageBytes: sum(withMemory.map((c) => c.memory?.usageBytes)),
    workingSetBytes: sum(withMemory.map((c) => c.memory?.workingSetBytes)),
    rssBytes: sum(withMemory.map((c) => c.memory?.rssBytes)),
  });
}
