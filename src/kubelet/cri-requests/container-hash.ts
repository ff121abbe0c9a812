import type { V1Container } from '@kubernetes/client-node';
import { fnv32a } from '../../common/fnv.js';
import { goJson } from '../../common/go-json.js';

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

/**
 * The container hash (io.kubernetes.container.hash) exactly as the upstream kubelet
 * computes it, so a container made by either kubelet is recognised by the other and a
 * switch between them restarts nothing: FNV-32a over go-spew's `%#v` of the JSON of
 * `{"image":…,"name":…}` (Go sorts map keys), that is `([]uint8)[123 34 …]`, printed as
 * lower-case hex. Only the name and the image count: every other field of a running pod's
 * container is immutable in the API, resources are resized in place, and a defaulting
 * change in a newer API server must not look like a new spec.
 */
export function containerSpecHash(container: Pick<V1Container, 'name' | 'image'>): string {
  const json = Buffer.from(goJson({ image: container.image ?? '', name: container.name }), 'utf8');
  return fnv32a(`([]uint8)[${json.join(' ')}]`).toString(16);
}
