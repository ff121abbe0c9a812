// From what the table holds (NftTableState) and what it should hold, the one transaction
// that gets it there. Pure: the plan carries the transaction and a `commit` that updates
// the state, called only after the kernel took the transaction.
//
//   full sync     recreates the fixed structure, flushes every set and map and rewrites
//                 all of it (start, the hourly resync, after a failure)
//   partial sync  only the service ports that changed: their elements (by claim), their
//                 chains (when their rules differ) and their affinity sets
//
// A chain no longer wanted is flushed at once and deleted by a later sync: before 6.2 the
// kernel keeps a chain referenced for a moment after the map element that pointed to it
// is gone. Order inside a transaction: chains exist before anything points at them, sets
// exist before rules use them, referrers are flushed before what they referred to goes.
import type { ProxyNodeConfig } from '../plan/node-config.js';
import { isAffinitySetName, isClusterIPDnatChain, isServiceChainName, kubeProxyTable, sets } from './names.js';
import type { NftElement, NftFamily, NftSet } from './objects.js';
import type { BaseStructure } from './render-base.js';
import { renderClusterIPDnatChain, type RenderedServicePort } from './render-service.js';
import {
  addUnit,
  affinitySetUnit,
  baseOwner,
  chainUnit,
  elementId,
  elementUnit,
  emptyTableState,
  type NftTableState,
  removeUnit,
  sameElement,
  sameRules,
} from './table-state.js';
import { Transaction } from './transaction.js';
import { type Digest, digestText, emptyDigest } from './unit-digest.js';

export interface SyncPlan {
  tx: Transaction;
  full: boolean;
  /** Applies the plan to the state; call after the transaction succeeded. */
  commit(): void;
  /** The digest recorded in @sync-state by this transaction. */
  digest: string;
  stats: { elementsAdded: number; elementsDeleted: number; chainsWritten: number; chainsFlushed: number };
}

/** What a restart found in the kernel (`nft list chains` / `list sets`), for the first full sync. */
export interface KernelInventory {
  tableExists: boolean;
  chains: ReadonlySet<string>;
  /** Affinity sets by name with their timeout (seconds). */
  affinitySets: ReadonlyMap<string, number>;
}

export const syncStateKey = '1';

export function syncStateElement(digest: string): NftElement {
  return { kind: 'element', container: 'set', name: sets.syncState, key: [syncStateKey], comment: `tskube-proxy v1 ${digest}` };
}

/** The digest a @sync-state comment records, or undefined when it is not one of ours. */
export function parseSyncStateComment(comment: string): string | undefined {
  return /^tskube-proxy v1 ([0-9a-f]{16})$/.exec(comment)?.[1];
}

export function baseStructureText(base: BaseStructure): string {
  return JSON.stringify(base);
}

function nftFamily(config: ProxyNodeConfig): NftFamily {
  return config.family === 'IPv4' ? 'ip' : 'ip6';
}

/**
 * The state a full sync writes, built from scratch: every port's elements claimed, every
 * chain with its rules, and the digest of it all.
 */
export function desiredTableState(base: BaseStructure, ports: ReadonlyMap<string, RenderedServicePort>, config: ProxyNodeConfig): NftTableState {
  const s = emptyTableState();
  s.base = base;
  s.baseText = baseStructureText(base);
  let digest = addUnit(emptyDigest, `b ${s.baseText}`);
  for (const ip of base.nodePortIPs) s.claims.claim(baseOwner, { kind: 'element', container: 'set', name: sets.nodePortIPs, key: [ip], owner: baseOwner });
  for (const [key, port] of ports) {
    s.ports.set(key, port);
    for (const e of port.elements) s.claims.claim(key, e);
    for (const [name, rules] of port.chains) s.chains.set(name, rules);
    for (const set of port.affinitySets) s.affinitySets.set(set.name, set);
    for (const chain of port.dnatChains) s.dnatRefs.set(chain, (s.dnatRefs.get(chain) ?? 0) + 1);
  }
  for (const chain of s.dnatRefs.keys()) s.chains.set(chain, renderClusterIPDnatChain(chain, config));
  for (const e of s.claims.elements.values()) digest = addUnit(digest, elementUnit(e));
  for (const [name, rules] of s.chains) digest = addUnit(digest, chainUnit(name, rules));
  for (const set of s.affinitySets.values()) digest = addUnit(digest, affinitySetUnit(set));
  s.digest = digest;
  return s;
}

export interface FullSyncInput {
  config: ProxyNodeConfig;
  /** What the table holds as far as this process knows (empty at start). */
  current: NftTableState;
  desired: NftTableState;
  /** At start: what `nft list` found. */
  inventory?: KernelInventory;
  /** First sync of this process: base chains are recreated so changed hook settings take. */
  recreateBaseChains: boolean;
  now: number;
}

export function planFullSync(input: FullSyncInput): SyncPlan {
  const { config, current, desired, inventory, now } = input;
  const base = desired.base!;
  const tx = new Transaction(nftFamily(config), kubeProxyTable);
  const stats = { elementsAdded: 0, elementsDeleted: 0, chainsWritten: 0, chainsFlushed: 0 };

  tx.add(base.table);
  for (const chain of base.baseChains) {
    if (input.recreateBaseChains) tx.add(chain).delete({ kind: 'chain', name: chain.name });
    tx.add(chain).flush({ kind: 'chain', name: chain.name });
  }
  for (const chain of base.regularChains) tx.add(chain).flush({ kind: 'chain', name: chain.name });

  // Managed chains: every wanted one exists and is empty before anything points at it;
  // the ones no longer wanted (known here or found at start) are flushed and go stale.
  const stale = new Map<string, number>();
  const known = new Set([...current.chains.keys(), ...(inventory?.chains ?? [])].filter((c) => isServiceChainName(c) || isClusterIPDnatChain(c)));
  for (const name of desired.chains.keys()) tx.add({ kind: 'chain', name }).flush({ kind: 'chain', name });
  for (const name of known) {
    if (desired.chains.has(name)) continue;
    tx.add({ kind: 'chain', name }).flush({ kind: 'chain', name });
    stale.set(name, current.stale.get(name) ?? now);
    stats.chainsFlushed++;
  }

  for (const container of base.containers) tx.add(container);
  if (base.nodePortIPs.length === 0 && config.nodePortAddresses.matchAll) {
    // Make sure the set is gone (add, then delete: delete alone fails when it is absent).
    tx.add({ kind: 'set', name: sets.nodePortIPs, type: config.family === 'IPv4' ? 'ipv4_addr' : 'ipv6_addr' }).delete({ kind: 'set', name: sets.nodePortIPs });
  }
  for (const container of base.containers) tx.flush({ kind: container.kind, name: container.name });

  // Affinity sets keep their entries (the clients' stickiness) unless their timeout changed.
  const existingAffinity = new Map<string, number>(inventory?.affinitySets ?? []);
  for (const [name, set] of current.affinitySets) existingAffinity.set(name, set.timeout ?? 0);
  for (const [name, timeout] of existingAffinity) {
    const want = desired.affinitySets.get(name);
    if (!want || want.timeout !== timeout) tx.delete({ kind: 'set', name });
  }
  for (const set of desired.affinitySets.values()) tx.add(set);

  // One container after another: consecutive elements of a set or map share a command
  // line (transaction.ts), and nft needs a fifth to a quarter less CPU for lines of a
  // thousand elements than for a line per port and map (10,000 Services x 5 endpoints:
  // 1.07 -> 0.81 s; 45,000: 3.9 -> 3.1 s).
  const byContainer = new Map<string, NftElement[]>();
  for (const e of desired.claims.elements.values()) {
    const list = byContainer.get(e.name);
    if (list) list.push(e);
    else byContainer.set(e.name, [e]);
  }
  for (const list of byContainer.values()) {
    for (const e of list) tx.add(e);
    stats.elementsAdded += list.length;
  }
  const digest = digestText(desired.digest);
  tx.add(syncStateElement(digest));

  for (const rule of base.rules) tx.add(rule);
  for (const [name, rules] of desired.chains) {
    for (const rule of rules) tx.add({ kind: 'rule', chain: name, rule });
    stats.chainsWritten++;
  }

  return {
    tx,
    full: true,
    digest,
    stats,
    commit() {
      Object.assign(current, desired, { stale, chains: new Map([...desired.chains, ...[...stale.keys()].map((n) => [n, []] as const)]) });
    },
  };
}

export function planPartialSync(
  config: ProxyNodeConfig,
  state: NftTableState,
  changes: ReadonlyMap<string, RenderedServicePort | undefined>,
  now: number,
): SyncPlan {
  const tx = new Transaction(nftFamily(config), kubeProxyTable);
  const stats = { elementsAdded: 0, elementsDeleted: 0, chainsWritten: 0, chainsFlushed: 0 };
  // Claims change at once (a failed transaction is followed by a full sync, which rebuilds
  // them); what the kernel held before is noted on first touch.
  const before = new Map<string, NftElement | undefined>();
  const touch = (id: string) => {
    if (!before.has(id)) before.set(id, state.claims.elements.get(id));
    return id;
  };
  const wantedChains = new Map<string, readonly string[]>();
  const goneChains = new Set<string>();
  const wantedSets = new Map<string, NftSet>();
  const goneSets = new Set<string>();
  const refDelta = new Map<string, number>();

  for (const [key, next] of changes) {
    const prev = state.ports.get(key);
    for (const e of prev?.elements ?? []) state.claims.release(key, touch(elementId(e)));
    for (const e of next?.elements ?? []) state.claims.claim(key, e, touch(elementId(e)));
    for (const name of prev?.chains.keys() ?? []) if (!next?.chains.has(name)) goneChains.add(name);
    for (const [name, rules] of next?.chains ?? []) wantedChains.set(name, rules);
    for (const set of prev?.affinitySets ?? []) goneSets.add(set.name);
    for (const set of next?.affinitySets ?? []) wantedSets.set(set.name, set);
    for (const chain of prev?.dnatChains ?? []) refDelta.set(chain, (refDelta.get(chain) ?? 0) - 1);
    for (const chain of next?.dnatChains ?? []) refDelta.set(chain, (refDelta.get(chain) ?? 0) + 1);
  }
  const nextRefs = new Map<string, number>();
  for (const [chain, delta] of refDelta) {
    const before = state.dnatRefs.get(chain) ?? 0;
    const after = before + delta;
    nextRefs.set(chain, after);
    if (after > 0) wantedChains.set(chain, renderClusterIPDnatChain(chain, config));
    else if (before > 0) goneChains.add(chain);
  }
  for (const name of wantedChains.keys()) goneChains.delete(name);

  let digest: Digest = state.digest;
  // Chains: new ones are added first, changed and unwanted ones flushed.
  const chainWrites: [string, readonly string[]][] = [];
  const newlyStale: string[] = [];
  for (const [name, rules] of wantedChains) {
    const existing = state.chains.get(name);
    const wasStale = state.stale.has(name);
    if (existing !== undefined && !wasStale && sameRules(existing, rules)) continue;
    if (existing === undefined) tx.add({ kind: 'chain', name });
    else tx.flush({ kind: 'chain', name });
    if (existing !== undefined && !wasStale) digest = removeUnit(digest, chainUnit(name, existing));
    digest = addUnit(digest, chainUnit(name, rules));
    chainWrites.push([name, rules]);
  }
  for (const name of goneChains) {
    const existing = state.chains.get(name);
    if (existing === undefined || state.stale.has(name)) continue;
    tx.flush({ kind: 'chain', name });
    digest = removeUnit(digest, chainUnit(name, existing));
    newlyStale.push(name);
    stats.chainsFlushed++;
  }

  // Affinity sets: gone or changed ones deleted (their rules were just flushed), new ones added.
  const setWrites: NftSet[] = [];
  const setDeletes: string[] = [];
  for (const name of goneSets) {
    const want = wantedSets.get(name);
    const have = state.affinitySets.get(name);
    if (have && (!want || want.timeout !== have.timeout)) {
      tx.delete({ kind: 'set', name });
      digest = removeUnit(digest, affinitySetUnit(have));
      setDeletes.push(name);
    }
  }
  for (const [name, set] of wantedSets) {
    const have = state.affinitySets.get(name);
    if (have && have.timeout === set.timeout) continue;
    tx.add(set);
    digest = addUnit(digest, affinitySetUnit(set));
    setWrites.push(set);
  }

  // Elements: the kernel's value of every touched key against the new winner.
  const elementAdds: NftElement[] = [];
  for (const [id, old] of before) {
    const next = state.claims.elements.get(id);
    if (sameElement(old, next)) continue;
    if (old) {
      tx.delete(old);
      digest = removeUnit(digest, elementUnit(old));
      stats.elementsDeleted++;
    }
    if (next) {
      elementAdds.push(next);
      digest = addUnit(digest, elementUnit(next));
    }
  }
  for (const e of elementAdds) tx.add(e);
  stats.elementsAdded = elementAdds.length;

  for (const [name, rules] of chainWrites) {
    for (const rule of rules) tx.add({ kind: 'rule', chain: name, rule });
    stats.chainsWritten++;
  }
  const digestHex = digestText(digest);
  if (digestHex !== digestText(state.digest)) {
    tx.delete({ kind: 'element', container: 'set', name: sets.syncState, key: [syncStateKey] });
    tx.add(syncStateElement(digestHex));
  }

  return {
    tx,
    full: false,
    digest: digestHex,
    stats,
    commit() {
      for (const [key, next] of changes) {
        if (next) state.ports.set(key, next);
        else state.ports.delete(key);
      }
      for (const [name, rules] of chainWrites) {
        state.chains.set(name, rules);
        state.stale.delete(name);
      }
      for (const name of newlyStale) {
        state.chains.set(name, []);
        state.stale.set(name, now);
      }
      for (const name of setDeletes) state.affinitySets.delete(name);
      for (const set of setWrites) state.affinitySets.set(set.name, set);
      for (const [chain, refs] of nextRefs) {
        if (refs > 0) state.dnatRefs.set(chain, refs);
        else state.dnatRefs.delete(chain);
      }
      state.digest = digest;
    },
  };
}

/** The transaction that deletes chains stale for at least `minAgeMs`, and the names it deletes. */
export function planStaleChainDeletion(config: ProxyNodeConfig, state: NftTableState, now: number, minAgeMs = 1000): { tx: Transaction; chains: string[] } {
  const tx = new Transaction(nftFamily(config), kubeProxyTable);
  const chains: string[] = [];
  for (const [name, since] of state.stale) {
    if (now - since < minAgeMs) continue;
    tx.delete({ kind: 'chain', name });
    chains.push(name);
  }
  return { tx, chains };
}

export { isAffinitySetName };
