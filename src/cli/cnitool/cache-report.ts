// `cnitool cache`: whose each cached attachment is. A runtime's entries belong to a pod
// sandbox (the container ID is the sandbox ID); cnitool's to a namespace path. An entry
// whose sandbox is gone or stopped, or whose cnitool namespace is gone, belongs to no
// live sandbox: its plugins never got their DEL, so its address and rules may be held
// still. Pure.
import { type CniResult, parseResult, sandboxAddresses } from '../../cni/result.js';
import type { CacheEntry } from '../../cni/result-cache.js';
import { formatTable, shortId } from '../crictl/output.js';
import { cnitoolIdPrefix } from './settings.js';

export interface SandboxSummary {
  id: string;
  ready: boolean;
  name: string;
  namespace: string;
}

export type Owner = { kind: 'sandbox'; ready: boolean; name: string; namespace: string } | { kind: 'cnitool'; netnsExists: boolean } | { kind: 'none' };

export interface CacheRow {
  file: string;
  network: string;
  containerId: string;
  ifName: string;
  netns: string;
  addresses: string[];
  owner: Owner;
  /** Belongs to no live sandbox (or live cnitool namespace). */
  stale: boolean;
}

export function classifyCacheEntries(
  entries: readonly (CacheEntry & { file: string })[],
  sandboxes: ReadonlyMap<string, SandboxSummary>,
  netnsExists: (path: string) => boolean,
): CacheRow[] {
  return entries.map((e) => {
    const sandbox = sandboxes.get(e.containerId);
    let owner: Owner;
    if (sandbox) owner = { kind: 'sandbox', ready: sandbox.ready, name: sandbox.name, namespace: sandbox.namespace };
    else if (e.containerId.startsWith(cnitoolIdPrefix)) owner = { kind: 'cnitool', netnsExists: e.netns !== '' && netnsExists(e.netns) };
    else owner = { kind: 'none' };
    const stale = owner.kind === 'none' || (owner.kind === 'sandbox' && !owner.ready) || (owner.kind === 'cnitool' && !owner.netnsExists);
    return { file: e.file, network: e.networkName, containerId: e.containerId, ifName: e.ifName, netns: e.netns, addresses: addressesOf(e), owner, stale };
  });
}

function addressesOf(e: CacheEntry): string[] {
  if (!e.result) return [];
  let result: CniResult;
  try {
    result = parseResult(e.result, '1.0.0', 'cached result');
  } catch {
    return [];
  }
  return sandboxAddresses(result, e.ifName);
}

export function describeOwner(owner: Owner): string {
  switch (owner.kind) {
    case 'sandbox':
      return `${owner.ready ? 'Ready' : 'NotReady'} ${owner.namespace}/${owner.name}`;
    case 'cnitool':
      return owner.netnsExists ? 'cnitool, netns present' : 'cnitool, netns gone';
    default:
      return 'no sandbox';
  }
}

export function cacheTable(rows: readonly CacheRow[], noTrunc: boolean): string {
  return formatTable(
    ['NETWORK', 'CONTAINER', 'IFNAME', 'ADDRESSES', 'OWNER', 'STALE'],
    rows.map((r) => [r.network, shortId(r.containerId, noTrunc), r.ifName, r.addresses.join(',') || '-', describeOwner(r.owner), r.stale ? 'yes' : '']),
    { minWidth: 0, padding: 3 },
  );
}
