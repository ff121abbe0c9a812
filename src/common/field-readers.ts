import { isIP } from 'node:net';
import { TskubeError } from './errors.js';
import { parseGoDuration } from './go-duration.js';

// Readers for the fields of a decoded YAML/JSON configuration (KubeletConfiguration,
// KubeProxyConfiguration): each takes the value and the field's path and returns the
// typed value, or throws one invalid-argument error that names the path and shows the value.

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

/** The objects in the list at `key` (anything else in it, or no list, is skipped). */
export function objectList(obj: Record<string, unknown> | undefined, key: string): Record<string, unknown>[] {
  const list = obj?.[key];
  return Array.isArray(list) ? list.filter(isPlainObject) : [];
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

/** One of `values`; the message lists them bare, except an allowed empty string, shown as "". */
export function oneOf<T extends string>(values: readonly T[]): Reader<T> {
  return (v, path) => {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      throw invalid(path, v, `want one of ${values.map((x) => (x === '' ? '""' : x)).join(', ')}`);
    }
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

export function stringMap(checkEntry?: (key: string, value: string, path: string) => void): Reader<Record<string, string>> {
  return (v, path) => {
    if (!isPlainObject(v)) throw invalid(path, v, 'want a map of strings');
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(v)) {
      if (typeof x !== 'string') throw invalid(`${path}.${k}`, x, 'want a string');
      checkEntry?.(k, x, `${path}.${k}`);
      out[k] = x;
    }
    return out;
  };
}
