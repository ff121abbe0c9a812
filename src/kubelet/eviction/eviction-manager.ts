// Runs planEviction every 10 s (upstream's monitoring period) on fresh stats: keeps
// the node conditions the Node status and admission read, tries node-level reclaim
// (image GC, dead containers) before evicting for disk pressure, and evicts one pod per
// pass (Failed, reason Evicted, upstream's message, an Evicted event) with an
// EvictionThresholdMet event on the Node. One log line per change of pressure.
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { errorMessage } from '../../common/errors.js';
import { sleep } from '../../common/sleep.js';
import type { NodeEvents } from '../kubelet-api.js';
import type { KubeletStop } from '../pods/terminal-status.js';
import type { NodeStatsProvider } from '../stats/node-stats.js';
import { type EvictionState, initialEvictionState, observe, planEviction } from './plan-eviction.js';
import type { EvictionThreshold } from './thresholds.js';

export interface EvictionManagerOptions {
  stats: NodeStatsProvider;
  thresholds: EvictionThreshold[];
  pressureTransitionPeriodMs: number;
  maxPodGracePeriodSeconds: number;
  activePods: () => V1Pod[];
  /** Node-level reclaim for disk pressure: unused images and dead containers. */
  reclaimDisk: () => Promise<void>;
  evict: (pod: V1Pod, stop: KubeletStop, gracePeriodSeconds: number) => void;
  events: NodeEvents;
  log: Logger;
  periodMs?: number;
  now?: () => number;
}

export class EvictionManager {
  readonly #o: EvictionManagerOptions;
  #state: EvictionState = initialEvictionState;
  #pressure = { memory: false, disk: false, pid: false };
  #failing = false;

  constructor(options: EvictionManagerOptions) {
    this.#o = options;
  }

  /** The node conditions: MemoryPressure, DiskPressure, PIDPressure. */
  pressure(): { memory: boolean; disk: boolean; pid: boolean } {
    return this.#pressure;
  }

  async run(signal: AbortSignal): Promise<void> {
    if (this.#o.thresholds.length === 0) return;
    while (!signal.aborted) {
      try {
        await this.synchronize();
        if (this.#failing) this.#o.log.info('eviction manager recovered');
        this.#failing = false;
      } catch (err) {
        if (!this.#failing) this.#o.log.warn({ err: errorMessage(err) }, 'eviction manager: failed to read stats; retrying');
        this.#failing = true;
      }
      await sleep(this.#o.periodMs ?? 10_000, signal);
    }
  }

  async synchronize(): Promise<V1Pod | undefined> {
    const now = (this.#o.now ?? Date.now)();
    const stats = await this.#o.stats.collect();
    const input = {
      thresholds: this.#o.thresholds,
      pressureTransitionPeriodMs: this.#o.pressureTransitionPeriodMs,
      pods: this.#o.activePods(),
      usage: stats.pods,
      maxPodGracePeriodSeconds: this.#o.maxPodGracePeriodSeconds,
      now,
    };
    let plan = planEviction({ ...input, observations: observe(stats), state: this.#state });
    this.#state = plan.state;
    this.#setPressure(plan.pressure);
    if (!plan.reclaim) return undefined;
    this.#o.log.info({ resource: plan.reclaim.resource, signal: plan.reclaim.signal }, 'eviction manager: attempting to reclaim');
    this.#o.events.warning('EvictionThresholdMet', `Attempting to reclaim ${plan.reclaim.resource}`);
    if (plan.reclaim.signal !== 'memory.available' && plan.reclaim.signal !== 'pid.available') {
      await this.#o.reclaimDisk().catch((err: unknown) => this.#o.log.warn({ err: errorMessage(err) }, 'node-level disk reclaim failed'));
      const after = await this.#o.stats.collect();
      plan = planEviction({ ...input, usage: after.pods, observations: observe(after), state: this.#state });
      if (!plan.state.met.some((t) => t.signal === plan.reclaim?.signal)) {
        this.#o.log.info({ resource: plan.reclaim?.resource }, 'eviction manager: reduced resource pressure without evicting pods');
        return undefined;
      }
    }
    if (!plan.evict) {
      this.#o.log.warn('eviction manager: thresholds met, but no pod can be evicted');
      return undefined;
    }
    const { pod, gracePeriodSeconds, message } = plan.evict;
    this.#o.log.info({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, message }, 'eviction manager: evicting a pod');
    this.#o.evict(pod, { reason: 'Evicted', message, disruption: message }, gracePeriodSeconds);
    return pod;
  }

  #setPressure(p: { memory: boolean; disk: boolean; pid: boolean }): void {
    const before = this.#pressure;
    this.#pressure = p;
    if (before.memory !== p.memory || before.disk !== p.disk || before.pid !== p.pid) this.#o.log.info(p, 'node pressure changed');
  }
}

export type { EvictionThreshold };
