// The generic pieces of a Go component's configuration the proxy shares with the kubelet:
// Go durations (metav1.Duration), pflag command lines, and typed readers for decoded
// YAML fields that name the field and value when they refuse one.
//
// A proxy-local copy of src/kubelet/config/{go-duration,go-flags,field-readers}.ts: src/proxy
// must not import src/kubelet. These belong in src/common; until they move, keep the two
// copies in step.
import { isIP } from 'node:net';
import { TskubeError } from '../../common/errors.js';

// ── Go durations ────────────────────────────────────────────────────────────────────

const unitMs: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration: "10s", "5m0s", "1h30m", "-2s", "0" → milliseconds; undefined when it is not one. */
export function parseGoDuration(text: string): number | undefined {
  const m = /^([+-]?)(.*)$/s.exec(text);
  const sign = m?.[1] === '-' ? -1 : 1;
  const body = m?.[2] ?? '';
  if (body === '0') return 0;
  if (body === '') return undefined;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let end = 0;
  for (let p = re.exec(body); p; p = re.exec(body)) {
    total += Number(p[1]) * (unitMs[p[2] ?? ''] ?? Number.NaN);
    end = re.lastIndex;
  }
  if (end !== body.length || !Number.isFinite(total)) return undefined;
  return sign * total;
}

/** Milliseconds printed as Go prints a time.Duration: "0s", "500ms", "10s", "5m0s", "1h0m0s". */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 1000) {
    if (abs >= 1) return `${sign}${trim(abs)}ms`;
    if (abs >= 1e-3) return `${sign}${trim(abs * 1000)}µs`;
    return `${sign}${trim(abs * 1e6)}ns`;
  }
  const h = Math.floor(abs / 3_600_000);
  const m = Math.floor((abs % 3_600_000) / 60_000);
  const s = (abs % 60_000) / 1000;
  if (h > 0) return `${sign}${h}h${m}m${trim(s)}s`;
  if (m > 0) return `${sign}${m}m${trim(s)}s`;
  return `${sign}${trim(s)}s`;
}

const trim = (n: number) => String(Number(n.toFixed(9)));

// ── pflag command lines ─────────────────────────────────────────────────────────────
// "--flag=value" and "--flag value"; a boolean takes "=false" but never a separate word;
// one dash for one-letter shorthands; "--" ends the flags; the last value of a repeated
// flag wins unless the flag collects.

export interface FlagDef {
  name: string;
  kind: 'string' | 'bool';
  shorthand?: string;
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
    const def = long ? byName.get(name) : byShort.get(name);
    if (!def) throw new TskubeError('invalid-argument', long ? `unknown flag: --${name}` : `unknown shorthand flag: '${name}' in ${arg}`);
    if (def.kind === 'bool') {
      set(def, String(inline === undefined ? true : parseBool(inline, `--${def.name}`)));
      continue;
    }
    if (inline !== undefined) {
      set(def, inline);
      continue;
    }
    const next = argv[i + 1];
    if (next === undefined) throw new TskubeError('invalid-argument', `flag needs an argument: ${long ? '--' : '-'}${name}`);
    set(def, next);
    i++;
  }
  return { values, positionals };
}

// ── Field readers for decoded YAML/JSON ─────────────────────────────────────────────

export type Reader<T> = (value: unknown, path: string) => T;

export function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function invalid(path: string, value: unknown, want: string): TskubeError {
  return new TskubeError('invalid-argument', `${path}: invalid value ${show(value)}: ${want}`);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const bool: Reader<boolean> = (v, path) => {
  if (typeof v !== 'boolean') throw invalid(path, v, 'want true or false');
  return v;
};

export const str: Reader<string> = (v, path) => {
  if (typeof v !== 'string') throw invalid(path, v, 'want a string');
  return v;
};

export function int(min = -(2 ** 31), max = 2 ** 31 - 1): Reader<number> {
  return (v, path) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) throw invalid(path, v, 'want a whole number');
    if (v < min || v > max) throw invalid(path, v, `want a number from ${min} to ${max}`);
    return v;
  };
}

export function num(min: number, max: number): Reader<number> {
  return (v, path) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(path, v, 'want a number');
    if (v < min || v > max) throw invalid(path, v, `want a number from ${min} to ${max}`);
    return v;
  };
}

/** A Go duration string; negative durations are refused unless `allowNegative`. */
export function duration(allowNegative = false): Reader<number> {
  return (v, path) => {
    const ms = typeof v === 'string' ? parseGoDuration(v) : undefined;
    if (ms === undefined) throw invalid(path, v, 'want a Go duration such as "10s" or "5m0s"');
    if (ms < 0 && !allowNegative) throw invalid(path, v, 'must not be negative');
    return ms;
  };
}

export function oneOf<T extends string>(values: readonly T[]): Reader<T> {
  return (v, path) => {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) throw invalid(path, v, `want one of ${values.map((x) => show(x)).join(', ')}`);
    return v as T;
  };
}

export function list<T>(item: Reader<T>): Reader<T[]> {
  return (v, path) => {
    if (!Array.isArray(v)) throw invalid(path, v, 'want a list');
    return v.map((x, i) => item(x, `${path}[${i}]`));
  };
}

export const ip: Reader<string> = (v, path) => {
  if (typeof v !== 'string' || isIP(v) === 0) throw invalid(path, v, 'want an IP address');
  return v;
};

/** Whether a value is its type's zero value or empty (after which upstream applies its default). */
export function isZeroValue(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '' || v === '0s' || v === '0') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.values(v).every(isZeroValue);
  return false;
}
