import type { V1Container } from '@kubernetes/client-node';

/**
 * JSON with object keys sorted at every level and undefined members dropped, so equal
 * specs give equal text whatever order their fields were built in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** 32-bit FNV-1a over the UTF-8 bytes: the hash family upstream uses for this annotation. */
export function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * A short hex hash of the container spec (io.kubernetes.container.hash) that changes when
 * the spec changes in a way that needs a new container. Resources and resizePolicy are
 * left out: upstream resizes those in place instead of restarting, and a resize must not
 * look like a new spec to the planner.
 */
export function containerSpecHash(container: V1Container): string {
  const { resources: _resources, resizePolicy: _resizePolicy, ...rest } = container;
  return fnv32a(canonicalJson(rest)).toString(16);
}
