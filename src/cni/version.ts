// CNI specification versions: parsing, ordering, and which result shape each one uses.

/** The newest specification this library implements (STATUS, GC). */
export const currentSpecVersion = '1.1.0';

/** Every released version, oldest first; results exist in one shape per family below. */
export const specVersions = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

/**
 * The three result shapes: `ip4`/`ip6` objects (0.1, 0.2), `ips` with a per-address
 * `version` (0.3.x, 0.4.0), and `ips` without it plus interface MTU and routes with
 * table/scope (1.x).
 */
export type ResultFamily = '0.2' | '0.4' | '1';

export type Semver = readonly [number, number, number];

/** Parses "1.0.0" (or "1.0", "1"); an empty version means 0.1.0, as the spec's first release had none. */
export function parseVersion(version: string): Semver | undefined {
  if (version === '') return [0, 1, 0];
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(version);
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

function parsed(version: string): Semver {
  const v = parseVersion(version);
  if (!v) throw new RangeError(`invalid CNI version "${version}"`);
  return v;
}

/** Negative when a < b, 0 when equal, positive when a > b. Throws on a malformed version. */
export function compareVersions(a: string, b: string): number {
  const x = parsed(a);
  const y = parsed(b);
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}

export function atLeast(version: string, minimum: string): boolean {
  return compareVersions(version, minimum) >= 0;
}

export function isKnownVersion(version: string): boolean {
  return (specVersions as readonly string[]).includes(version === '' ? '0.1.0' : version);
}

/** The result shape of a known version; undefined for one this library does not know. */
export function resultFamily(version: string): ResultFamily | undefined {
  switch (version === '' ? '0.1.0' : version) {
    case '0.1.0':
    case '0.2.0':
      return '0.2';
    case '0.3.0':
    case '0.3.1':
    case '0.4.0':
      return '0.4';
    case '1.0.0':
    case '1.1.0':
      return '1';
    default:
      return undefined;
  }
}

/** The highest of the versions, or undefined for none. */
export function highestVersion(versions: readonly string[]): string | undefined {
  return versions.reduce<string | undefined>((best, v) => (best === undefined || compareVersions(v, best) > 0 ? v : best), undefined);
}
