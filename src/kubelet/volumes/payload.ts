// The files of a configMap, secret, downwardAPI or projected volume: path → content and
// mode, as upstream's plugins make them (items, defaultMode/mode, optional, the token
// file's owner and mode), with upstream's error messages, which users search for. Pure:
// the objects, tokens and node numbers come in; the atomic writer puts the files out.
import type { V1ConfigMap, V1DownwardAPIVolumeFile, V1KeyToPath, V1Pod, V1Secret, V1Volume } from '@kubernetes/client-node';
import { TskubeError } from '../../common/errors.js';
import { fieldRefValue, type NodeAllocatable, resourceFieldRefValue } from '../cri-requests/env-field-ref.js';
import { containerSpec } from '../pods/container-outcome.js';

export interface FileProjection {
  data: Buffer;
  /** Permission bits (0644 unless defaultMode or the item's mode say otherwise). */
  mode: number;
  /** The owner of the file (and its link), for token files when every container runs as one user. */
  fsUser?: number;
}

/** User-visible path (relative, cleaned) → file. */
export type Payload = Map<string, FileProjection>;

/** A service-account token the volume manager fetched for one projected source, or why it could not. */
export type TokenResult = { ok: true; token: string } | { ok: false; message: string };

export interface PayloadSources {
  /** Undefined: does not exist; throws TskubeError('unavailable') when it cannot tell yet. */
  configMap(namespace: string, name: string): V1ConfigMap | undefined;
  secret(namespace: string, name: string): V1Secret | undefined;
  /** The token of the volume's `sources[index].serviceAccountToken`. */
  token(index: number): TokenResult;
  nodeAllocatable: NodeAllocatable;
  /** The pod's single runAsUser (podFsUser) and fsGroup: token files become 0600 and owned by the user. */
  fsUser?: number;
  fsGroup?: number;
}

export type PayloadResult = { ok: true; files: Payload } | { ok: false; message: string };

export const defaultFileMode = 0o644;

class PayloadError extends Error {}

/** Upstream's message for a missing object, as apierrors.NewNotFound words it. */
function notFound(kind: 'configmap' | 'secret', name: string): PayloadError {
  return new PayloadError(`${kind} ${JSON.stringify(name)} not found`);
}

function read<T>(get: () => T | undefined): T | undefined {
  try {
    return get();
  } catch (err) {
    // The cache has not listed it yet: say so instead of "not found".
    if (err instanceof TskubeError) throw new PayloadError(err.detail);
    throw err;
  }
}

function keyed(
  entries: Map<string, Buffer>,
  items: readonly V1KeyToPath[] | undefined,
  defaultMode: number,
  optional: boolean,
  missingKey: (key: string) => string,
): Payload {
  const out: Payload = new Map();
  if (!items || items.length === 0) {
    for (const [k, data] of entries) out.set(k, { data, mode: defaultMode });
    return out;
  }
  for (const item of items) {
    const data = entries.get(item.key);
    if (data === undefined) {
      if (optional) continue;
      throw new PayloadError(missingKey(item.key));
    }
    out.set(item.path, { data, mode: item.mode ?? defaultMode });
  }
  return out;
}

function configMapEntries(cm: V1ConfigMap): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(cm.data ?? {})) out.set(k, Buffer.from(v, 'utf8'));
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) out.set(k, Buffer.from(v, 'base64'));
  return out;
}

function secretEntries(s: V1Secret): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(s.data ?? {})) out.set(k, Buffer.from(v, 'base64'));
  // stringData is write-only in the API; a secret from a file may still carry it.
  for (const [k, v] of Object.entries(s.stringData ?? {})) out.set(k, Buffer.from(v, 'utf8'));
  return out;
}

function configMapFiles(pod: V1Pod, name: string, items: V1KeyToPath[] | undefined, optional: boolean, mode: number, src: PayloadSources): Payload {
  const cm = read(() => src.configMap(pod.metadata?.namespace ?? 'default', name));
  if (!cm && !optional) throw notFound('configmap', name);
  return keyed(cm ? configMapEntries(cm) : new Map(), items, mode, optional, (k) => `configmap references non-existent config key: ${k}`);
}

function secretFiles(pod: V1Pod, name: string, items: V1KeyToPath[] | undefined, optional: boolean, mode: number, src: PayloadSources): Payload {
  const s = read(() => src.secret(pod.metadata?.namespace ?? 'default', name));
  if (!s && !optional) throw notFound('secret', name);
  return keyed(s ? secretEntries(s) : new Map(), items, mode, optional, (k) => `references non-existent secret key: ${k}`);
}

/** path.Clean for a relative path: no empty or "." elements, ".." left for the writer to refuse. */
function cleanPath(p: string): string {
  return p
    .split('/')
    .filter((e) => e !== '' && e !== '.')
    .join('/');
}

/** Each file on its own: one that fails is reported with the others (upstream aggregates them). */
function downwardFiles(pod: V1Pod, items: V1DownwardAPIVolumeFile[] | undefined, mode: number, src: PayloadSources, errors: string[]): Payload {
  const out: Payload = new Map();
  for (const item of items ?? []) {
    const path = cleanPath(item.path);
    const fileMode = item.mode ?? mode;
    try {
      let value = '';
      if (item.fieldRef) {
        value = fieldRefValue(pod, item.fieldRef, { hostIPs: [], podIPs: [] }, `downwardAPI ${path} fieldRef`);
      } else if (item.resourceFieldRef) {
        const target = item.resourceFieldRef.containerName ? containerSpec(pod, item.resourceFieldRef.containerName) : undefined;
        if (!target) throw new TskubeError('invalid-argument', `container ${JSON.stringify(item.resourceFieldRef.containerName ?? '')} not found`);
        value = resourceFieldRefValue(pod, target, item.resourceFieldRef, src.nodeAllocatable, `downwardAPI ${path} resourceFieldRef`);
      }
      out.set(path, { data: Buffer.from(value, 'utf8'), mode: fileMode });
    } catch (err) {
      errors.push(err instanceof TskubeError ? err.detail : String(err));
      out.set(path, { data: Buffer.alloc(0), mode: fileMode });
    }
  }
  return out;
}

/** Upstream's aggregate error text: the one message, or "[a, b]" for several (repeats once). */
function aggregate(errors: readonly string[]): string {
  const unique = [...new Set(errors)];
  return unique.length === 1 ? (unique[0] ?? '') : `[${unique.join(', ')}]`;
}

/** The files of a configMap, secret, downwardAPI or projected volume. */
export function volumePayload(pod: V1Pod, volume: V1Volume, src: PayloadSources): PayloadResult {
  try {
    if (volume.configMap) {
      const c = volume.configMap;
      return { ok: true, files: configMapFiles(pod, c.name ?? '', c.items, c.optional === true, c.defaultMode ?? defaultFileMode, src) };
    }
    if (volume.secret) {
      const s = volume.secret;
      return { ok: true, files: secretFiles(pod, s.secretName ?? '', s.items, s.optional === true, s.defaultMode ?? defaultFileMode, src) };
    }
    if (volume.downwardAPI) {
      const errors: string[] = [];
      const files = downwardFiles(pod, volume.downwardAPI.items, volume.downwardAPI.defaultMode ?? defaultFileMode, src, errors);
      return errors.length > 0 ? { ok: false, message: aggregate(errors) } : { ok: true, files };
    }
    if (volume.projected) return projectedPayload(pod, volume, src);
  } catch (err) {
    if (err instanceof PayloadError) return { ok: false, message: err.message };
    throw err;
  }
  return { ok: false, message: `volume ${JSON.stringify(volume.name)} has no configMap, secret, downwardAPI or projected source` };
}

function projectedPayload(pod: V1Pod, volume: V1Volume, src: PayloadSources): PayloadResult {
  const mode = volume.projected?.defaultMode ?? defaultFileMode;
  const files: Payload = new Map();
  const errors: string[] = [];
  const add = (p: Payload) => {
    for (const [k, v] of p) files.set(k, v);
  };
  (volume.projected?.sources ?? []).forEach((source, index) => {
    try {
      if (source.secret) {
        const s = source.secret;
        add(secretFiles(pod, s.name ?? '', s.items, s.optional === true, mode, src));
      } else if (source.configMap) {
        const c = source.configMap;
        add(configMapFiles(pod, c.name ?? '', c.items, c.optional === true, mode, src));
      } else if (source.downwardAPI) {
        add(downwardFiles(pod, source.downwardAPI.items, mode, src, errors));
      } else if (source.serviceAccountToken) {
        const t = src.token(index);
        if (!t.ok) throw new PayloadError(t.message);
        // Only the user (or with an fsGroup, its group too, once ownership is set) may read a token.
        const owned = src.fsUser !== undefined || src.fsGroup !== undefined;
        files.set(cleanPath(source.serviceAccountToken.path), {
          data: Buffer.from(t.token, 'utf8'),
          mode: owned ? 0o600 : mode,
          ...(src.fsUser !== undefined ? { fsUser: src.fsUser } : {}),
        });
      } else if (source.clusterTrustBundle || source.podCertificate) {
        const which = source.clusterTrustBundle ? 'clusterTrustBundle' : 'podCertificate';
        throw new PayloadError(`projected.sources[${index}].${which}: not supported by this kubelet`);
      }
    } catch (err) {
      if (!(err instanceof PayloadError)) throw err;
      errors.push(err.message);
    }
  });
  return errors.length > 0 ? { ok: false, message: aggregate(errors) } : { ok: true, files };
}
