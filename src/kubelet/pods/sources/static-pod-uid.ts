// A static pod's UID as the upstream kubelet computes it (pkg/kubelet/config/common.go,
// applyDefaults): FNV-128a over go-spew's text of the decoded pod — the internal
// core.Pod, after the v1 defaults and the v1-to-internal conversion — then "host:<node>"
// and "file:<path>". So the UID survives a restart and a switch between kubelets, and
// changes when the pod's meaning changes (not its comments or layout).
import { fnv128a } from '../../../common/fnv.js';
import { SpewInputError, spewPointerForHash, type SpewSchema } from './go-spew.js';
import { podSpewTypes } from './pod-spew-schema.gen.js';
import { isPlainObject } from '../../../common/field-readers.js';

type Json = Record<string, unknown>;

const schema: SpewSchema = { types: podSpewTypes, milliRoundedMaps: new Set(['core.ResourceList']) };

/** The annotations the v1 conversion drops (old clients' init container fields). */
const initContainerAnnotations = new Set([
  'pod.beta.kubernetes.io/init-containers',
  'pod.alpha.kubernetes.io/init-containers',
  'pod.beta.kubernetes.io/init-container-statuses',
  'pod.alpha.kubernetes.io/init-container-statuses',
]);

/**
 * The UID for a manifest's pod, given as raw JSON with the v1 defaults applied
 * (pod-defaults.ts) and nothing else changed; undefined for the rare pod whose hash is
 * not reproduced (a set timestamp, a value of the wrong JSON type).
 */
export function upstreamStaticPodUid(defaultedPod: Json, nodeName: string, file: string): string | undefined {
  let text: string;
  try {
    text = podSpewText(defaultedPod);
  } catch (err) {
    if (err instanceof SpewInputError) return undefined;
    throw err;
  }
  return fnv128a(text, `host:${nodeName}`, `file:${file}`);
}

/** What upstream hashes (before the host and file): exported for the comparison with upstream's. */
export function podSpewText(defaultedPod: Json): string {
  return spewPointerForHash(schema, 'core.Pod', toInternalPod(defaultedPod));
}

/** The v1 → internal conversion's changes, on JSON keyed as the spew schema reads it. */
function toInternalPod(pod: Json): Json {
  const out = structuredClone(pod);
  // Decoding into the internal version clears the type.
  delete out['apiVersion'];
  delete out['kind'];
  const metadata = isPlainObject(out['metadata']) ? out['metadata'] : undefined;
  const annotations = metadata && isPlainObject(metadata['annotations']) ? metadata['annotations'] : undefined;
  if (annotations && Object.keys(annotations).some((k) => initContainerAnnotations.has(k))) {
    metadata!['annotations'] = Object.fromEntries(Object.entries(annotations).filter(([k]) => !initContainerAnnotations.has(k)));
  }
  const spec = isPlainObject(out['spec']) ? out['spec'] : undefined;
  if (spec) {
    if (spec['serviceAccountName'] === undefined || spec['serviceAccountName'] === null || spec['serviceAccountName'] === '')
      spec['serviceAccountName'] = spec['serviceAccount'];
    // The host namespace switches live in the internal pod security context, which is always set.
    spec['securityContext'] = {
      ...(isPlainObject(spec['securityContext']) ? spec['securityContext'] : {}),
      HostNetwork: spec['hostNetwork'],
      HostPID: spec['hostPID'],
      HostIPC: spec['hostIPC'],
      ShareProcessNamespace: spec['shareProcessNamespace'],
      HostUsers: spec['hostUsers'],
    };
    const grace = spec['terminationGracePeriodSeconds'];
    if (typeof grace === 'number' && grace < 0) spec['terminationGracePeriodSeconds'] = 1;
  }
  const status = isPlainObject(out['status']) ? out['status'] : undefined;
  const podIP = status?.['podIP'];
  if (status && typeof podIP === 'string' && podIP !== '') {
    const podIPs = Array.isArray(status['podIPs']) ? status['podIPs'] : [];
    const first: unknown = podIPs[0];
    if (podIPs.length === 0 || !isPlainObject(first) || first['ip'] !== podIP) status['podIPs'] = [{ ip: podIP }];
  }
  return out;
}
