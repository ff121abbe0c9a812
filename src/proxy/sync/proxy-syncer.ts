// The proxy's one writer. Informer handlers only feed the change trackers and call
// `requestSync()`; this loop runs `syncOnce()` no more often than minSyncPeriod, again
// within syncPeriod after a failure (as a full sync), and at least hourly (full). A sync
// rebuilds the changed Services, plans their ports and hands them to each family's back
// end; after it, UDP conntrack entries are reconciled and the health-check servers told.
import { TskubeError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { sleep } from '../../common/sleep.js';
import type { ProxyBackend } from '../backend.js';
import type { EndpointSliceChangeTracker, ServiceChangeTracker } from '../model/change-trackers.js';
import type { ServiceMap } from '../model/service-map.js';
import type { ProxyNodeConfig } from '../plan/node-config.js';
import type { ServicePortPlan } from '../plan/service-port-plan.js';
import type { ProxyHealthState } from '../server/proxy-health.js';
import type { ProxyMetrics } from '../server/proxy-metrics.js';
import { nextRunAt, type ScheduleSettings, type ScheduleState } from './sync-schedule.js';

export interface FamilyProxier {
  map: ServiceMap;
  backend: ProxyBackend;
}

/** Told after every successful sync of a family, with the plans of every port (read-only). */
export interface AfterSync {
  afterSync(family: ServiceMap['family'], plans: ReadonlyMap<string, ServicePortPlan>, changed: ReadonlySet<string>, signal: AbortSignal): Promise<void>;
}

export interface ProxySyncerOptions {
  families: FamilyProxier[];
  services: ServiceChangeTracker;
  slices: EndpointSliceChangeTracker;
  nodeName: string;
  /** The node settings of a family as they are now (node labels and IPs may change). */
  nodeConfig: (family: ServiceMap['family']) => ProxyNodeConfig;
  schedule: ScheduleSettings;
  metrics: ProxyMetrics;
  health: ProxyHealthState;
  log: Logger;
  after?: AfterSync[];
  clock?: () => number;
}

/** Upstream's FullSyncPeriod: a full sync at least this often. */
export const fullSyncPeriodMs = 3_600_000;

export class ProxySyncer {
  readonly #o: ProxySyncerOptions;
  readonly #clock: () => number;
  #schedule: ScheduleState = { requested: false, failed: false };
  #wake: (() => void) | undefined;
  #initialized = false;
  #needFull = true;
  #lastFull = Number.NEGATIVE_INFINITY;
  #lastConfig = new Map<string, string>();
  /** Every port's plan, per family: the after-sync steps read them. */
  readonly #plans = new Map<string, Map<string, ServicePortPlan>>();
  #failing = false;
  /** Resolves after the first successful sync of every family. */
  readonly synced: Promise<void>;
  #resolveSynced!: () => void;
  syncCount = 0;

  constructor(options: ProxySyncerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? Date.now;
    this.synced = new Promise((resolve) => (this.#resolveSynced = resolve));
    for (const f of options.families) this.#plans.set(f.map.family, new Map());
  }

  /** Services and EndpointSlices are listed: from now on changes are synced. */
  setInitialized(): void {
    if (this.#initialized) return;
    this.#initialized = true;
    this.requestSync();
  }

  /** A change is waiting (a tracker recorded it); the loop runs as soon as it may. */
  requestSync(): void {
    if (!this.#initialized) return;
    const now = this.#clock();
    for (const f of this.#o.families) {
      this.#o.health.queued(f.map.family, now);
      this.#o.metrics.lastQueued.set({ ip_family: f.map.family }, now / 1000);
    }
    this.#o.metrics.serviceChangesPending.set(this.#o.services.pendingCount);
    this.#o.metrics.endpointChangesPending.set(this.#o.slices.pendingCount);
    this.#schedule = { ...this.#schedule, requested: true };
    this.#wake?.();
  }

  /** Topology or node addresses changed: the next sync rewrites everything. */
  requestFullSync(): void {
    this.#needFull = true;
    this.requestSync();
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const due = nextRunAt(this.#schedule, this.#o.schedule);
      const now = this.#clock();
      if (due > now) {
        await sleep(due - now, signal, (wake) => (this.#wake = wake));
        this.#wake = undefined;
        continue;
      }
      const start = this.#clock();
      this.#schedule = { ...this.#schedule, requested: false, lastStart: start };
      let ok = false;
      try {
        ok = await this.syncOnce(signal);
      } catch (err) {
        this.#o.log.error({ err: TskubeError.from(err).message }, 'sync failed unexpectedly');
      }
      this.#schedule = { ...this.#schedule, failed: !ok, lastEnd: this.#clock() };
    }
  }

  /** The single syncRules(): true when every family synced. */
  async syncOnce(signal: AbortSignal = new AbortController().signal): Promise<boolean> {
    if (!this.#initialized) return true;
    const start = this.#clock();
    const serviceChanges = this.#o.services.take();
    const endpointChanges = this.#o.slices.take();
    this.#o.metrics.serviceChangesTotal.inc(serviceChanges.size);
    this.#o.metrics.endpointChangesTotal.inc(endpointChanges.size);
    this.#o.metrics.serviceChangesPending.set(0);
    this.#o.metrics.endpointChangesPending.set(0);
    const changedServices = new Set([...serviceChanges, ...endpointChanges.keys()]);
    const full = this.#needFull || start - this.#lastFull >= fullSyncPeriodMs;
    let allOk = true;
    for (const f of this.#o.families) {
      const family = f.map.family;
      // The sync metrics time what upstream's syncProxyRules does: the service map update,
      // the rule building and the write, and after it the health-check servers and the
      // conntrack cleanup (upstream observes the duration in a defer, when all that is done).
      // Reading Services into ports happens on arrival, in the trackers, as upstream's.
      const familyStart = this.#clock();
      const update = f.map.update(changedServices, this.#o.services, this.#o.slices, this.#o.nodeName);
      for (const problem of update.problems) this.#o.log.warn({ ipFamily: family }, `skipping a Service: ${problem}`);
      const config = this.#o.nodeConfig(family);
      const configKey = JSON.stringify(config);
      const familyFull = full || this.#lastConfig.get(family) !== configKey;
      const plans = this.#plans.get(family)!;
      const request = new Map<string, ServicePortPlan | undefined>();
      if (familyFull) {
        plans.clear();
        for (const key of f.map.portKeys()) {
          const plan = f.map.plan(key, config.topology)!;
          plans.set(key, plan);
          request.set(key, plan);
        }
      } else {
        for (const key of update.changedPorts) {
          const plan = f.map.plan(key, config.topology);
          if (plan) plans.set(key, plan);
          else plans.delete(key);
          request.set(key, plan);
        }
      }
      try {
        const result = await f.backend.sync({ full: familyFull, config, plans: request, now: familyStart }, signal);
        const end = this.#clock();
        this.#o.metrics.lastSync.set({ ip_family: family }, end / 1000);
        this.#o.health.updated(family, end);
        this.#lastConfig.set(family, configKey);
        this.#recordNoLocalEndpoints(family, plans);
        for (const change of endpointChanges.values()) {
          for (const t of change.triggerTimes) this.#o.metrics.networkProgramming.observe({ ip_family: family }, Math.max(0, end - t) / 1000);
        }
        for (const step of this.#o.after ?? []) {
          try {
            await step.afterSync(family, plans, familyFull ? new Set(plans.keys()) : new Set(request.keys()), signal);
          } catch (err) {
            this.#o.log.warn({ ipFamily: family, err: TskubeError.from(err).message }, 'after-sync step failed');
          }
        }
        const done = this.#clock();
        const seconds = (done - familyStart) / 1000;
        this.#o.metrics.syncDuration.observe({ ip_family: family }, seconds);
        (familyFull ? this.#o.metrics.syncFullDuration : this.#o.metrics.syncPartialDuration).observe({ ip_family: family }, seconds);
        const line = {
          ipFamily: family,
          full: familyFull,
          servicePorts: plans.size,
          changedPorts: request.size,
          ms: done - familyStart,
          rulesWrittenMs: end - familyStart,
          ...result.detail,
        };
        if (familyFull) this.#o.log.info(line, 'synced proxy rules');
        else this.#o.log.debug(line, 'synced proxy rules');
      } catch (err) {
        allOk = false;
        if (signal.aborted) break;
        if (!this.#failing)
          this.#o.log.error({ ipFamily: family, err: TskubeError.from(err).message }, 'sync failed; the previous rules stay; retrying as a full sync');
        this.#failing = true;
      }
    }
    if (allOk) {
      if (full) this.#lastFull = start;
      if (this.#failing) this.#o.log.info('sync recovered');
      this.#failing = false;
      this.#needFull = false;
      this.syncCount++;
      this.#resolveSynced();
    } else {
      this.#needFull = true;
    }
    return allOk;
  }

  #recordNoLocalEndpoints(family: ServiceMap['family'], plans: ReadonlyMap<string, ServicePortPlan>): void {
    let internal = 0;
    let external = 0;
    for (const p of plans.values()) {
      if (p.internalVerdict === 'drop') internal++;
      if (p.externalVerdict === 'drop' && p.port.externalPolicyLocal) external++;
    }
    this.#o.metrics.noLocalEndpoints.set({ traffic_policy: 'internal', ip_family: family }, internal);
    this.#o.metrics.noLocalEndpoints.set({ traffic_policy: 'external', ip_family: family }, external);
  }

  /** The current plans of a family (for the health-check servers and tests). */
  plansOf(family: ServiceMap['family']): ReadonlyMap<string, ServicePortPlan> {
    return this.#plans.get(family) ?? new Map();
  }
}
