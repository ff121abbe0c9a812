import { invalid, isPlainObject, type Reader } from './field-readers.js';

// Decodes one object of a Go component's configuration file (KubeletConfiguration,
// KubeProxyConfiguration, and their nested structs) field by field: a rule per known
// field, the defaults for what the file leaves out, and a callback for the rest.

export type Warn = (line: string) => void;

export interface Rule<V> {
  read: (value: unknown, path: string, warn: Warn) => V;
  /** Upstream defaults this field when it holds its zero value ("0s", 0, ""), not only when absent. */
  zeroIsDefault?: boolean;
}

export type Rules<T> = { [K in keyof T]?: Rule<T[K]> };

/** A rule that only reads the value. */
export const plain = <V>(read: Reader<V>, zeroIsDefault = false): Rule<V> => ({ read: (v, p) => read(v, p), zeroIsDefault });

/** `defaults` with the fields of `raw` that have rules read over them; `onUnknown` gets every other field. */
export function decodeObject<T extends object>(
  raw: unknown,
  path: string,
  defaults: T,
  rules: Rules<T>,
  warn: Warn,
  onUnknown: (key: string, value: unknown, fieldPath: string) => void,
): T {
  if (!isPlainObject(raw)) throw invalid(path || 'the document', raw, 'want an object');
  const out: T = { ...defaults };
  for (const [key, value] of Object.entries(raw)) {
    const fieldPath = path ? `${path}.${key}` : key;
    const rule = (rules as Record<string, Rule<unknown> | undefined>)[key];
    if (!rule) {
      onUnknown(key, value, fieldPath);
      continue;
    }
    // null and a missing field mean the same thing in Go's JSON decoding.
    if (value === null || value === undefined) continue;
    if (rule.zeroIsDefault && (value === 0 || value === '' || value === '0s')) continue;
    (out as Record<string, unknown>)[key] = rule.read(value, fieldPath, warn);
  }
  return out;
}
