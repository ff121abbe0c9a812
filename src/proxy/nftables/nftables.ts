// The one seam between the nftables back end and the kernel: run a transaction, check
// one, read the little a restart needs (chain names, affinity sets, the sync-state
// marker), delete the table. `nft` implements it with the nft binary; the fake
// (fake-nftables.ts) with an in-memory model for unit tests.
import { TskubeError } from '../../common/errors.js';
import type { Exec } from '../exec/exec.js';
import { kubeProxyTable, sets } from './names.js';
import type { NftFamily } from './objects.js';
import type { Transaction } from './transaction.js';

export interface NftInventory {
  tableExists: boolean;
  chains: Set<string>;
  /** Affinity sets (and any other set) by name → timeout in seconds (0 without one). */
  setTimeouts: Map<string, number>;
  /** The @sync-state comment, when there is one. */
  syncState?: string;
}

export interface Nftables {
  run(tx: Transaction, signal?: AbortSignal): Promise<void>;
  /** `nft -c`: would the kernel take it? Changes nothing. */
  check(tx: Transaction, signal?: AbortSignal): Promise<void>;
  inventory(family: NftFamily, signal?: AbortSignal): Promise<NftInventory>;
  /** Deletes the kube-proxy table of the family; false when there was none. */
  deleteTable(family: NftFamily, signal?: AbortSignal): Promise<boolean>;
}

/** nft's printed durations: "3h", "1d2h", "10m30s", "500ms". */
export function parseNftDuration(text: string): number | undefined {
  const re = /(\d+)(ms|d|h|m|s)/gy;
  let total = 0;
  let end = 0;
  const unit: Record<string, number> = { d: 86_400, h: 3600, m: 60, s: 1, ms: 0.001 };
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * unit[m[2]!]!;
    end = re.lastIndex;
  }
  return end === text.length && end > 0 ? total : undefined;
}

/** The chain names of `table` in the output of `nft list chains FAMILY`. */
export function parseChainList(text: string, table: string): Set<string> {
  const out = new Set<string>();
  let inTable = false;
  for (const line of text.split('\n')) {
    const t = /^table \S+ (\S+) \{/.exec(line);
    if (t) {
      inTable = t[1] === table;
      continue;
    }
    const c = /^\s+chain (\S+) \{/.exec(line);
    if (c && inTable) out.add(c[1]!);
  }
  return out;
}

/** Set name → timeout (s) of `table` in the output of `nft -t list sets FAMILY`. */
export function parseSetList(text: string, table: string): Map<string, number> {
  const out = new Map<string, number>();
  let inTable = false;
  let current: string | undefined;
  for (const line of text.split('\n')) {
    const t = /^table \S+ (\S+) \{/.exec(line);
    if (t) {
      inTable = t[1] === table;
      continue;
    }
    if (!inTable) continue;
    const s = /^\s+set (\S+) \{/.exec(line);
    if (s) {
      current = s[1]!;
      out.set(current, 0);
      continue;
    }
    const timeout = /^\s+timeout (\S+)/.exec(line);
    if (timeout && current) out.set(current, parseNftDuration(timeout[1]!) ?? 0);
  }
  return out;
}

export function parseSyncStateListing(text: string): string | undefined {
  return /comment "([^"]*)"/.exec(text)?.[1];
}

/** The real thing: the nft binary through `exec`. */
export function nftCommand(exec: Exec, binary = 'nft'): Nftables {
  const absent = (err: unknown) => /No such file or directory|does not exist/.test(TskubeError.from(err).message);
  return {
    async run(tx, signal) {
      if (tx.error) throw tx.error;
      if (tx.size === 0) return;
      await exec.output(binary, ['-f', '-'], { input: tx.toString(), ...(signal && { signal }) });
    },
    async check(tx, signal) {
      if (tx.error) throw tx.error;
      if (tx.size === 0) return;
      await exec.output(binary, ['-c', '-f', '-'], { input: tx.toString(), ...(signal && { signal }) });
    },
    async inventory(family, signal) {
      const opts = signal ? { signal } : {};
      const chainsText = await exec.output(binary, ['list', 'chains', family], opts);
      const chains = parseChainList(chainsText, kubeProxyTable);
      const tables = await exec.output(binary, ['list', 'tables', family], opts);
      const tableExists = tables.split('\n').some((line) => line.trim() === `table ${family} ${kubeProxyTable}`);
      if (!tableExists) return { tableExists, chains, setTimeouts: new Map() };
      const setTimeouts = parseSetList(await exec.output(binary, ['-t', 'list', 'sets', family], opts), kubeProxyTable);
      let syncState: string | undefined;
      if (setTimeouts.has(sets.syncState)) {
        const listing = await exec.status(binary, ['list', 'set', family, kubeProxyTable, sets.syncState], opts);
        if (listing.code === 0) syncState = parseSyncStateListing(listing.stdout);
      }
      return { tableExists, chains, setTimeouts, ...(syncState !== undefined && { syncState }) };
    },
    async deleteTable(family, signal) {
      try {
        await exec.output(binary, ['delete', 'table', family, kubeProxyTable], signal ? { signal } : {});
        return true;
      } catch (err) {
        if (absent(err)) return false;
        throw err;
      }
    },
  };
}
