// The result cache in libcni's format, so containerd (through libcni), cnitool and
// tskube read one another's entries: one file per attachment,
// <cacheDir>/results/<network>-<containerID>-<ifname>, 0600 in a 0700 folder, holding
//   {"kind":"cniCacheV1","containerId":…,"config":<list bytes, base64>,"ifName":…,
//    "networkName":…,"netns":…,"cniArgs":[[k,v],…],"capabilityArgs":{…},"result":{…}}
// (field order and omitted-when-empty fields as Go's encoding/json writes libcni's
// cachedInfo). Files from libcni before 0.8 hold only the result; DEL still reads them.
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { TskubeError } from '../common/errors.js';
import type { Attachment, AttachmentKey, NetworkConfig } from './network-config.js';

export const defaultCacheDir = '/var/lib/cni';
export const cacheKind = 'cniCacheV1';

export interface CacheEntry extends AttachmentKey {
  networkName: string;
  netns: string;
  cniArgs: [string, string][];
  capabilityArgs: Record<string, unknown> | undefined;
  /** The network list's bytes at ADD (libcni's `config`). */
  config: Buffer;
  /** The final ADD result, as JSON. */
  result: Record<string, unknown> | undefined;
}

/** The entry of an attachment of a network; `result` undefined before ADD finished (the kubelet's records). */
export function attachmentCacheEntry(network: NetworkConfig, attachment: Attachment, result: Record<string, unknown> | undefined): CacheEntry {
  return {
    containerId: attachment.containerId,
    ifName: attachment.ifName,
    networkName: network.name,
    netns: attachment.netns,
    cniArgs: (attachment.args ?? []).map(([k, v]) => [k, v] as [string, string]),
    capabilityArgs: attachment.capabilityArgs ? { ...attachment.capabilityArgs } : undefined,
    config: network.bytes,
    result,
  };
}

export function cacheFilePath(cacheDir: string, networkName: string, key: AttachmentKey): string {
  if (!networkName || !key.containerId || !key.ifName) {
    throw new TskubeError(
      'invalid-argument',
      `a cache entry needs a network name ("${networkName}"), container ID ("${key.containerId}") and interface ("${key.ifName}")`,
    );
  }
  return join(cacheDir, 'results', `${networkName}-${key.containerId}-${key.ifName}`);
}

/** The file text, as libcni's cacheAdd writes it. */
export function encodeCacheEntry(entry: CacheEntry): string {
  const doc: Record<string, unknown> = {
    kind: cacheKind,
    containerId: entry.containerId,
    config: entry.config.toString('base64'),
    ifName: entry.ifName,
    networkName: entry.networkName,
  };
  if (entry.netns) doc['netns'] = entry.netns;
  if (entry.cniArgs.length) doc['cniArgs'] = entry.cniArgs;
  if (entry.capabilityArgs && Object.keys(entry.capabilityArgs).length) doc['capabilityArgs'] = sortKeys(entry.capabilityArgs);
  if (entry.result && Object.keys(entry.result).length) doc['result'] = sortKeys(entry.result);
  return goJson(doc);
}

/** A cache file's contents: a cniCacheV1 entry, a legacy bare result, or why it is neither. */
export type DecodedCache =
  | { kind: 'entry'; entry: CacheEntry }
  | { kind: 'legacy-result'; result: Record<string, unknown> }
  | { kind: 'unreadable'; reason: string };

export function decodeCacheEntry(text: string): DecodedCache {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { kind: 'unreadable', reason: `not JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (!isObject(doc)) return { kind: 'unreadable', reason: 'not a JSON object' };
  if (doc['kind'] !== cacheKind) {
    // Before cniCacheV1 the file was the result itself.
    if ('cniVersion' in doc && !('kind' in doc)) return { kind: 'legacy-result', result: doc };
    return { kind: 'unreadable', reason: `kind is ${JSON.stringify(doc['kind'])}, not "${cacheKind}"` };
  }
  const str = (k: string) => (typeof doc[k] === 'string' ? (doc[k] as string) : '');
  const args = Array.isArray(doc['cniArgs'])
    ? doc['cniArgs'].filter((p): p is [string, string] => Array.isArray(p) && p.length === 2 && p.every((s) => typeof s === 'string'))
    : [];
  return {
    kind: 'entry',
    entry: {
      containerId: str('containerId'),
      ifName: str('ifName'),
      networkName: str('networkName'),
      netns: str('netns'),
      cniArgs: args,
      capabilityArgs: isObject(doc['capabilityArgs']) ? doc['capabilityArgs'] : undefined,
      config: Buffer.from(str('config'), 'base64'),
      result: isObject(doc['result']) ? doc['result'] : undefined,
    },
  };
}

export async function writeCacheEntry(cacheDir: string, entry: CacheEntry): Promise<void> {
  // No fsync: the namespaces the entry describes do not survive a reboot either.
  await writeFileAtomic(cacheFilePath(cacheDir, entry.networkName, entry), encodeCacheEntry(entry), 0o600, { sync: false });
}

/** The entry of one attachment; undefined when there is none (libcni ignores read errors too). */
export async function readCacheEntry(cacheDir: string, networkName: string, key: AttachmentKey): Promise<DecodedCache | undefined> {
  let text: string;
  try {
    text = await readFile(cacheFilePath(cacheDir, networkName, key), 'utf8');
  } catch {
    return undefined;
  }
  return decodeCacheEntry(text);
}

export async function removeCacheEntry(cacheDir: string, networkName: string, key: AttachmentKey): Promise<void> {
  await rm(cacheFilePath(cacheDir, networkName, key), { force: true });
}

export interface CacheListing {
  /** Valid cniCacheV1 entries with a network and interface, in file-name order (libcni's GetCachedAttachments). */
  entries: (CacheEntry & { file: string })[];
  /** Files libcni would skip, with the reason: for `cnitool cache`. */
  skipped: { file: string; reason: string }[];
}

export async function listCacheEntries(cacheDir: string): Promise<CacheListing> {
  const dir = join(cacheDir, 'results');
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], skipped: [] };
    throw TskubeError.from(err).wrap(`reading the CNI result cache ${dir}`);
  }
  const listing: CacheListing = { entries: [], skipped: [] };
  for (const name of names) {
    if (name.startsWith('.')) continue; // a write in progress
    const file = join(dir, name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      listing.skipped.push({ file, reason: TskubeError.from(err).detail });
      continue;
    }
    const decoded = decodeCacheEntry(text);
    if (decoded.kind === 'legacy-result') listing.skipped.push({ file, reason: 'a result from libcni before 0.8, without the attachment it belongs to' });
    else if (decoded.kind === 'unreadable') listing.skipped.push({ file, reason: decoded.reason });
    else if (!decoded.entry.ifName || !decoded.entry.networkName) listing.skipped.push({ file, reason: 'no network name or interface' });
    else listing.entries.push({ ...decoded.entry, file });
  }
  return listing;
}

/** Go's encoding/json sorts map keys; libcni's result and capabilityArgs are maps. */
function sortKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sortKeys) as T;
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys(value[k])]),
  ) as T;
}

/** JSON as Go writes it: <, > and & escaped, as encoding/json does by default. */
function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
