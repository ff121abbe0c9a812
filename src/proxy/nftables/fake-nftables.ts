// An in-memory nftables for unit tests: a model of the tables, not a recorder of calls.
// `run` applies a transaction to a copy and keeps it only if every operation succeeded,
// refusing what the kernel refuses (a missing chain, set or element; a chain or set still
// referenced; a map key already holding another value), so a planner bug fails a unit
// test the way it would fail `nft -f`. `dump()` prints the ruleset as a canonical
// `nft -f` script (rules in order, everything else sorted); `parseDump()` reads one back.
import { TskubeError } from '../../common/errors.js';
import { kubeProxyTable, sets as setNames } from './names.js';
import type { NftInventory, Nftables } from './nftables.js';
import type { NftChain, NftElement, NftFamily, NftObject, NftSet } from './objects.js';
import { quote, Transaction } from './transaction.js';

interface FakeRule {
  rule: string;
  comment?: string;
}

interface FakeChain {
  def: NftChain;
  rules: FakeRule[];
}

interface FakeSet {
  def: NftSet;
  /** Key text → element. */
  elements: Map<string, NftElement>;
}

export interface FakeTable {
  comment?: string;
  chains: Map<string, FakeChain>;
  sets: Map<string, FakeSet>;
}

const fail = (what: string) => new TskubeError('unknown', `nft -f -: ${what}`);
const keyText = (e: NftElement) => e.key.join(' . ');
const valueText = (e: NftElement) => (e.value ?? []).join(' . ');
const refsIn = (text: string) => ({
  chains: [...text.matchAll(/\b(?:jump|goto) (\S+)/g)].map((m) => m[1]!),
  sets: [...text.matchAll(/@([A-Za-z0-9_./-]+)/g)].map((m) => m[1]!),
});

function cloneTable(t: FakeTable): FakeTable {
  return {
    ...(t.comment !== undefined && { comment: t.comment }),
    chains: new Map([...t.chains].map(([n, c]) => [n, { def: c.def, rules: [...c.rules] }])),
    sets: new Map([...t.sets].map(([n, s]) => [n, { def: s.def, elements: new Map(s.elements) }])),
  };
}

export class FakeNftables implements Nftables {
  /** "family table" → table. */
  readonly tables = new Map<string, FakeTable>();
  /** Every transaction run, for tests that look at what was written. */
  readonly transactions: Transaction[] = [];
  /** Makes the next run fail (after checking the transaction), as a kernel refusal would. */
  failNext: string | undefined;

  table(family: NftFamily = 'ip', name = kubeProxyTable): FakeTable | undefined {
    return this.tables.get(`${family} ${name}`);
  }

  async run(tx: Transaction): Promise<void> {
    if (tx.error) throw tx.error;
    const key = `${tx.family} ${tx.table}`;
    const existing = this.tables.get(key);
    let table = existing ? cloneTable(existing) : undefined;
    for (const op of tx.operations) table = apply(table, op.verb, op.object);
    if (this.failNext !== undefined) {
      const why = this.failNext;
      this.failNext = undefined;
      throw fail(why);
    }
    this.transactions.push(tx);
    if (table) this.tables.set(key, table);
    else this.tables.delete(key);
  }

  async check(tx: Transaction): Promise<void> {
    if (tx.error) throw tx.error;
    const existing = this.tables.get(`${tx.family} ${tx.table}`);
    let table = existing ? cloneTable(existing) : undefined;
    for (const op of tx.operations) table = apply(table, op.verb, op.object);
  }

  async inventory(family: NftFamily): Promise<NftInventory> {
    const t = this.table(family);
    if (!t) return { tableExists: false, chains: new Set(), setTimeouts: new Map() };
    const syncState = t.sets.get(setNames.syncState)?.elements.values().next().value?.comment;
    return {
      tableExists: true,
      chains: new Set(t.chains.keys()),
      setTimeouts: new Map([...t.sets.values()].filter((s) => s.def.kind === 'set').map((s) => [s.def.name, s.def.timeout ?? 0])),
      ...(syncState !== undefined && { syncState }),
    };
  }

  async deleteTable(family: NftFamily): Promise<boolean> {
    return this.tables.delete(`${family} ${kubeProxyTable}`);
  }

  /** The table as a canonical script of add commands; "" when it does not exist. */
  dump(family: NftFamily = 'ip', name = kubeProxyTable): string {
    const t = this.table(family, name);
    if (!t) return '';
    const tx = new Transaction(family, name);
    tx.add({ kind: 'table', ...(t.comment !== undefined && { comment: t.comment }) });
    const chainNames = [...t.chains.keys()].sort();
    const setNamesSorted = [...t.sets.keys()].sort();
    for (const n of chainNames) tx.add(t.chains.get(n)!.def);
    for (const n of setNamesSorted) tx.add(t.sets.get(n)!.def);
    for (const n of chainNames)
      for (const r of t.chains.get(n)!.rules) tx.add({ kind: 'rule', chain: n, rule: r.rule, ...(r.comment !== undefined && { comment: r.comment }) });
    const lines = tx.toString().split('\n').filter(Boolean);
    for (const n of setNamesSorted) {
      const s = t.sets.get(n)!;
      for (const k of [...s.elements.keys()].sort()) {
        const e = s.elements.get(k)!;
        lines.push(new Transaction(family, name).add(e).toString().trimEnd());
      }
    }
    return `${lines.join('\n')}\n`;
  }

  /** Replaces the table with the one a dump describes. */
  parseDump(text: string): void {
    const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
    const first = /^add table (\S+) (\S+)/.exec(lines[0] ?? '');
    if (!first) throw fail('a dump starts with "add table"');
    const tx = new Transaction(first[1] as NftFamily, first[2]!);
    for (const line of lines) for (const o of parseCommand(line)) tx.add(o);
    this.tables.delete(`${tx.family} ${tx.table}`);
    let table: FakeTable | undefined;
    for (const op of tx.operations) table = apply(table, op.verb, op.object);
    if (table) this.tables.set(`${tx.family} ${tx.table}`, table);
  }
}

function apply(table: FakeTable | undefined, verb: string, o: NftObject): FakeTable | undefined {
  if (o.kind === 'table') {
    if (verb === 'delete') {
      if (!table) throw fail('delete table: No such file or directory');
      return undefined;
    }
    if (verb === 'flush') {
      if (!table) throw fail('flush table: No such file or directory');
      for (const c of table.chains.values()) c.rules = [];
      for (const s of table.sets.values()) s.elements.clear();
      return table;
    }
    if (table && verb === 'create') throw fail('create table: File exists');
    return table ?? { ...(o.comment !== undefined && { comment: o.comment }), chains: new Map(), sets: new Map() };
  }
  if (!table) throw fail(`${verb} ${o.kind}: the table does not exist (No such file or directory)`);
  switch (o.kind) {
    case 'chain':
      applyChain(table, verb, o);
      break;
    case 'rule':
      applyRule(table, o.chain, o.rule, o.comment);
      break;
    case 'set':
    case 'map':
      applySet(table, verb, o);
      break;
    case 'element':
      applyElement(table, verb, o);
      break;
  }
  return table;
}

function referencesTo(table: FakeTable, what: 'chains' | 'sets', name: string): boolean {
  for (const c of table.chains.values()) for (const r of c.rules) if (refsIn(r.rule)[what].includes(name)) return true;
  if (what === 'chains') {
    for (const s of table.sets.values()) for (const e of s.elements.values()) if (refsIn(valueText(e)).chains.includes(name)) return true;
  }
  return false;
}

function applyChain(table: FakeTable, verb: string, o: NftChain): void {
  const existing = table.chains.get(o.name);
  switch (verb) {
    case 'add':
    case 'create':
      if (existing) {
        if (verb === 'create') throw fail(`create chain ${o.name}: File exists`);
        if (o.hook !== undefined && (existing.def.hook !== o.hook || existing.def.type !== o.type || existing.def.priority !== o.priority)) {
          throw fail(`add chain ${o.name}: Operation not supported (base chain settings differ)`);
        }
        return;
      }
      table.chains.set(o.name, { def: o, rules: [] });
      return;
    case 'flush':
      if (!existing) throw fail(`flush chain ${o.name}: No such file or directory`);
      existing.rules = [];
      return;
    case 'delete':
      if (!existing) throw fail(`delete chain ${o.name}: No such file or directory`);
      table.chains.delete(o.name);
      if (referencesTo(table, 'chains', o.name)) throw fail(`delete chain ${o.name}: Device or resource busy`);
      return;
  }
}

function applyRule(table: FakeTable, chain: string, rule: string, comment: string | undefined): void {
  const c = table.chains.get(chain);
  if (!c) throw fail(`add rule ${chain}: chain does not exist (No such file or directory)`);
  const refs = refsIn(rule);
  for (const target of refs.chains) {
    const t = table.chains.get(target);
    if (!t) throw fail(`add rule ${chain} ${rule}: Could not process rule: No such file or directory (chain ${target})`);
    if (t.def.hook !== undefined) throw fail(`add rule ${chain} ${rule}: cannot jump to base chain ${target}`);
  }
  for (const s of refs.sets) if (!table.sets.has(s)) throw fail(`add rule ${chain} ${rule}: Could not process rule: No such file or directory (set ${s})`);
  c.rules.push({ rule, ...(comment !== undefined && { comment }) });
}

function applySet(table: FakeTable, verb: string, o: NftSet): void {
  const existing = table.sets.get(o.name);
  switch (verb) {
    case 'add':
    case 'create':
      if (existing) {
        if (verb === 'create') throw fail(`create ${o.kind} ${o.name}: File exists`);
        if (
          existing.def.kind !== o.kind ||
          existing.def.type !== o.type ||
          existing.def.typeof !== o.typeof ||
          (existing.def.timeout ?? 0) !== (o.timeout ?? 0)
        ) {
          throw fail(`add ${o.kind} ${o.name}: File exists (with different settings)`);
        }
        return;
      }
      table.sets.set(o.name, { def: o, elements: new Map() });
      return;
    case 'flush':
      if (!existing) throw fail(`flush ${o.kind} ${o.name}: No such file or directory`);
      existing.elements.clear();
      return;
    case 'delete':
      if (!existing) throw fail(`delete ${o.kind} ${o.name}: No such file or directory`);
      if (referencesTo(table, 'sets', o.name)) throw fail(`delete ${o.kind} ${o.name}: Device or resource busy`);
      table.sets.delete(o.name);
      return;
  }
}

function applyElement(table: FakeTable, verb: string, e: NftElement): void {
  const s = table.sets.get(e.name);
  if (!s) throw fail(`${verb} element ${e.name}: No such file or directory`);
  if ((s.def.kind === 'map') !== (e.container === 'map')) throw fail(`${verb} element ${e.name}: ${e.name} is a ${s.def.kind}`);
  const k = keyText(e);
  const existing = s.elements.get(k);
  if (verb === 'delete') {
    if (!existing) throw fail(`delete element ${e.name} { ${k} }: No such file or directory`);
    s.elements.delete(k);
    return;
  }
  if (existing) {
    if (verb === 'create' || valueText(existing) !== valueText(e)) throw fail(`add element ${e.name} { ${k} }: File exists`);
    return;
  }
  for (const target of refsIn(valueText(e)).chains) {
    if (!table.chains.has(target)) throw fail(`add element ${e.name} { ${k} : ${valueText(e)} }: No such file or directory (chain ${target})`);
  }
  s.elements.set(k, e);
}

// ── Reading a dump back ─────────────────────────────────────────────────────────────

function parseComment(body: string): { rest: string; comment?: string } {
  const m = / comment ("(?:[^"\\]|\\.)*")(?: ;)?/.exec(body);
  if (!m) return { rest: body };
  return { rest: body.slice(0, m.index) + body.slice(m.index + m[0].length), comment: JSON.parse(m[1]!) as string };
}

/** Splits "a, b, c" at top-level commas (not inside quotes or braces). */
function splitTop(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"' && text[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && c === '{') depth++;
    else if (!quoted && c === '}') depth--;
    else if (!quoted && depth === 0 && c === ',') {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(text.slice(start).trim());
  return out.filter((s) => s !== '');
}

function parseCommand(line: string): NftObject[] {
  const m = /^add (table|chain|rule|set|map|element) (\S+) (\S+)(?: (.*))?$/.exec(line.trim());
  if (!m) throw fail(`cannot read dump line: ${line}`);
  const [, kind, , , restText = ''] = m;
  switch (kind) {
    case 'table': {
      const { comment } = parseComment(restText);
      return [{ kind: 'table', ...(comment !== undefined && { comment }) }];
    }
    case 'chain': {
      const name = restText.split(' ')[0]!;
      const { rest, comment } = parseComment(restText.slice(name.length));
      const base = /type (\S+) hook (\S+) priority (\S+) ;/.exec(rest);
      return [
        {
          kind: 'chain',
          name,
          ...(base && { type: base[1] as NftChain['type'], hook: base[2] as NftChain['hook'], priority: base[3]! }),
          ...(comment !== undefined && { comment }),
        },
      ];
    }
    case 'rule': {
      const chain = restText.split(' ')[0]!;
      const body = restText.slice(chain.length + 1);
      const c = / comment ("(?:[^"\\]|\\.)*")$/.exec(body);
      return [{ kind: 'rule', chain, rule: c ? body.slice(0, c.index) : body, ...(c && { comment: JSON.parse(c[1]!) as string }) }];
    }
    case 'set':
    case 'map': {
      const name = restText.split(' ')[0]!;
      const { rest, comment } = parseComment(restText.slice(name.length));
      const type = /(?:^|\{ )type ([^;]+) ;/.exec(rest)?.[1];
      const typeOf = /typeof ([^;]+) ;/.exec(rest)?.[1];
      const flags = /flags ([^;]+) ;/.exec(rest)?.[1];
      const timeout = /timeout (\d+)s ;/.exec(rest)?.[1];
      return [
        {
          kind: kind as 'set' | 'map',
          name,
          ...(type !== undefined && { type: type.trim() }),
          ...(typeOf !== undefined && { typeof: typeOf.trim() }),
          ...(flags !== undefined && { flags: flags.trim().split(',') }),
          ...(timeout !== undefined && { timeout: Number(timeout) }),
          ...(comment !== undefined && { comment }),
        },
      ];
    }
    default: {
      const name = restText.split(' ')[0]!;
      const inner = /\{ (.*) \}$/.exec(restText)?.[1] ?? '';
      return splitTop(inner).map((item) => {
        const { rest, comment } = parseComment(item);
        const colon = rest.indexOf(' : ');
        const key = (colon < 0 ? rest : rest.slice(0, colon)).split(' . ').map((s) => s.trim());
        const value =
          colon < 0
            ? undefined
            : rest
                .slice(colon + 3)
                .split(' . ')
                .map((s) => s.trim());
        return {
          kind: 'element' as const,
          container: value === undefined ? ('set' as const) : ('map' as const),
          name,
          key,
          ...(value && { value }),
          ...(comment !== undefined && { comment }),
        };
      });
    }
  }
}

export { quote };
