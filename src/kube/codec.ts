// Raw API JSON ⇄ client-node's model types. A watch line or a YAML file is plain JSON,
// where times are strings; the V1Pod type says Date. Decoding through client-node's
// own serializer makes the types true (Date objects, known fields only), so the pod
// workers can trust `pod.metadata.deletionTimestamp` to be a Date.
// client-node does not export its serializer from the package root; this deep import
// is pinned by the exact version in package-lock.json.
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import type { CoreV1Event, V1Node, V1Pod, V1PodStatus, V1RuntimeClass, V1Service } from '@kubernetes/client-node';

interface Models {
  V1Pod: V1Pod;
  V1Node: V1Node;
  CoreV1Event: CoreV1Event;
  V1Service: V1Service;
  V1PodStatus: V1PodStatus;
  V1RuntimeClass: V1RuntimeClass;
}

export function decode<K extends keyof Models>(type: K, raw: unknown): Models[K] {
  return ObjectSerializer.deserialize(raw, type, '') as Models[K];
}

/** The JSON the apiserver expects (Dates as RFC 3339 strings, API field names). */
export function encode<K extends keyof Models>(type: K, obj: Models[K]): unknown {
  return ObjectSerializer.serialize(obj, type, '') as unknown;
}

export const decodePod = (raw: unknown): V1Pod => decode('V1Pod', raw);
export const decodeService = (raw: unknown): V1Service => decode('V1Service', raw);
export const decodeRuntimeClass = (raw: unknown): V1RuntimeClass => decode('V1RuntimeClass', raw);
