// Which running pods a critical pod pushes off the node when it does not fit (upstream
// kubelet preemption, getPodsToPreempt): only pods it may preempt; BestEffort first,
// then Burstable, then Guaranteed, each time the fewest and closest-fitting pods that
// cover what is missing, so as little as possible is stopped.
import type { V1Pod } from '@kubernetes/client-node';
import { qosClass } from '../pods/qos.js';
import { preemptable } from './critical-pods.js';
import { podRequest } from './pod-requests.js';

export interface Shortfall {
  resource: 'pods' | 'cpu' | 'memory' | 'ephemeral-storage';
  /** How much is missing, in the resource's unit (millicores, bytes, pods). */
  amount: number;
}

export type PreemptionPlan = { ok: true; pods: V1Pod[] } | { ok: false; error: string };

function subtract(needs: readonly Shortfall[], pods: readonly V1Pod[]): Shortfall[] {
  const out: Shortfall[] = [];
  for (const n of needs) {
    let left = n.amount;
    for (const p of pods) {
      left -= podRequest(p, n.resource);
      if (left <= 0) break;
    }
    if (left > 0) out.push({ resource: n.resource, amount: left });
  }
  return out;
}

function distance(needs: readonly Shortfall[], pod: V1Pod): number {
  let d = 0;
  for (const n of needs) {
    const remaining = n.amount - podRequest(pod, n.resource);
    if (remaining > 0) d += (remaining / n.amount) ** 2;
  }
  return d;
}

function smallerRequest(a: V1Pod, b: V1Pod): boolean {
  for (const r of ['memory', 'cpu'] as const) {
    const x = podRequest(a, r);
    const y = podRequest(b, r);
    if (x !== y) return x < y;
  }
  return true;
}

const describe = (needs: readonly Shortfall[]) => `[${needs.map((n) => `(res: ${n.resource}, q: ${n.amount}), `).join('')}]`;

function byDistance(candidates: readonly V1Pod[], needs: Shortfall[]): PreemptionPlan {
  const pool = [...candidates];
  const chosen: V1Pod[] = [];
  let left = needs;
  while (left.length > 0) {
    if (pool.length === 0) return { ok: false, error: `no set of running pods found to reclaim resources: ${describe(left)}` };
    let best = 0;
    let bestDistance = left.length + 1;
    pool.forEach((p, i) => {
      const d = distance(left, p);
      if (d < bestDistance || (d === bestDistance && smallerRequest(p, pool[best] as V1Pod))) {
        bestDistance = d;
        best = i;
      }
    });
    const [pod] = pool.splice(best, 1) as [V1Pod];
    chosen.push(pod);
    left = subtract(left, [pod]);
  }
  return { ok: true, pods: chosen };
}

export function podsToPreempt(preemptor: V1Pod, running: readonly V1Pod[], needs: Shortfall[]): PreemptionPlan {
  const candidates = running.filter((p) => preemptable(preemptor, p));
  const byQos = (q: string) => candidates.filter((p) => qosClass(p) === q);
  const [bestEffort, burstable, guaranteed] = [byQos('BestEffort'), byQos('Burstable'), byQos('Guaranteed')];
  const unmet = subtract(needs, [...bestEffort, ...burstable, ...guaranteed]);
  if (unmet.length > 0) return { ok: false, error: `no set of running pods found to reclaim resources: ${describe(unmet)}` };
  const g = byDistance(guaranteed, subtract(needs, [...bestEffort, ...burstable]));
  if (!g.ok) return g;
  const b = byDistance(burstable, subtract(needs, [...bestEffort, ...g.pods]));
  if (!b.ok) return b;
  const be = byDistance(bestEffort, subtract(needs, [...b.pods, ...g.pods]));
  if (!be.ok) return be;
  return { ok: true, pods: [...be.pods, ...b.pods, ...g.pods] };
}
