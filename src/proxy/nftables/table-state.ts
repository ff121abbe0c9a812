// What tskube believes the kube-proxy table holds, kept in memory so a partial sync
// writes only what changed and never lists the kernel. Every element is claimed by the
// service port that wants it; when two ports want the same key (two Services sharing an
// external IP and port), the port with the smaller key wins, whatever order they came in.
// The digest of everything here travels in the table itself (@sync-state), so a restart
// can tell whether the rules in place are exactly the ones it would write. (Stale chains,
// flushed and waiting for deletion, are left out of it: a restart finds and removes them.)
import type { BaseStructure } from './render-base.js';
import type { RenderedServicePort } from './render-service.js';
import type { NftElement, NftSet } from './objects.js';
import { addUnit, type Digest, emptyDigest, removeUnit } from './unit-digest.js';

export const elementId = (e: NftElement) => `${e.name}\u0000${e.key.join(' . ')}`;

export const elementUnit = (e: NftElement) => `e ${e.name} ${e.key.join(' . ')} : ${(e.value ?? []).join(' . ')} # ${e.comment ?? ''}`;
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
  /** Element id → owner → the element it wants. */
  claims: Map<string, Map<string, NftElement>>;
  /** Element id → the element the kernel holds (the winning claim). */
  elements: Map<string, NftElement>;
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
    claims: new Map(),
    elements: new Map(),
    chains: new Map(),
    stale: new Map(),
    affinitySets: new Map(),
    dnatRefs: new Map(),
    digest: emptyDigest,
  };
}

/** The winning claim: the smallest owner key. */
export function winner(claims: ReadonlyMap<string, NftElement> | undefined): NftElement | undefined {
  if (!claims || claims.size === 0) return undefined;
  let best: string | undefined;
  for (const owner of claims.keys()) if (best === undefined || owner < best) best = owner;
  return claims.get(best!);
}

export const sameElement = (a: NftElement | undefined, b: NftElement | undefined) => a !== undefined && b !== undefined && elementUnit(a) === elementUnit(b);

export const sameRules = (a: readonly string[] | undefined, b: readonly string[]) => a !== undefined && a.length === b.length && a.every((r, i) => r === b[i]);

/** The digest of a state built from scratch (for tests: it must equal the one kept incrementally). */
export function computeDigest(s: NftTableState): Digest {
  let d = addUnit(emptyDigest, `b ${s.baseText}`);
  for (const e of s.elements.values()) d = addUnit(d, elementUnit(e));
  for (const [name, rules] of s.chains) if (!s.stale.has(name)) d = addUnit(d, chainUnit(name, rules));
  for (const set of s.affinitySets.values()) d = addUnit(d, affinitySetUnit(set));
  return d;
}

export { addUnit, removeUnit };
