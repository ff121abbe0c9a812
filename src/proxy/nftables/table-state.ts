// What tskube believes the kube-proxy table holds, kept in memory so a partial sync
// writes only what changed and never lists the kernel. Every element is claimed by the
// service port that wants it (element-claims.ts).
// The digest of everything here travels in the table itself (@sync-state), so a restart
// can tell whether the rules in place are exactly the ones it would write. (Stale chains,
// flushed and waiting for deletion, are left out of it: a restart finds and removes them.)
import { ElementClaims, elementId } from './element-claims.js';
import type { NftElement, NftSet } from './objects.js';
import type { BaseStructure } from './render-base.js';
import type { RenderedServicePort } from './render-service.js';
import { addUnit, type Digest, emptyDigest, removeUnit } from './unit-digest.js';

export const elementUnit = (e: NftElement) => `${elementId(e)}\u0000${e.value === undefined ? '' : e.value.join(' . ')}\u0000${e.comment ?? ''}`;
export const chainUnit = (name: string, rules: readonly string[]) => `c ${name}\n${rules.join('\n')}`;
export const affinitySetUnit = (s: NftSet) => `s ${s.name} ${s.timeout ?? 0}`;

/** The owner of elements that belong to the fixed structure (nodeport-ips). */
export const baseOwner = '';

export interface NftTableState {
  /** The fixed structure last written, as text: a change means a full sync. */
  baseText: string;
  base: BaseStructure | undefined;
  /** What each service port last wrote. */
  ports: Map<string, RenderedServicePort>;
  /** The elements of the shared sets and maps: who wants what, and what the kernel holds. */
  claims: ElementClaims;
  /** Managed chains in the kernel (per-port and shared DNAT chains) → their rules; stale ones are empty. */
  chains: Map<string, readonly string[]>;
  /** Chains flushed and waiting to be deleted → when they went stale (ms). */
  stale: Map<string, number>;
  affinitySets: Map<string, NftSet>;
  /** Shared DNAT chain → how many ports use it. */
  dnatRefs: Map<string, number>;
  digest: Digest;
}

export function emptyTableState(): NftTableState {
  return {
    baseText: '',
    base: undefined,
    ports: new Map(),
    claims: new ElementClaims(),
    chains: new Map(),
    stale: new Map(),
    affinitySets: new Map(),
    dnatRefs: new Map(),
    digest: emptyDigest,
  };
}

export const sameElement = (a: NftElement | undefined, b: NftElement | undefined) =>
  a !== undefined && b !== undefined && (a === b || elementUnit(a) === elementUnit(b));

export const sameRules = (a: readonly string[] | undefined, b: readonly string[]) => a !== undefined && a.length === b.length && a.every((r, i) => r === b[i]);

/** The digest of a state built from scratch (for tests: it must equal the one kept incrementally). */
export function computeDigest(s: NftTableState): Digest {
  let d = addUnit(emptyDigest, `b ${s.baseText}`);
  for (const e of s.claims.elements.values()) d = addUnit(d, elementUnit(e));
  for (const [name, rules] of s.chains) if (!s.stale.has(name)) d = addUnit(d, chainUnit(name, rules));
  for (const set of s.affinitySets.values()) d = addUnit(d, affinitySetUnit(set));
  return d;
}

export { addUnit, elementId, removeUnit };
