import type { ContainerStats__Output } from '../../../gen/cri/runtime/v1/ContainerStats.js';
import type { PodSandboxStats__Output } from '../../../gen/cri/runtime/v1/PodSandboxStats.js';
import { TskubeError } from '../../../common/errors.js';
import { formatTable, shortId } from '../output.js';
import { humanSize } from './go-format.js';

export const containerStatsColumns = ['CONTAINER', 'NAME', 'CPU %', 'MEM', 'DISK', 'INODES', 'SWAP'];
export const podStatsColumns = ['POD', 'POD ID', 'CPU %', 'MEM'];

type Counter = { value: string } | null | undefined;
/** The fields of Linux and Windows CPU samples the table reads. */
interface CpuSample {
  timestamp: string;
  usageCoreNanoSeconds: Counter;
}
interface MemorySample {
  workingSetBytes: Counter;
}

const big = (v: Counter) => BigInt(v?.value || 0);

/** A sample with neither CPU time nor memory: the container is not running. */
export function isIdle(s: { cpu: CpuSample | null; memory: MemorySample | null }): boolean {
  return big(s.cpu?.usageCoreNanoSeconds) === 0n && big(s.memory?.workingSetBytes) === 0n;
}

/** crictl lists running containers unless -a; the same rule for every output format. */
export function selectContainerStats(stats: readonly ContainerStats__Output[], all: boolean): ContainerStats__Output[] {
  return [...stats].filter((s) => all || !isIdle(s)).sort((a, b) => ((a.attributes?.id ?? '') < (b.attributes?.id ?? '') ? -1 : 1));
}

export function sortPodStats(stats: readonly PodSandboxStats__Output[]): PodSandboxStats__Output[] {
  return [...stats].sort((a, b) => ((a.attributes?.id ?? '') < (b.attributes?.id ?? '') ? -1 : 1));
}

/** CPU % between two samples: core-nanoseconds used per nanosecond of wall time. */
export function cpuPercent(before: CpuSample | null | undefined, after: CpuSample | null | undefined, id: string): string {
  const used = big(after?.usageCoreNanoSeconds);
  if (used === 0n) return '0.00';
  const elapsed = BigInt(after?.timestamp || 0) - BigInt(before?.timestamp || 0);
  if (elapsed === 0n) throw new TskubeError('unavailable', `cpu stat of ${id} was not updated during the sample; try a longer --seconds`);
  return ((Number(used - big(before?.usageCoreNanoSeconds)) / Number(elapsed)) * 100).toFixed(2);
}

/** `crictl stats` table from two samples; containers absent from the first are left out. */
export function containerStatsTable(before: readonly ContainerStats__Output[], after: readonly ContainerStats__Output[]): string {
  const first = new Map(before.map((s) => [s.attributes?.id ?? '', s]));
  const rows: string[][] = [];
  for (const s of after) {
    const id = s.attributes?.id ?? '';
    const old = first.get(id);
    if (!old) continue;
    rows.push([
      shortId(id),
      s.attributes?.metadata?.name ?? '',
      cpuPercent(old.cpu, s.cpu, id),
      humanSize(s.memory?.workingSetBytes?.value ?? '0'),
      humanSize(s.writableLayer?.usedBytes?.value ?? '0'),
      s.writableLayer?.inodesUsed?.value ?? '0',
      humanSize(s.swap?.swapUsageBytes?.value ?? '0'),
    ]);
  }
  return formatTable(containerStatsColumns, rows);
}

function podUsage(s: PodSandboxStats__Output): { cpu: CpuSample | null; memory: MemorySample | null } {
  const side = s.linux ?? s.windows;
  return { cpu: side?.cpu ?? null, memory: side?.memory ?? null };
}

/** `crictl statsp` table from two samples; pods without data or absent from the first are left out. */
export function podStatsTable(before: readonly PodSandboxStats__Output[], after: readonly PodSandboxStats__Output[]): string {
  const first = new Map(before.map((s) => [s.attributes?.id ?? '', s]));
  const rows: string[][] = [];
  for (const s of after) {
    const id = s.attributes?.id ?? '';
    const now = podUsage(s);
    const old = first.get(id);
    if (isIdle(now) || !old) continue;
    rows.push([
      s.attributes?.metadata?.name ?? '',
      shortId(id),
      cpuPercent(podUsage(old).cpu, now.cpu, id),
      humanSize(now.memory?.workingSetBytes?.value ?? '0'),
    ]);
  }
  return formatTable(podStatsColumns, rows);
}
