// Eviction thresholds from the KubeletConfiguration (upstream ParseThresholdConfig):
// evictionHard and evictionSoft (with its grace periods), evictionMinimumReclaim, each
// an amount or a percentage of the signal's capacity.
import { parseGoDuration } from '../../common/go-duration.js';
import type { KubeletConfiguration } from '../options/types.js';
import { threshold as parseThreshold, thresholdAmount, type Threshold } from '../node/node-settings.js';

export type Signal = 'memory.available' | 'nodefs.available' | 'nodefs.inodesFree' | 'imagefs.available' | 'imagefs.inodesFree' | 'pid.available';

export const supportedSignals: readonly Signal[] = [
  'memory.available',
  'nodefs.available',
  'nodefs.inodesFree',
  'imagefs.available',
  'imagefs.inodesFree',
  'pid.available',
];

export interface EvictionThreshold {
  signal: Signal;
  value: Threshold;
  /** 0 for a hard threshold. */
  gracePeriodMs: number;
  hard: boolean;
  minReclaim?: Threshold;
}

export function evictionThresholds(c: KubeletConfiguration): EvictionThreshold[] {
  const out: EvictionThreshold[] = [];
  const minReclaim = (signal: Signal) => parseThreshold(c.evictionMinimumReclaim, signal);
  for (const signal of supportedSignals) {
    const hard = parseThreshold(c.evictionHard, signal);
    if (hard && !isZero(hard)) out.push({ signal, value: hard, gracePeriodMs: 0, hard: true, ...withMin(minReclaim(signal)) });
    const soft = parseThreshold(c.evictionSoft, signal);
    if (soft && !isZero(soft)) {
      out.push({
        signal,
        value: soft,
        gracePeriodMs: parseGoDuration(c.evictionSoftGracePeriod[signal] ?? '0') ?? 0,
        hard: false,
        ...withMin(minReclaim(signal)),
      });
    }
  }
  return out;
}

/** Upstream drops "0%" and "100%"-style no-op thresholds that disable a signal. */
const isZero = (t: Threshold) => t.value === 0;
const withMin = (t: Threshold | undefined) => (t ? { minReclaim: t } : {});

export function amount(t: Threshold, capacity: number): number {
  return thresholdAmount(t, capacity);
}

/** Which node condition a signal drives. */
export function conditionOf(signal: Signal): 'memory' | 'disk' | 'pid' {
  return signal === 'memory.available' ? 'memory' : signal === 'pid.available' ? 'pid' : 'disk';
}

/** The resource a signal reclaims, as upstream names it in messages. */
export function resourceOf(signal: Signal): string {
  if (signal === 'memory.available') return 'memory';
  if (signal === 'pid.available') return 'pids';
  return signal.endsWith('inodesFree') ? 'inodes' : 'ephemeral-storage';
}
