// The proxy's health as upstream's ProxyHealthServer computes it: unhealthy when a queued
// change has waited longer than healthTimeout (2 × syncPeriod) for a sync; /healthz also
// needs the Node to be eligible (present, not being deleted, not tainted for removal by
// the cluster autoscaler). Times come in; nothing here reads a clock.
import type { IPFamilyLabel } from './proxy-metrics.js';

export interface FamilyHealth {
  lastUpdated: string;
  healthy: boolean;
}

/** The JSON body of /healthz and /livez, field for field upstream's. */
export interface ProxyHealthBody {
  lastUpdated: string;
  currentTime: string;
  nodeEligible?: boolean;
  healthy: boolean;
  status?: Partial<Record<IPFamilyLabel, FamilyHealth>>;
}

/** Go's time.Time JSON (RFC 3339 with nanoseconds trimmed); the zero time as Go prints it. */
export function goTime(ms: number | undefined): string {
  if (ms === undefined) return '0001-01-01T00:00:00Z';
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}

export class ProxyHealthState {
  readonly #timeoutMs: number;
  readonly #lastUpdated = new Map<IPFamilyLabel, number>();
  readonly #oldestQueued = new Map<IPFamilyLabel, number>();

  constructor(healthTimeoutMs: number) {
    this.#timeoutMs = healthTimeoutMs;
  }

  /** A sync of the family finished. */
  updated(family: IPFamilyLabel, now: number): void {
    this.#oldestQueued.delete(family);
    this.#lastUpdated.set(family, now);
  }

  /** A change is waiting for the family's next sync. */
  queued(family: IPFamilyLabel, now: number): void {
    if (!this.#oldestQueued.has(family)) this.#oldestQueued.set(family, now);
  }

  health(now: number): ProxyHealthBody {
    const status: Partial<Record<IPFamilyLabel, FamilyHealth>> = {};
    let healthy = true;
    let last: number | undefined;
    for (const [family, updated] of this.#lastUpdated) {
      if (last === undefined || updated > last) last = updated;
      const queued = this.#oldestQueued.get(family);
      const familyHealthy = queued === undefined || now - queued < this.#timeoutMs;
      if (!familyHealthy) healthy = false;
      status[family] = { lastUpdated: goTime(updated), healthy: familyHealthy };
    }
    return { lastUpdated: goTime(last), currentTime: goTime(now), healthy, ...(Object.keys(status).length > 0 && { status }) };
  }
}

/** What upstream's NodeEligible reads of the Node. */
export function nodeEligible(node: { metadata?: { deletionTimestamp?: string }; spec?: { taints?: { key?: string }[] } } | undefined): boolean {
  if (!node) return false;
  if (node.metadata?.deletionTimestamp) return false;
  return !(node.spec?.taints ?? []).some((t) => t.key === 'ToBeDeletedByClusterAutoscaler');
}

/** /healthz: status code and body (lastUpdated is "now" when healthy, as upstream writes it). */
export function healthzResponse(state: ProxyHealthState, node: Parameters<typeof nodeEligible>[0], now: number): { code: number; body: ProxyHealthBody } {
  const h = state.health(now);
  const eligible = nodeEligible(node);
  const healthy = h.healthy && eligible;
  const body: ProxyHealthBody = {
    lastUpdated: healthy ? goTime(now) : h.lastUpdated,
    currentTime: h.currentTime,
    nodeEligible: eligible,
    healthy: h.healthy,
    ...(h.status && { status: h.status }),
  };
  return { code: healthy ? 200 : 503, body };
}

export function livezResponse(state: ProxyHealthState, now: number): { code: number; body: ProxyHealthBody } {
  const h = state.health(now);
  return { code: h.healthy ? 200 : 503, body: h.healthy ? { ...h, lastUpdated: goTime(now) } : h };
}
