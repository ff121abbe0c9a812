import { errorMessage, TskubeError } from '../../../common/errors.js';
import type { Output } from '../../io.js';
import { toJson } from '../output.js';
import { loadYaml } from '../../../common/yaml.js';

/**
 * The yaml library, loaded on first use. esbuild's split chunks expose a CommonJS
 * package only as `default`, so named exports of the dynamic import are not there.
 */

/** YAML as crictl prints it (sigs.k8s.io/yaml: keys sorted, via JSON so Buffers are base64). */
export async function toSortedYaml(value: unknown): Promise<string> {
  const { stringify } = await loadYaml();
  return stringify(JSON.parse(toJson(sortKeysDeep(value))));
}

/**
 * A reply as protojson prints it with EmitDefaultValues (crictl's `-o json`): scalars,
 * lists and maps always present, unset message fields left out.
 */
export function withoutNulls<T>(value: T): T {
  return prune(value) as T;
}

function prune(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(prune);
  // bytes fields print as base64, as protojson does (Buffer.toJSON would give {type, data}).
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out[k] = prune(v);
  return out;
}

/** Keys sorted at every level, as Go's encoding/json prints a map (crictl's inspect and YAML output). */
export function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (value === null || typeof value !== 'object') return value;
  const v = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeysDeep(v[k])]),
  );
}

/**
 * The verbose `info` map of a status reply, decoded as crictl does: values that look
 * like JSON objects are parsed, others are plain strings with their quotes removed.
 */
export function decodeInfo(info: Readonly<Record<string, string>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(info)) {
    if (v.startsWith('{')) {
      try {
        out[k] = JSON.parse(v) as unknown;
      } catch (err) {
        throw new TskubeError('internal', `the runtime's verbose info "${k}" is not valid JSON: ${errorMessage(err)}`);
      }
    } else out[k] = v.replace(/^"+|"+$/g, '');
  }
  return out;
}

/** One entry of inspect-style output: `{"status": ..., <info keys>...}`. */
export function statusDocument(status: unknown, info: Readonly<Record<string, string>> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...decodeInfo(info), ...extra, status };
}

/**
 * Prints inspect-style documents: one document bare, several as a list (crictl's "old
 * behaviour"), keys sorted at every level as Go prints maps.
 */
export async function printStatusDocuments(out: Output, format: 'json' | 'yaml', docs: readonly Record<string, unknown>[]): Promise<void> {
  if (docs.length === 0) return;
  const value = sortKeysDeep(docs.length === 1 ? docs[0] : docs);
  out.write(format === 'json' ? `${toJson(value)}\n` : await toSortedYaml(value));
}

/** Prints a list reply (`{"containers": [...]}`) as crictl's -o json / -o yaml. */
export async function printListReply(out: Output, format: 'json' | 'yaml', reply: Record<string, unknown>): Promise<void> {
  const value = withoutNulls(reply);
  // protojson keeps field order; the YAML path goes through a Go map, which sorts keys.
  out.write(format === 'json' ? `${toJson(value)}\n` : await toSortedYaml(value));
}
