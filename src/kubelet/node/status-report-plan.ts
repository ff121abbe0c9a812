// Whether a status is worth a PATCH, and what the PATCH says (upstream tryUpdateNodeStatus):
// the kubelet's fields are laid over the status the apiserver holds, so conditions and
// resources others own (NetworkUnavailable, device plugins) stay; the result is sent
// when it differs in more than heartbeat times, or when nodeStatusReportFrequency has
// passed since the last report.
import type { NodeCondition, NodeStatus } from './node-wire.js';
import { sameResources } from '../../kube/quantity.js';

/** The status the apiserver should hold: `current` with the kubelet's fields from `ours` laid over it. */
export function mergeNodeStatus(current: NodeStatus | undefined, ours: NodeStatus): NodeStatus {
  const conditions: NodeCondition[] = (current?.conditions ?? []).map((c) => ours.conditions?.find((o) => o.type === c.type) ?? c);
  for (const c of ours.conditions ?? []) if (!conditions.some((x) => x.type === c.type)) conditions.push(c);
  return {
    ...current,
    ...ours,
    capacity: { ...current?.capacity, ...ours.capacity },
    allocatable: { ...current?.allocatable, ...ours.allocatable },
    ...(current?.nodeInfo || ours.nodeInfo ? { nodeInfo: { ...current?.nodeInfo, ...ours.nodeInfo } as NonNullable<NodeStatus['nodeInfo']> } : {}),
    conditions,
  };
}

/**
 * Whether two statuses differ in anything but heartbeat times (upstream nodeStatusHasChanged):
 * only then is a patch due before nodeStatusReportFrequency.
 */
export function nodeStatusChanged(a: NodeStatus | undefined, b: NodeStatus): boolean {
  if (!a) return true;
  if (!sameResources(a.capacity, b.capacity) || !sameResources(a.allocatable, b.allocatable)) return true;
  if (conditionsChanged(a.conditions ?? [], b.conditions ?? [])) return true;
  const rest = (s: NodeStatus) => {
    const { capacity: _c, allocatable: _a, conditions: _k, ...others } = s;
    return others;
  };
  return !deepEqual(rest(a), rest(b));
}

function conditionsChanged(a: NodeCondition[], b: NodeCondition[]): boolean {
  if (a.length !== b.length) return true;
  const strip = ({ lastHeartbeatTime: _h, ...c }: NodeCondition) => c;
  for (const x of a) {
    const y = b.find((c) => c.type === x.type);
    if (!y || !deepEqual(strip(x), strip(y))) return true;
  }
  return false;
}

/**
 * Structural equality of JSON values. Object key order does not matter (the apiserver
 * sorts maps) and an empty list equals an absent one (the apiserver omits empty lists).
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const present = (r: Record<string, unknown>) => Object.keys(r).filter((k) => r[k] !== undefined && !(Array.isArray(r[k]) && r[k].length === 0));
  const ka = present(ra);
  const kb = present(rb);
  return ka.length === kb.length && ka.every((k) => deepEqual(ra[k], rb[k]));
}

export type ReportDecision =
  | { kind: 'skip' }
  | { kind: 'patch'; why: 'changed' | 'report-due'; status: NodeStatus; patch: { status: Record<string, unknown> } };

export interface ReportInputs {
  /** The status on the apiserver now (undefined: not known). */
  current: NodeStatus | undefined;
  /** What the kubelet computed this round. */
  ours: NodeStatus;
  /** When the last patch succeeded (ms since epoch), if ever. */
  lastReportAt: number | undefined;
  now: number;
  reportFrequencyMs: number;
}

/** Patch now, or not (upstream: unchanged and reported within nodeStatusReportFrequency → skip). */
export function planStatusReport(input: ReportInputs): ReportDecision {
  const merged = mergeNodeStatus(input.current, input.ours);
  const changed = nodeStatusChanged(input.current, merged);
  const due = input.lastReportAt === undefined || input.now - input.lastReportAt >= input.reportFrequencyMs;
  if (!changed && !due) return { kind: 'skip' };
  return { kind: 'patch', why: changed ? 'changed' : 'report-due', status: merged, patch: statusPatch(input.ours) };
}

/**
 * The strategic merge patch for the kubelet's fields: conditions merge by type, the
 * address list is replaced whole (its merge key, type, would fold two InternalIPs into
 * one), maps merge, images are atomic.
 */
export function statusPatch(ours: NodeStatus): { status: Record<string, unknown> } {
  const status: Record<string, unknown> = { ...ours };
  if (ours.addresses) status['addresses'] = [...ours.addresses, { $patch: 'replace' }];
  return { status };
}
