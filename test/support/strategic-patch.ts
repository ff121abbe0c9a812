// Applies a pods/status strategic merge patch the way the API server does for the parts a
// kubelet patch uses (maps merged, null deletes, keyed lists merged by key with
// $setElementOrder and $patch: delete, other lists replaced), so unit tests can play the
// API server's side of the status manager.
import type { Json } from '../../src/kubelet/status/status-patch.js';

type JsonObject = { [key: string]: Json };
const keyed: Record<string, string> = { conditions: 'type', hostIPs: 'ip', podIPs: 'ip' };
const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

export function applyStatusPatch(target: JsonObject, patch: JsonObject, lists: Record<string, string> = keyed): JsonObject {
  const out: JsonObject = { ...target };
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$setElementOrder/')) continue;
    const key = lists[k];
    if (v === null) delete out[k];
    else if (key && Array.isArray(v)) out[k] = mergeList((out[k] as Json[] | undefined) ?? [], v, key, patch[`$setElementOrder/${k}`] as Json[] | undefined);
    else if (isObject(v) && isObject(out[k])) out[k] = applyStatusPatch(out[k] as JsonObject, v, {});
    else out[k] = v;
  }
  return out;
}

function mergeList(live: Json[], patch: Json[], key: string, order: Json[] | undefined): Json[] {
  const items = new Map(live.filter(isObject).map((x) => [String(x[key]), x]));
  for (const p of patch) {
    if (!isObject(p)) continue;
    const k = String(p[key]);
    if (p['$patch'] === 'delete') items.delete(k);
    else items.set(k, applyStatusPatch(items.get(k) ?? {}, p, {}));
  }
  if (!order) return [...items.values()];
  const ordered = order.filter(isObject).flatMap((o) => {
    const item = items.get(String(o[key]));
    return item ? [item] : [];
  });
  // Live items the order does not name (another writer's) stay, after the ordered ones.
  const named = new Set(order.filter(isObject).map((o) => String(o[key])));
  return [...ordered, ...[...items.entries()].filter(([k]) => !named.has(k)).map(([, v]) => v)];
}
