// One static pod manifest → one pod, the way upstream's file source makes it
// (pkg/kubelet/config/common.go): the API's v1 defaults applied, the name gets
// "-<node>", the namespace defaults, and the UID is upstream's hash of the decoded pod,
// its node and its path (static-pod-uid.ts), so it is the same after a restart or a
// switch from the upstream kubelet and changes when the pod does. Pure: no file
// system, no clock.
import type { V1Pod } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { fnv128a } from '../../../common/fnv.js';
import { decodePod } from '../../../kube/codec.js';
import { configHashAnnotation, configSourceAnnotation } from '../labels.js';
import { applyPodDefaults } from './pod-defaults.js';
import { checkStaticPodApiReferences } from './static-pod-api-references.js';
import { upstreamStaticPodUid } from './static-pod-uid.js';
import { isPlainObject } from '../../../common/field-readers.js';

export type StaticPodResult = { ok: true; pod: V1Pod } | { ok: false; error: string };

/** Upstream's maxConfigLength: a bigger file is refused, not parsed. */
export const maxManifestBytes = 10 * 1024 * 1024;

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const restartPolicies = ['Always', 'OnFailure', 'Never'];
const pullPolicies = ['Always', 'IfNotPresent', 'Never'];

/** "<name>-<node>", upstream's generatePodName (the node name lower-cased). */
export function staticPodName(name: string, nodeName: string): string {
  return `${name}-${nodeName.toLowerCase()}`;
}

/**
 * A stable UID from the file's bytes, its node and its path: for the rare pod whose
 * upstream hash is not reproduced, and to recognise a bad file seen before.
 */
export function manifestFingerprint(content: string, nodeName: string, file: string): string {
  return fnv128a(content, `host:${nodeName}`, `file:${file}`);
}

/**
 * The manifest's object as upstream reads it: a file starting with "{" is JSON (its
 * numbers kept as written where the spelling matters, "1e3" or "0.50" as a quantity);
 * anything else is YAML 1.1, of which only the first document counts.
 */
function decodeManifest(content: string): { ok: true; raw: unknown } | { ok: false; error: string } {
  if (content.trimStart().startsWith('{')) {
    try {
      return { ok: true, raw: JSON.parse(content, keepNumberSpelling as Parameters<typeof JSON.parse>[1]) };
    } catch (err) {
      return { ok: false, error: `not JSON: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
  // YAML 1.1, as upstream's parser reads it: 0644 is octal (a file mode), yes/on are booleans.
  const doc = parseAllDocuments(content, { version: '1.1' })[0];
  if (doc === undefined || doc.contents === null) return { ok: false, error: 'file holds no object' };
  if (doc.errors.length > 0) return { ok: false, error: `not YAML or JSON: ${doc.errors[0]!.message.split('\n')[0]}` };
  return { ok: true, raw: doc.toJS() };
}

/** A JSON number whose text is not what JavaScript would print for it stays text. */
function keepNumberSpelling(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value === 'number' && context?.source !== undefined && context.source !== String(value)) return context.source;
  return value;
}

/** Parses, validates and defaults one manifest. `file` is the path, as upstream uses it for the UID. */
export function parseStaticPod(content: string, file: string, nodeName: string): StaticPodResult {
  const fail = (error: string): StaticPodResult => ({ ok: false, error });
  if (Buffer.byteLength(content) > maxManifestBytes) return fail(`file is larger than ${maxManifestBytes} bytes`);
  const decoded = decodeManifest(content);
  if (!decoded.ok) return fail(decoded.error);
  const raw = decoded.raw;
  if (!isPlainObject(raw)) return fail('the document is not an object');

  const errors = validateRawPod(raw);
  if (errors.length > 0) return fail(errors.join('; '));

  // The decoded object is ours alone: default it in place.
  const defaulted = raw;
  applyPodDefaults(defaulted);
  const metadata = defaulted['metadata'] as Record<string, unknown>;
  const spec = defaulted['spec'] as Record<string, unknown>;
  const references = checkStaticPodApiReferences(spec);
  if (!references.ok) return fail(references.error);
  const uid =
    typeof metadata['uid'] === 'string' && metadata['uid'] !== ''
      ? metadata['uid']
      : (upstreamStaticPodUid(defaulted, nodeName, file) ?? manifestFingerprint(content, nodeName, file));
  const name = staticPodName(metadata['name'] as string, nodeName);
  if (name.length > 253) return fail(`metadata.name: "${name}" (with the node name appended) must be no more than 253 characters`);
  const annotations = { ...(metadata['annotations'] as Record<string, string> | undefined) };
  annotations[configHashAnnotation] = uid;
  annotations[configSourceAnnotation] = 'file';
  const tolerations = Array.isArray(spec['tolerations']) ? [...(spec['tolerations'] as unknown[])] : [];
  // Upstream tolerates every NoExecute taint for static pods, so node problems do not evict them.
  if (!tolerations.some((t) => isPlainObject(t) && t['operator'] === 'Exists' && t['effect'] === 'NoExecute' && !t['key'])) {
    tolerations.push({ operator: 'Exists', effect: 'NoExecute' });
  }
  const pod = {
    ...defaulted,
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...metadata,
      name,
      namespace: typeof metadata['namespace'] === 'string' && metadata['namespace'] !== '' ? metadata['namespace'] : 'default',
      uid,
      annotations,
    },
    spec: { ...spec, nodeName, tolerations },
    status: { phase: 'Pending' },
  };
  return { ok: true, pod: decodePod(pod) };
}

/**
 * The checks a pod must pass before it may run, each error naming its field the way
 * the apiserver does ("spec.containers[0].image: required"). Not the whole of
 * upstream's ValidatePod: the fields the kubelet itself depends on.
 */
export function validateRawPod(raw: Record<string, unknown>): string[] {
  const errors: string[] = [];
  const err = (field: string, what: string) => errors.push(`${field}: ${what}`);
  if (raw['apiVersion'] !== 'v1')
    err('apiVersion', raw['apiVersion'] === undefined ? 'required (v1)' : `must be "v1", not ${JSON.stringify(raw['apiVersion'])}`);
  if (raw['kind'] !== 'Pod') err('kind', raw['kind'] === undefined ? 'required (Pod)' : `must be "Pod", not ${JSON.stringify(raw['kind'])}`);
  const metadata = raw['metadata'];
  if (!isPlainObject(metadata)) err('metadata', 'required');
  else {
    const name = metadata['name'];
    if (typeof name !== 'string' || name === '') err('metadata.name', 'required');
    else if (!dns1123Subdomain.test(name)) err('metadata.name', `"${name}" must be a lowercase RFC 1123 subdomain`);
    const ns = metadata['namespace'];
    if (ns !== undefined && ns !== '' && (typeof ns !== 'string' || !dns1123Label.test(ns)))
      err('metadata.namespace', `${JSON.stringify(ns)} must be a lowercase RFC 1123 label`);
    for (const key of ['labels', 'annotations'] as const) {
      const m = metadata[key];
      if (m === undefined) continue;
      if (!isPlainObject(m)) err(`metadata.${key}`, 'must be a map of strings');
      else for (const [k, v] of Object.entries(m)) if (typeof v !== 'string') err(`metadata.${key}[${k}]`, 'must be a string');
    }
  }
  const spec = raw['spec'];
  if (!isPlainObject(spec)) {
    err('spec', 'required');
    return errors;
  }
  const names = new Set<string>();
  const checkContainers = (field: 'containers' | 'initContainers', required: boolean): void => {
    const list = spec[field];
    if (list === undefined || (Array.isArray(list) && list.length === 0)) {
      if (required) err(`spec.${field}`, 'required (at least one container)');
      return;
    }
    if (!Array.isArray(list)) {
      err(`spec.${field}`, 'must be a list');
      return;
    }
    list.forEach((c: unknown, i): void => {
      const at = `spec.${field}[${i}]`;
      if (!isPlainObject(c)) {
        err(at, 'must be an object');
        return;
      }
      const name = c['name'];
      if (typeof name !== 'string' || name === '') err(`${at}.name`, 'required');
      else if (!dns1123Label.test(name) || name.length > 63) err(`${at}.name`, `"${name}" must be a lowercase RFC 1123 label`);
      else if (names.has(name)) err(`${at}.name`, `"${name}" is used by another container`);
      else names.add(name);
      const image = c['image'];
      if (typeof image !== 'string' || image.trim() === '') err(`${at}.image`, 'required');
      const pull = c['imagePullPolicy'];
      if (pull !== undefined && !pullPolicies.includes(pull as string))
        err(`${at}.imagePullPolicy`, `${JSON.stringify(pull)} must be one of ${pullPolicies.join(', ')}`);
      for (const list2 of ['command', 'args'] as const) {
        const v = c[list2];
        if (v !== undefined && (!Array.isArray(v) || v.some((s) => typeof s !== 'string'))) err(`${at}.${list2}`, 'must be a list of strings');
      }
    });
  };
  checkContainers('containers', true);
  checkContainers('initContainers', false);
  const rp = spec['restartPolicy'];
  if (rp !== undefined && !restartPolicies.includes(rp as string))
    err('spec.restartPolicy', `${JSON.stringify(rp)} must be one of ${restartPolicies.join(', ')}`);
  const grace = spec['terminationGracePeriodSeconds'];
  if (grace !== undefined && (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0))
    err('spec.terminationGracePeriodSeconds', `${JSON.stringify(grace)} must be a non-negative integer`);
  return errors;
}
