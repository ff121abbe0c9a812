// The nftables back end for one IP family: renders plans, asks sync-plan.ts for the
// transaction and runs it. It keeps what the table holds in memory; the kernel is read
// once, at start (begun by checkSupport, so it runs while the informers list), for the
// first sync: to adopt a table whose @sync-state digest says it already holds exactly
// what would be written (a restart changes nothing then), and to find chains a previous
// run left.
import type { BackendFailureCounters, ProxyBackend, SyncRequest, SyncResult } from '../backend.js';
import type { ProxyNodeConfig } from '../plan/node-config.js';
import { isClusterIPDnatChain, isServiceChainName, kubeProxyTable } from './names.js';
import type { NftInventory, Nftables } from './nftables.js';
import { nftFamilyOf } from './objects.js';
import { renderBaseStructure } from './render-base.js';
import { type RenderedServicePort, renderServicePort } from './render-service.js';
import {
  baseStructureText,
  desiredTableState,
  type KernelInventory,
  parseSyncStateComment,
  planFullSync,
  planPartialSync,
  planStaleChainDeletion,
  type SyncPlan,
} from './sync-plan.js';
import { emptyTableState, type NftTableState } from './table-state.js';
import { Transaction } from './transaction.js';
import { digestText } from './unit-digest.js';

export interface NftablesProxierOptions {
  nft: Nftables;
  family: ProxyNodeConfig['family'];
  counters?: BackendFailureCounters;
}

export class NftablesProxier implements ProxyBackend {
  readonly mode = 'nftables' as const;
  readonly #nft: Nftables;
  readonly #family: ProxyNodeConfig['family'];
  readonly #counters: BackendFailureCounters | undefined;
  #state: NftTableState = emptyTableState();
  #started = false;
  /** The kernel's table as read at start, for the first full sync (taken once). */
  #startInventory: Promise<NftInventory> | undefined;
  /** A transaction failed: the next sync rewrites everything (the claims ran ahead of the kernel). */
  #needFull = false;

  constructor(options: NftablesProxierOptions) {
    this.#nft = options.nft;
    this.#family = options.family;
    this.#counters = options.counters;
  }

  /** What the table holds as far as this back end knows (for tests). */
  get state(): NftTableState {
    return this.#state;
  }

  async checkSupport(signal?: AbortSignal): Promise<void> {
    // An empty check transaction against a scratch table: nft runs and the kernel has nf_tables.
    const tx = new Transaction(nftFamilyOf(this.#family), `${kubeProxyTable}-probe`);
    tx.add({ kind: 'table' }).delete({ kind: 'table' });
    await this.#nft.check(tx, signal);
    // Only this back end writes its table, so what it holds now is what the first sync
    // finds; reading it here keeps the nft processes out of that sync.
    this.#startInventory = this.#nft.inventory(nftFamilyOf(this.#family), signal);
    this.#startInventory.catch(() => undefined);
  }

  async sync(request: SyncRequest, signal?: AbortSignal): Promise<SyncResult> {
    const { config, now } = request;
    await this.#deleteStaleChains(config, now, signal);
    const base = renderBaseStructure(config);
    const full = request.full || !this.#started || this.#needFull || this.#state.baseText !== baseStructureText(base);
    if (full) return this.#fullSync(request, base, signal);
    const changes = new Map<string, RenderedServicePort | undefined>();
    for (const [key, plan] of request.plans) changes.set(key, plan ? renderServicePort(plan, config) : undefined);
    const plan = planPartialSync(config, this.#state, changes, now);
    const kernelMs = await this.#run(plan, signal);
    return { detail: { full: false, operations: plan.tx.size, kernelMs, ...plan.stats } };
  }

  async cleanup(signal?: AbortSignal): Promise<string[]> {
    const family = nftFamilyOf(this.#family);
    return (await this.#nft.deleteTable(family, signal)) ? [`table ${family} ${kubeProxyTable}`] : [];
  }

  async #fullSync(request: SyncRequest, base: ReturnType<typeof renderBaseStructure>, signal?: AbortSignal): Promise<SyncResult> {
    const { config, now } = request;
    const ports = new Map<string, RenderedServicePort>();
    for (const [key, plan] of request.plans) if (plan) ports.set(key, renderServicePort(plan, config));
    const desired = desiredTableState(base, ports, config);
    let inventory: KernelInventory | undefined;
    if (!this.#started) {
      const reading = this.#startInventory ?? this.#nft.inventory(nftFamilyOf(this.#family), signal);
      this.#startInventory = undefined;
      const found = await reading;
      inventory = {
        tableExists: found.tableExists,
        chains: found.chains,
        affinitySets: new Map([...found.setTimeouts].filter(([n]) => n.startsWith('affinity-'))),
      };
      const recorded = found.syncState === undefined ? undefined : parseSyncStateComment(found.syncState);
      if (found.tableExists && recorded === digestText(desired.digest)) return this.#adopt(desired, found.chains, request, signal);
    }
    const plan = planFullSync({ config, current: this.#state, desired, ...(inventory && { inventory }), recreateBaseChains: !this.#started, now });
    const kernelMs = await this.#run(plan, signal);
    this.#started = true;
    return { detail: { full: true, operations: plan.tx.size, kernelMs, ...plan.stats } };
  }

  // The table already holds what a full sync would write: keep it, flush only chains a
  // previous run left behind, and take over from there.
  async #adopt(desired: NftTableState, chains: ReadonlySet<string>, request: SyncRequest, signal?: AbortSignal): Promise<SyncResult> {
    const leftovers = [...chains].filter((c) => (isServiceChainName(c) || isClusterIPDnatChain(c)) && !desired.chains.has(c));
    if (leftovers.length > 0) {
      const tx = new Transaction(nftFamilyOf(this.#family), kubeProxyTable);
      for (const name of leftovers) tx.flush({ kind: 'chain', name });
      await this.#nft.run(tx, signal);
    }
    this.#state = desired;
    for (const name of leftovers) {
      this.#state.chains.set(name, []);
      this.#state.stale.set(name, request.now);
    }
    this.#started = true;
    return { detail: { full: true, adopted: true, operations: leftovers.length } };
  }

  /** Runs the plan's transaction; returns how long nft took (ms), for the sync's log line. */
  async #run(plan: SyncPlan, signal?: AbortSignal): Promise<number> {
    const started = performance.now();
    try {
      await this.#nft.run(plan.tx, signal);
    } catch (err) {
      this.#counters?.syncFailed();
      this.#needFull = true;
      throw err;
    }
    const kernelMs = Math.round(performance.now() - started);
    plan.commit();
    if (plan.full) this.#needFull = false;
    return kernelMs;
  }

  async #deleteStaleChains(config: ProxyNodeConfig, now: number, signal?: AbortSignal): Promise<void> {
    const { tx, chains } = planStaleChainDeletion(config, this.#state, now);
    if (chains.length === 0) return;
    try {
      await this.#nft.run(tx, signal);
      for (const name of chains) {
        this.#state.chains.delete(name);
        this.#state.stale.delete(name);
      }
    } catch {
      // Still referenced, or gone already: a full sync sorts it out.
      this.#counters?.cleanupFailed();
      this.#started = false;
    }
  }
}
