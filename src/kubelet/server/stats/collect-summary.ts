/*
 * Builds the summary from fresh samples, at most once a second: requests that arrive
 * while one is being built share it, and it serves for a second after (the upstream
 * kubelet serves cAdvisor's cached stats, up to its housekeeping interval old). A
 * CPU-and-memory summary (/metrics/resource, what metrics-server scrapes) needs only
 * ListContainerStats; the full one also asks ListPodSandboxStats for pod network and
 * process counts, which costs the runtime several times more.
 */
import { TskubeError } from '../../../common/errors.js';
import type { ContainerStats__Output } from '../../../gen/cri/runtime/v1/ContainerStats.js';
import type { PodSandboxStats__Output } from '../../../gen/cri/runtime/v1/PodSandboxStats.js';
import type { Logger } from '../../../common/logger.js';
import type { KubeletHost } from '../kubelet-host.js';
import { buildSummary } from './build-summary.js';
import type { NodeSampler } from './node-sampler.js';
import type { Summary } from './summary-types.js';

export interface SummaryOptions {
  onlyCpuAndMemory?: boolean;
}

export class SummaryCollector {
  readonly #host: KubeletHost;
  readonly #sampler: Pick<NodeSampler, 'sample'>;
  readonly #log: Logger;
  readonly #maxAgeMs: number;
  readonly #latest = new Map<boolean, { at: number; summary: Promise<Summary> }>();
  #sandboxStatsFailing = false;

  constructor(options: { host: KubeletHost; sampler: Pick<NodeSampler, 'sample'>; log: Logger; maxAgeMs?: number }) {
    this.#host = options.host;
    this.#sampler = options.sampler;
    this.#log = options.log;
    this.#maxAgeMs = options.maxAgeMs ?? 1000;
  }

  get(options: SummaryOptions = {}): Promise<Summary> {
    const only = options.onlyCpuAndMemory === true;
    const latest = this.#latest.get(only);
    // A summary in flight has at = +Infinity: everyone shares it.
    if (latest && Date.now() - latest.at < this.#maxAgeMs) return latest.summary;
    const entry = { at: Number.POSITIVE_INFINITY, summary: this.#collect(only) };
    this.#latest.set(only, entry);
    entry.summary.then(
      () => (entry.at = Date.now()),
      () => this.#latest.delete(only),
    );
    return entry.summary;
  }

  async #collect(onlyCpuAndMemory: boolean): Promise<Summary> {
    const host = this.#host;
    const call = { timeoutMs: 10_000 };
    const [node, pods, sandboxStats, containerStats] = await Promise.all([
      this.#sampler.sample({ onlyCpuAndMemory }),
      host.runtimePods(),
      onlyCpuAndMemory ? Promise.resolve(undefined) : this.#sandboxStats(),
      host.cri.runtime.call('ListContainerStats', {}, call).then((r): ContainerStats__Output[] => r.stats),
    ]);
    return buildSummary({
      nodeName: host.nodeName,
      node,
      pods,
      sandboxStats: sandboxStats ?? [],
      containerStats,
      podStartTime: (uid) => {
        const t = host.podStatus(uid)?.startTime;
        return t === undefined ? undefined : new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');
      },
      onlyCpuAndMemory,
    });
  }

  /**
   * Pod-level stats, or undefined: containerd fails the whole ListPodSandboxStats for one
   * sandbox it cannot measure (one made without a cgroup parent), and an old runtime may
   * not have it; then the pods' numbers are their containers' sums. Said once per change.
   */
  async #sandboxStats(): Promise<PodSandboxStats__Output[] | undefined> {
    try {
      const { stats } = await this.#host.cri.runtime.call('ListPodSandboxStats', {}, { timeoutMs: 10_000 });
      if (this.#sandboxStatsFailing) this.#log.info('ListPodSandboxStats works again; pod stats come from the runtime');
      this.#sandboxStatsFailing = false;
      return stats;
    } catch (err) {
      if (!this.#sandboxStatsFailing)
        this.#log.warn({ err: TskubeError.from(err).message }, 'ListPodSandboxStats failed; pod stats are the sums of their containers');
      this.#sandboxStatsFailing = true;
      return undefined;
    }
  }
}
