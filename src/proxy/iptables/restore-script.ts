// An iptables-restore script as a value: per table, the chains it declares (which
// `--noflush` flushes, or creates) and the lines that follow, in order. `toString()` is
// exactly what `iptables-restore --noflush --counters` reads; the kernel takes each
// table's section whole or not at all.
import type { IptTable } from './names.js';

const order: readonly IptTable[] = ['filter', 'nat', 'mangle'];

export class RestoreScript {
  readonly #tables = new Map<IptTable, { chains: string[]; lines: string[]; rules: number }>();

  #table(table: IptTable) {
    let t = this.#tables.get(table);
    if (!t) {
      t = { chains: [], lines: [], rules: 0 };
      this.#tables.set(table, t);
    }
    return t;
  }

  /** ":CHAIN - [0:0]": the chain exists and is empty when the lines run. */
  declare(table: IptTable, chain: string): this {
    this.#table(table).chains.push(chain);
    return this;
  }

  /** One line: "-A CHAIN …", "-I CHAIN 1 …", "-D CHAIN …", "-X CHAIN". */
  line(table: IptTable, text: string): this {
    const t = this.#table(table);
    t.lines.push(text);
    if (text.startsWith('-A ') || text.startsWith('-I ')) t.rules++;
    return this;
  }

  append(table: IptTable, chain: string, rule: string): this {
    const t = this.#table(table);
    t.lines.push(`-A ${chain} ${rule}`);
    t.rules++;
    return this;
  }

  get size(): number {
    let n = 0;
    for (const t of this.#tables.values()) n += t.chains.length + t.lines.length;
    return n;
  }

  /** Rules written per table (for kubeproxy_sync_proxy_rules_iptables_last). */
  ruleCount(table: IptTable): number {
    return this.#tables.get(table)?.rules ?? 0;
  }

  toString(): string {
    const out: string[] = [];
    for (const name of order) {
      const t = this.#tables.get(name);
      if (!t) continue;
      out.push(`*${name}`);
      // Sorted: iptables-nft-restore takes sorted declarations about twice as fast (measured
      // with 6,000 chains: 0.74 s against 1.4 s); their order means nothing to the kernel.
      for (const c of [...t.chains].sort()) out.push(`:${c} - [0:0]`);
      // One line at a time: spreading a big cluster's lines into push() overflows the stack.
      for (const line of t.lines) out.push(line);
      out.push('COMMIT');
    }
    return out.length === 0 ? '' : `${out.join('\n')}\n`;
  }
}
