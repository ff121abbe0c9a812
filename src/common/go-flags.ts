import { TskubeError } from './errors.js';

// Command-line parsing with the rules of Go's pflag, which the upstream kubelet uses
// and which kubeadm's systemd drop-in relies on: "--flag=value" and "--flag value";
// a boolean takes "=false" but never a separate word; a single dash works for
// one-letter shorthands ("-v 2", "-v=2"); "--" ends the flags; a repeated flag's last
// value wins unless the flag collects.

export type FlagKind = 'string' | 'bool';

export interface FlagDef {
  name: string;
  kind: FlagKind;
  shorthand?: string;
  /** Values of every occurrence are kept (maps and lists that merge). */
  repeatable?: boolean;
}

export interface ParsedFlags {
  /** Flag name → the values given, in order; booleans as "true"/"false". */
  values: Map<string, string[]>;
  positionals: string[];
}

const boolWords: Record<string, boolean> = {
  '1': true,
  t: true,
  T: true,
  true: true,
  TRUE: true,
  True: true,
  '0': false,
  f: false,
  F: false,
  false: false,
  FALSE: false,
  False: false,
};

export function parseBool(text: string, flag: string): boolean {
  const b = boolWords[text];
  if (b === undefined) throw new TskubeError('invalid-argument', `invalid argument "${text}" for "${flag}" flag: want true or false`);
  return b;
}

export function parseGoFlags(argv: readonly string[], defs: readonly FlagDef[]): ParsedFlags {
  const byName = new Map(defs.map((d) => [d.name, d]));
  const byShort = new Map(defs.filter((d) => d.shorthand).map((d) => [d.shorthand!, d]));
  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  const set = (def: FlagDef, value: string) => {
    const prior = values.get(def.name);
    values.set(def.name, def.repeatable && prior ? [...prior, value] : [value]);
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const long = arg.startsWith('--');
    const body = arg.slice(long ? 2 : 1);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const inline = eq < 0 ? undefined : body.slice(eq + 1);
    const shown = `${long ? '--' : '-'}${name}`;
    // pflag accepts a long flag after a single dash only as a shorthand.
    const def = long ? byName.get(name) : byShort.get(name);
    if (!def) {
      throw new TskubeError('invalid-argument', long ? `unknown flag: ${shown}` : `unknown shorthand flag: '${name}' in ${arg}`);
    }
    const flag = `--${def.name}`;
    if (def.kind === 'bool') {
      set(def, String(inline === undefined ? true : parseBool(inline, flag)));
      continue;
    }
    if (inline !== undefined) {
      set(def, inline);
      continue;
    }
    const next = argv[i + 1];
    if (next === undefined) throw new TskubeError('invalid-argument', `flag needs an argument: ${shown}`);
    set(def, next);
    i++;
  }
  return { values, positionals };
}

/** The error for a flag value that does not parse: names the flag and the value. */
export const badFlagValue = (flag: string, value: string, why: string) => new TskubeError('invalid-argument', `${flag}: invalid value "${value}": ${why}`);

/** A whole-number flag value within [min, max]. */
export function parseIntFlag(text: string, flag: string, min = -(2 ** 31), max = 2 ** 31 - 1): number {
  if (!/^[+-]?\d+$/.test(text.trim())) throw badFlagValue(flag, text, 'want a whole number');
  const n = Number(text);
  if (n < min || n > max) throw badFlagValue(flag, text, `want a number from ${min} to ${max}`);
  return n;
}
