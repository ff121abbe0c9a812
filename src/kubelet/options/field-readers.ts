import { isIP } from 'node:net';
import { TskubeError } from '../../common/errors.js';
import { parseGoDuration } from '../../common/go-duration.js';
import { tryParseQuantity } from '../../kube/quantity.js';
import { evictionSignals, taintEffects, type Taint, type TaintEffect } from './types.js';

// One reader per wire type of KubeletConfiguration. Each takes the decoded YAML/JSON
// value and the field's path, and either returns the typed value or throws one
// invalid-argument error that names the path and shows the value.

export type Reader<T> = (value: unknown, path: string) => T;

export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function invalid(path: string, value: unknown, want: string): TskubeError {
  return new TskubeError('invalid-argument', `${path}: invalid value ${show(value)}: ${want}`);
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
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) throw invalid(path, v, `want one of ${values.join(', ')}`);
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

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

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

/** kubeReserved / systemReserved: resource name → quantity. */
export const reservedResources = stringMap((_k, value, path) => {
  const q = tryParseQuantity(value);
  if (q === undefined) throw invalid(path, value, 'want a quantity such as "100m" or "1Gi"');
  if (q < 0) throw invalid(path, value, 'must not be negative');
});

/** evictionHard: signal → quantity or percentage. */
export const evictionThresholds = stringMap((key, value, path) => {
  if (!(evictionSignals as readonly string[]).includes(key)) {
    throw new TskubeError('invalid-argument', `${path}: unknown eviction signal ${show(key)}: want one of ${evictionSignals.join(', ')}`);
  }
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(value);
  if (pct) {
    if (Number(pct[1]) > 100) throw invalid(path, value, 'a percentage must be from 0% to 100%');
    return;
  }
  const q = tryParseQuantity(value);
  if (q === undefined || q < 0) throw invalid(path, value, 'want a quantity such as "100Mi" or a percentage such as "10%"');
});

/** evictionSoftGracePeriod: signal → Go duration. */
export const evictionGracePeriods = stringMap((key, value, path) => {
  if (!(evictionSignals as readonly string[]).includes(key)) {
    throw new TskubeError('invalid-argument', `${path}: unknown eviction signal ${show(key)}: want one of ${evictionSignals.join(', ')}`);
  }
  const ms = parseGoDuration(value);
  if (ms === undefined || ms < 0) throw invalid(path, value, 'want a Go duration such as "1m30s"');
});

// Label/taint key syntax (k8s.io/apimachinery validation.IsQualifiedName).
const qualifiedNamePart = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return 'a qualified name has at most one "/"';
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix === '' || prefix.length > 253 || !dnsSubdomain.test(prefix)) return `prefix ${show(prefix)} must be a DNS subdomain`;
  }
  if (name === '' || name.length > 63 || !qualifiedNamePart.test(name)) {
    return 'name part must be 1-63 alphanumeric characters, "-", "_" or ".", starting and ending with an alphanumeric';
  }
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !qualifiedNamePart.test(value)) {
    return 'a label value must be at most 63 alphanumeric characters, "-", "_" or ".", starting and ending with an alphanumeric';
  }
  return undefined;
}

export const taint: Reader<Taint> = (v, path) => {
  if (!isPlainObject(v)) throw invalid(path, v, 'want a taint {key, value, effect}');
  for (const k of Object.keys(v)) {
    if (!['key', 'value', 'effect', 'timeAdded'].includes(k)) throw invalid(`${path}.${k}`, v[k], 'unknown field of a taint');
  }
  if (v['timeAdded'] !== undefined && v['timeAdded'] !== null) throw invalid(`${path}.timeAdded`, v['timeAdded'], 'must not be set');
  const key = str(v['key'], `${path}.key`);
  const keyProblem = qualifiedNameProblem(key);
  if (keyProblem) throw invalid(`${path}.key`, key, keyProblem);
  const value = v['value'] === undefined || v['value'] === null ? undefined : str(v['value'], `${path}.value`);
  const valueProblem = value === undefined ? undefined : labelValueProblem(value);
  if (valueProblem) throw invalid(`${path}.value`, value, valueProblem);
  const effect: TaintEffect = oneOf(taintEffects)(v['effect'], `${path}.effect`);
  return value === undefined || value === '' ? { key, effect } : { key, value, effect };
};
