import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { HugepageLimit } from '../../gen/cri/runtime/v1/HugepageLimit.js';
import type { LinuxContainerResources } from '../../gen/cri/runtime/v1/LinuxContainerResources.js';
import { containerOomScoreAdj } from './oom-score.js';
import { containerField, millisOf, podTotal, resourceValue } from './pod-resources.js';
import { quantityValue } from '../../kube/quantity.js';

// cgroup cpu constants the kubelet uses (pkg/kubelet/cm/helpers_linux.go).
export const minCpuShares = 2;
export const maxCpuShares = 262144;
export const sharesPerCpu = 1024;
export const defaultCpuQuotaPeriodUs = 100_000;
/** The kernel's minimum cfs quota, 1 ms. */
export const minCpuQuotaUs = 1000;

export interface LinuxResourceOptions {
  /** Node memory capacity in bytes: the denominator of Burstable oom_score_adj. */
  nodeMemoryCapacityBytes: number;
  /** KubeletConfiguration cpuCFSQuota; default true. */
  cpuCFSQuota?: boolean;
  /** KubeletConfiguration cpuCFSQuotaPeriod in microseconds; default 100000. */
  cpuCFSQuotaPeriodUs?: number;
  /** The node runs the unified cgroup v2 hierarchy. */
  cgroupV2?: boolean;
  /** KubeletConfiguration singleProcessOOMKill; default false (kill the whole container on cgroup v2). */
  singleProcessOOMKill?: boolean;
  /** The kernel has the swap cgroup controller; then swap is turned off for containers (NoSwap). */
  swapControllerAvailable?: boolean;
  /** Huge page sizes the node supports, as "2MB", "1GB"; each gets a limit (0 unless asked). */
  hugePageSizes?: string[];
}

export function milliCpuToShares(milli: number): number {
  if (milli <= 0) return minCpuShares;
  const shares = Math.trunc((milli * sharesPerCpu) / 1000);
  return Math.min(maxCpuShares, Math.max(minCpuShares, shares));
}

/** CFS quota for a cpu limit; 0 (no quota) when there is no limit. */
export function milliCpuToQuota(milli: number, periodUs: number): number {
  if (milli <= 0) return 0;
  return Math.max(minCpuQuotaUs, Math.trunc((milli * periodUs) / 1000));
}

/**
 * cpu shares from the request (the limit when only a limit is given), cfs quota and
 * period from the limit, the memory limit; on cgroup v2 the whole container is
 * OOM-killed together unless singleProcessOOMKill.
 */
export function calculateLinuxResources(
  cpuRequestMillis: number | undefined,
  cpuLimitMillis: number,
  memoryLimitBytes: number,
  opts: LinuxResourceOptions,
): LinuxContainerResources {
  const r: LinuxContainerResources = {};
  r.cpuShares = milliCpuToShares(cpuRequestMillis === undefined && cpuLimitMillis > 0 ? cpuLimitMillis : (cpuRequestMillis ?? 0));
  if (memoryLimitBytes !== 0) r.memoryLimitInBytes = memoryLimitBytes;
  if (opts.cpuCFSQuota !== false) {
    const period = opts.cpuCFSQuotaPeriodUs ?? defaultCpuQuotaPeriodUs;
    r.cpuQuota = milliCpuToQuota(cpuLimitMillis, period);
    r.cpuPeriod = period;
  }
  if (opts.cgroupV2 && opts.singleProcessOOMKill !== true) r.unified = { 'memory.oom.group': '1' };
  return r;
}

const hugePagesPrefix = 'hugepages-';
const pageUnits = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** "hugepages-2Mi" page size in bytes → "2MB", the name the cgroup files use. */
export function hugePageUnitSize(bytes: number): string {
  let size = bytes;
  let unit = 0;
  while (size >= 1024 && size % 1024 === 0 && unit < pageUnits.length - 1) {
    size /= 1024;
    unit++;
  }
  return `${size}${pageUnits[unit]}`;
}

export function hugepageLimits(container: V1Container, field: string, pageSizes: string[]): HugepageLimit[] {
  const asked = new Map<string, number>();
  for (const [name, q] of Object.entries(container.resources?.limits ?? {})) {
    if (!name.startsWith(hugePagesPrefix)) continue;
    const pageBytes = quantityValue(name.slice(hugePagesPrefix.length), `${field}.resources.limits[${name}] page size`);
    asked.set(hugePageUnitSize(pageBytes), quantityValue(q, `${field}.resources.limits.${name}`));
  }
  return pageSizes.map((pageSize) => ({ pageSize, limit: asked.get(pageSize) ?? 0 }));
}

/** The container's LinuxContainerResources: cpu, memory, oom_score_adj, huge pages, swap. */
export function containerLinuxResources(pod: V1Pod, container: V1Container, opts: LinuxResourceOptions): LinuxContainerResources {
  const field = containerField(pod, container);
  const requests = container.resources?.requests;
  const limits = container.resources?.limits;
  const r = calculateLinuxResources(
    millisOf(requests, 'cpu', `${field}.resources.requests`),
    millisOf(limits, 'cpu', `${field}.resources.limits`) ?? 0,
    resourceValue(limits, 'memory', `${field}.resources.limits`) ?? 0,
    opts,
  );
  r.oomScoreAdj = containerOomScoreAdj(pod, container, opts.nodeMemoryCapacityBytes);
  if (opts.hugePageSizes && opts.hugePageSizes.length > 0) r.hugepageLimits = hugepageLimits(container, field, opts.hugePageSizes);
  if (opts.swapControllerAvailable) {
    // NoSwap, the default swap behaviour: no swap beyond the memory limit.
    if (opts.cgroupV2) r.unified = { ...(r.unified ?? {}), 'memory.swap.max': '0' };
    else if (r.memoryLimitInBytes !== undefined) r.memorySwapLimitInBytes = r.memoryLimitInBytes;
  }
  return r;
}

/** Resources of the whole pod, which upstream also hands the runtime with the sandbox. */
export function sandboxLinuxResources(pod: V1Pod, opts: LinuxResourceOptions): LinuxContainerResources {
  const cpu = (which: 'requests' | 'limits') => podTotal(pod, which, (list, f) => millisOf(list, 'cpu', f) ?? 0);
  const memLimit = podTotal(pod, 'limits', (list, f) => resourceValue(list, 'memory', f) ?? 0);
  return calculateLinuxResources(cpu('requests'), cpu('limits'), memLimit, opts);
}

/** spec.overhead (from the RuntimeClass) as resources, requests equal to limits. */
export function sandboxOverhead(pod: V1Pod, opts: LinuxResourceOptions): LinuxContainerResources | undefined {
  const overhead = pod.spec?.overhead;
  if (!overhead) return undefined;
  const cpu = millisOf(overhead, 'cpu', 'spec.overhead') ?? 0;
  return calculateLinuxResources(cpu, cpu, resourceValue(overhead, 'memory', 'spec.overhead') ?? 0, opts);
}
