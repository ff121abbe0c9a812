// After a burst (110 pods started at once, a proxy's full sync), a Node process keeps the memory the burst
// needed: V8 sizes its heap for the allocation rate it just saw, and Buffers that died
// during the burst hold malloc'd memory until a full GC finds them. Left alone, that
// high-water mark stays resident for the life of the process (docs/memory.md). One
// memory-reducing full GC once the burst is over (V8's "last resort" collection: it
// compacts and releases free pages, what a low-memory notification runs) gives most of it
// back, at the cost of a few tens of milliseconds once per burst. V8's --optimize-for-size
// gets a little more by reducing memory at every GC, but at 40-80 % more CPU at rest (docs/memory.md).
import type { Logger } from './logger.js';
import { sleep } from './sleep.js';

const MiB = 1024 * 1024;

export interface ReleasePolicy {
  /** How far above the lowest resident size since the last release RSS must be. */
  growthBytes: number;
  /** How much RSS may still have grown since the previous look for the burst to count as over. */
  settledBytes: number;
}

export const defaultReleasePolicy: ReleasePolicy = { growthBytes: 16 * MiB, settledBytes: 2 * MiB };

/** Whether to release now: RSS is well above its floor and stopped growing since the last look (so not in the middle of a burst). */
export function shouldRelease(rss: number, previousRss: number, floor: number, policy: ReleasePolicy): boolean {
  return rss >= floor + policy.growthBytes && rss - previousRss < policy.settledBytes;
}

/** V8's memory-reducing full GC, or undefined when the process was started without --expose-gc (bin/tskube passes it to the kubelet and the proxy). */
export function lastResortCollector(): (() => void) | undefined {
  const gc = globalThis.gc;
  return gc ? () => gc({ type: 'major', execution: 'sync', flavor: 'last-resort' }) : undefined;
}

/**
 * Looks at the process's RSS every intervalMs until the signal aborts, and runs `collect`
 * (lastResortCollector's) whenever RSS has grown by policy.growthBytes over its floor and
 * stopped growing.
 */
export async function releaseMemoryAfterBursts(
  collect: () => void,
  log: Logger,
  signal: AbortSignal,
  intervalMs = 10_000,
  policy: ReleasePolicy = defaultReleasePolicy,
): Promise<void> {
  // Start-up is a burst too (modules compiled, the first lists): the first settled look releases.
  let floor = 0;
  let previous = process.memoryUsage.rss();
  while (!signal.aborted) {
    await sleep(intervalMs, signal);
    if (signal.aborted) return;
    const rss = process.memoryUsage.rss();
    if (shouldRelease(rss, previous, floor, policy)) {
      const started = performance.now();
      collect();
      const after = process.memoryUsage.rss();
      log.info(
        { rssBeforeMiB: Math.round(rss / MiB), rssAfterMiB: Math.round(after / MiB), gcMs: Math.round(performance.now() - started) },
        'released memory after a burst',
      );
      floor = after;
      previous = after;
      continue;
    }
    floor = Math.min(floor, rss);
    previous = rss;
  }
}

/** The release loop of a daemon (kubelet, proxy), or undefined, said at debug, when node was started without --expose-gc. */
export function memoryReleaseLoop(log: Logger, signal: AbortSignal): Promise<void> | undefined {
  const collect = lastResortCollector();
  if (!collect) {
    log.debug('no memory release after bursts: node was started without --expose-gc');
    return undefined;
  }
  return releaseMemoryAfterBursts(collect, log, signal);
}
