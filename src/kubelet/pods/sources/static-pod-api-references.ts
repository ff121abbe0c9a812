// A static pod runs without the API server's say, so it may not name API objects the
// node would have to read with its own rights (upstream's PreventStaticPodAPIReferences,
// on by default since v1.34). The order of the checks, and so which resource a refusal
// names, is upstream's: service account, then any secret, then any configMap, then
// resource claims, then volume kinds that need the API. Pure.

import { isPlainObject, objectList } from '../../../common/field-readers.js';

type Json = Record<string, unknown>;

const has = (o: Json | undefined, key: string): boolean => o !== undefined && o[key] !== undefined && o[key] !== null;
const child = (o: Json, key: string): Json | undefined => (isPlainObject(o[key]) ? o[key] : undefined);

/** Volume sources that need nothing from the API server. */
const localSources = [
  'awsElasticBlockStore',
  'azureDisk',
  'cephfs',
  'cinder',
  'downwardAPI',
  'emptyDir',
  'fc',
  'flexVolume',
  'flocker',
  'gcePersistentDisk',
  'gitRepo',
  'hostPath',
  'image',
  'iscsi',
  'nfs',
  'photonPersistentDisk',
  'portworxVolume',
  'quobyte',
  'rbd',
  'scaleIO',
  'storageos',
  'vsphereVolume',
];

/** Volume sources that name an API object, and the resource upstream's refusal names. */
const apiSources: [string, string][] = [
  ['configMap', 'configmaps (via configmap volumes)'],
  ['secret', 'secrets (via secret volumes)'],
  ['csi', 'csidrivers (via CSI volumes)'],
  ['glusterfs', 'endpoints (via glusterFS volumes)'],
  ['persistentVolumeClaim', 'persistentvolumeclaims'],
  ['ephemeral', 'persistentvolumeclaims (via ephemeral volumes)'],
  ['azureFile', 'secrets (via azureFile volumes)'],
];

const projectedApiSources: [string, string][] = [
  ['configMap', 'configmaps (via projected volumes)'],
  ['secret', 'secrets (via projected volumes)'],
  ['serviceAccountToken', 'serviceaccounts (via projected volumes)'],
  ['clusterTrustBundle', 'clustertrustbundles'],
  ['podCertificate', 'podcertificates'],
];

function allContainers(spec: Json): Json[] {
  return [...objectList(spec, 'initContainers'), ...objectList(spec, 'containers'), ...objectList(spec, 'ephemeralContainers')];
}

/** A reference from env or envFrom to an object of this kind (`secret` or `configMap`). */
function envReferences(spec: Json, kind: 'secret' | 'configMap'): boolean {
  return allContainers(spec).some(
    (c) => objectList(c, 'envFrom').some((e) => has(e, `${kind}Ref`)) || objectList(c, 'env').some((e) => has(child(e, 'valueFrom'), `${kind}KeyRef`)),
  );
}

/** Volume sources that carry a reference to a Secret (their secretRef, or the CSI node-publish secret). */
function volumeSecretReference(v: Json): boolean {
  if (has(v, 'secret') || has(v, 'azureFile')) return true;
  for (const source of ['cephfs', 'cinder', 'flexVolume', 'rbd', 'scaleIO', 'iscsi', 'storageos']) if (has(child(v, source), 'secretRef')) return true;
  if (has(child(v, 'csi'), 'nodePublishSecretRef')) return true;
  return objectList(child(v, 'projected'), 'sources').some((s) => has(s, 'secret'));
}

function volumeConfigMapReference(v: Json): boolean {
  return has(v, 'configMap') || objectList(child(v, 'projected'), 'sources').some((s) => has(s, 'configMap'));
}

export type ApiReferenceCheck = { ok: true } | { ok: false; error: string };

/** Whether a (defaulted) static pod's spec names an API object, and upstream's error if so. */
export function checkStaticPodApiReferences(spec: Json): ApiReferenceCheck {
  const refused = (resource: string): ApiReferenceCheck => ({ ok: false, error: `static pods may not reference ${resource}` });
  // v1's deprecated serviceAccount becomes serviceAccountName when upstream converts the pod.
  if (spec['serviceAccountName'] || spec['serviceAccount']) return refused('serviceaccounts');
  const volumes = objectList(spec, 'volumes');
  if (objectList(spec, 'imagePullSecrets').length > 0 || envReferences(spec, 'secret') || volumes.some(volumeSecretReference)) return refused('secrets');
  if (envReferences(spec, 'configMap') || volumes.some(volumeConfigMapReference)) return refused('configmaps');
  if (objectList(spec, 'resourceClaims').length > 0) return refused('resourceclaims');
  for (const v of volumes) {
    const api = apiSources.find(([key]) => has(v, key));
    if (api) return refused(api[1]);
    const projected = child(v, 'projected');
    if (projected) {
      for (const s of objectList(projected, 'sources')) {
        const source = projectedApiSources.find(([key]) => has(s, key));
        if (source) return refused(source[1]);
        if (!has(s, 'downwardAPI')) return { ok: false, error: `unknown source for projected volume ${JSON.stringify(v['name'])}` };
      }
      continue;
    }
    if (!localSources.some((key) => has(v, key))) return { ok: false, error: `unknown volume type for volume ${JSON.stringify(v['name'])}` };
  }
  return { ok: true };
}
