// An in-memory iptables for unit tests: tables of chains of rule texts. `restore` applies
// a script to a copy and keeps it only when every line worked, refusing what
// iptables-restore refuses (a jump to a missing chain, -D of a rule that is not there,
// -X of a chain still referenced); `save` prints a table as iptables-save does, close
// enough for golden tests (rules as written, chains sorted).
import { TskubeError } from '../../common/errors.js';
import type { IPFamily } from '../net/ip.js';
import type { Iptables } from './iptables.js';
import type { IptTable } from './names.js';

const builtins: Record<IptTable, string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
};

type Tables = Map<IptTable, Map<string, string[]>>;

const fail = (line: string, why: string) => new TskubeError('unknown', `iptables-restore: line "${line}": ${why}`);

function fresh(): Tables {
  return new Map((Object.keys(builtins) as IptTable[]).map((t) => [t, new Map(builtins[t].map((c) => [c, [] as string[]]))]));
}

const jumpTarget = (rule: string) => /(?:^| )-j (\S+)/.exec(rule)?.[1];
const isUserChain = (name: string) => name.startsWith('KUBE-') || name.startsWith('TEST-');

export class FakeIptables implements Iptables {
  readonly #families = new Map<IPFamily, Tables>();
  /** Every script restored, for tests that look at what was written. */
  readonly scripts: string[] = [];
  failNext: string | undefined;

  #tables(family: IPFamily): Tables {
    let t = this.#families.get(family);
    if (!t) {
      t = fresh();
      this.#families.set(family, t);
    }
    return t;
  }

  async restore(family: IPFamily, script: string): Promise<void> {
    const copy: Tables = new Map([...this.#tables(family)].map(([t, chains]) => [t, new Map([...chains].map(([c, r]) => [c, [...r]]))]));
    let table: Map<string, string[]> | undefined;
    for (const line of script.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      if (line.startsWith('*')) {
        table = copy.get(line.slice(1) as IptTable);
        if (!table) throw fail(line, 'no such table');
        continue;
      }
      if (line === 'COMMIT') {
        table = undefined;
        continue;
      }
      if (!table) throw fail(line, 'outside a table');
      apply(table, line);
    }
    if (this.failNext !== undefined) {
      const why = this.failNext;
      this.failNext = undefined;
      throw new TskubeError('unknown', `iptables-restore: ${why}`);
    }
    this.scripts.push(script);
    this.#families.set(family, copy);
  }

  async save(family: IPFamily, table: IptTable): Promise<string> {
    const chains = this.#tables(family).get(table)!;
    const names = [...chains.keys()].sort((a, b) => Number(isUserChain(a)) - Number(isUserChain(b)) || a.localeCompare(b));
    const out = [`*${table}`, ...names.map((c) => `:${c} ${isUserChain(c) ? '-' : 'ACCEPT'} [0:0]`)];
    for (const c of names) for (const r of chains.get(c)!) out.push(`-A ${c} ${r}`);
    out.push('COMMIT');
    return `${out.join('\n')}\n`;
  }

  /** One table of a family as iptables-save prints it. */
  dump(family: IPFamily, table: IptTable): Promise<string> {
    return this.save(family, table);
  }
}

function apply(table: Map<string, string[]>, line: string): void {
  const declared = /^:(\S+) \S+ \[\d+:\d+\]$/.exec(line);
  if (declared) {
    table.set(declared[1]!, []);
    return;
  }
  const m = /^-(A|I|D|X) (\S+)(?: (.*))?$/.exec(line);
  if (!m) throw fail(line, 'cannot parse');
  const [, op, chain, restText = ''] = m;
  const rules = table.get(chain!);
  if (!rules) throw fail(line, `chain ${chain} does not exist`);
  const checkTarget = (rule: string) => {
    const target = jumpTarget(rule);
    if (target && isUserChain(target) && !table.has(target)) throw fail(line, `chain ${target} does not exist`);
  };
  switch (op) {
    case 'A':
      checkTarget(restText);
      rules.push(restText);
      return;
    case 'I': {
      const pos = /^(\d+) (.*)$/.exec(restText);
      const rule = pos ? pos[2]! : restText;
      checkTarget(rule);
      rules.splice(pos ? Number(pos[1]) - 1 : 0, 0, rule);
      return;
    }
    case 'D': {
      const i = rules.indexOf(restText);
      if (i < 0) throw fail(line, 'Bad rule (does a matching rule exist in that chain?)');
      rules.splice(i, 1);
      return;
    }
    case 'X': {
      if (rules.length > 0) throw fail(line, `chain ${chain} is not empty`);
      for (const [name, other] of table)
        if (name !== chain && other.some((r) => jumpTarget(r) === chain)) throw fail(line, `chain ${chain} is still referenced by ${name}`);
      table.delete(chain!);
      return;
    }
  }
}
