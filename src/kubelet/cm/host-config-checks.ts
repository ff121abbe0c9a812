// The configuration checks upstream makes against the machine at start (its config validation
// for the cgroup version, its container manager for swap): a kubelet that would act wrongly on
// this host refuses to start, naming the field.
import { TskubeError } from '../../common/errors.js';
import type { KubeletConfiguration } from '../options/types.js';

export interface HostFacts {
  cgroupV2: boolean;
  /** /proc/swaps as read. */
  swaps: string;
}

/** Whether /proc/swaps lists any swap area (its first line is the header). */
export function swapIsOn(swaps: string): boolean {
  return swaps.split('\n').filter((line) => line.trim() !== '').length > 1;
}

/** Throws an invalid-argument TskubeError when the configuration cannot be honoured on this host. */
export function checkConfigAgainstHost(c: Pick<KubeletConfiguration, 'singleProcessOOMKill' | 'failSwapOn'>, host: HostFacts): void {
  // cgroup v1 has no memory.oom.group: the kernel kills single processes there whatever is asked.
  if (!host.cgroupV2 && c.singleProcessOOMKill === false) {
    throw new TskubeError('invalid-argument', 'singleProcessOOMKill: invalid value false: must not be explicitly set to false when using cgroup v1');
  }
  if (c.failSwapOn && swapIsOn(host.swaps)) {
    throw new TskubeError('invalid-argument', 'failSwapOn: running with swap on is not supported, please disable swap or set --fail-swap-on flag to false');
  }
}
