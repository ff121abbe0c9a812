// Raw API JSON ⇄ client-node's model types. A watch line or a YAML file is plain JSON,
// where times are strings; the V1Pod type says Date. Decoding turns the date-time fields
// of the few types the kubelet reads into Dates, so the pod workers can trust
// `pod.metadata.deletionTimestamp` to be a Date. Only the types come from client-node:
// its ObjectSerializer references every generated model class (~10 MiB of RSS,
// docs/memory.md). A unit test checks these lists against client-node's own models.
import type { CoreV1Event, V1Node, V1Pod, V1PodStatus, V1RuntimeClass, V1Service } from '@kubernetes/client-node';

interface Models {
  V1Pod: V1Pod;
  V1Node: V1Node;
  CoreV1Event: CoreV1Event;
  V1Service: V1Service;
  V1PodStatus: V1PodStatus;
  V1RuntimeClass: V1RuntimeClass;
}

/** A field path: object keys, and `[]` for every element of an array. */
type DatePath = readonly string[];

const paths = (prefix: string, list: string[]): DatePath[] => list.map((p) => `${prefix}${p}`.split('.').filter((s) => s !== ''));
const objectMeta = ['creationTimestamp', 'deletionTimestamp', 'managedFields.[].time'];
const containerState = ['running.startedAt', 'terminated.startedAt', 'terminated.finishedAt'];
const containerStatuses = ['containerStatuses', 'initContainerStatuses', 'ephemeralContainerStatuses'].flatMap((list) =>
  ['state', 'lastState'].flatMap((which) => containerState.map((f) => `${list}.[].${which}.${f}`)),
);
const podStatus = ['startTime', 'conditions.[].lastProbeTime', 'conditions.[].lastTransitionTime', ...containerStatuses];

/** Every date-time field of each type, as client-node's models list them (v1.4). */
export const dateFields: Record<keyof Models, DatePath[]> = {
  V1Pod: [...paths('metadata.', objectMeta), ...paths('spec.volumes.[].ephemeral.volumeClaimTemplate.metadata.', objectMeta), ...paths('status.', podStatus)],
  V1PodStatus: paths('', podStatus),
  V1Node: [
    ...paths('metadata.', objectMeta),
    ...paths('', ['spec.taints.[].timeAdded', 'status.conditions.[].lastHeartbeatTime', 'status.conditions.[].lastTransitionTime']),
  ],
  CoreV1Event: [...paths('metadata.', objectMeta), ...paths('', ['firstTimestamp', 'lastTimestamp'])],
  V1Service: [...paths('metadata.', objectMeta), ...paths('', ['status.conditions.[].lastTransitionTime'])],
  V1RuntimeClass: paths('metadata.', objectMeta),
};

/**
 * The object with its date-time strings as Dates. The input is not changed: objects on
 * the way to a date field are copied, the rest is shared.
 */
export function decode<K extends keyof Models>(type: K, raw: unknown): Models[K] {
  let out = raw;
  for (const path of dateFields[type]) out = withDate(out, path, 0);
  return out as Models[K];
}

function withDate(value: unknown, path: DatePath, i: number): unknown {
  if (i === path.length) return typeof value === 'string' ? new Date(value) : value;
  const key = path[i]!;
  if (key === '[]') {
    if (!Array.isArray(value)) return value;
    const next = value.map((item) => withDate(item, path, i + 1));
    return next.every((item, n) => item === value[n]) ? value : next;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const field = (value as Record<string, unknown>)[key];
  if (field === undefined || field === null) return value;
  const next = withDate(field, path, i + 1);
  return next === field ? value : { ...value, [key]: next };
}

/** The JSON the apiserver expects: Dates as RFC 3339 strings, no undefined fields. */
export function encode<K extends keyof Models>(_type: K, obj: Models[K]): unknown {
  return toJson(obj);
}

function toJson(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJson(v);
  return out;
}

export const decodePod = (raw: unknown): V1Pod => decode('V1Pod', raw);
export const decodeService = (raw: unknown): V1Service => decode('V1Service', raw);
export const decodeRuntimeClass = (raw: unknown): V1RuntimeClass => decode('V1RuntimeClass', raw);
