// The patch the kubelet sends to pods/status: a two-way strategic merge patch from the
// status the API holds to the merged one, as upstream's statusutil.PatchPodStatus makes
// it, so the kubelet changes only what it changed. Lists with a merge key in PodStatus
// (conditions by type, hostIPs and podIPs by ip) are patched element by element with a
// $setElementOrder, so a condition another writer added meanwhile survives; every other
// list (container statuses) is replaced whole, as the API's schema says. Pure.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** PodStatus's lists that merge by a key (patchStrategy merge), by field name. */
const mergeKeys: Readonly<Record<string, string>> = { conditions: 'type', hostIPs: 'ip', podIPs: 'ip', resourceClaimStatuses: 'name' };

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function equal(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && equal(a[k], b[k]));
  }
  return false;
}

/** The changes from `from` to `to` as a JSON merge of maps (removed keys are null); undefined when equal. */
function diffMaps(from: JsonObject, to: JsonObject, keyed: Readonly<Record<string, string>> = {}): JsonObject | undefined {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(to)) {
    const old = from[k];
    if (old === undefined) {
      out[k] = v;
      continue;
    }
    const mergeKey = keyed[k];
    if (mergeKey && Array.isArray(old) && Array.isArray(v)) {
      const listPatch = diffKeyedList(old, v, mergeKey);
      if (listPatch) {
        out[k] = listPatch.items;
        out[`$setElementOrder/${k}`] = listPatch.order;
      }
    } else if (isObject(old) && isObject(v)) {
      const sub = diffMaps(old, v);
      if (sub) out[k] = sub;
    } else if (!equal(old, v)) {
      out[k] = v;
    }
  }
  for (const k of Object.keys(from)) if (!(k in to)) out[k] = null;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A list merged by `key`: the changed and new elements, deletions, and the new order. */
function diffKeyedList(from: Json[], to: Json[], key: string): { items: Json[]; order: Json[] } | undefined {
  const keyOf = (x: Json) => (isObject(x) ? x[key] : undefined);
  const oldByKey = new Map(from.filter(isObject).map((x) => [String(x[key]), x]));
  const items: Json[] = [];
  for (const item of to) {
    if (!isObject(item)) continue;
    const old = oldByKey.get(String(item[key]));
    if (!old) items.push(item);
    else {
      const sub = diffMaps(old, item);
      if (sub) items.push({ ...sub, [key]: item[key] ?? null });
    }
  }
  const newKeys = new Set(to.map((x) => String(keyOf(x))));
  for (const old of from) if (isObject(old) && !newKeys.has(String(old[key]))) items.push({ $patch: 'delete', [key]: old[key] ?? null });
  const sameOrder = equal(from.map(keyOf) as Json[], to.map(keyOf) as Json[]);
  if (items.length === 0 && sameOrder) return undefined;
  return { items, order: to.map((x) => ({ [key]: keyOf(x) ?? null })) };
}

/**
 * The strategic merge patch for pods/status from `api` to `next` (both as the API's JSON),
 * with the pod's UID as a precondition, or undefined when there is nothing to change.
 */
export function podStatusPatch(uid: string, api: JsonObject, next: JsonObject): JsonObject | undefined {
  const status = diffMaps(api, next, mergeKeys);
  return status ? { metadata: { uid }, status } : undefined;
}
