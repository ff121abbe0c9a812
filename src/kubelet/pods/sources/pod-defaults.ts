// The defaults the API machinery gives a v1 Pod when it is decoded (upstream
// pkg/apis/core/v1 defaults.go and the generated SetObjectDefaults_Pod), applied to a
// pod's raw JSON in place. A pod from the apiserver already has them; a static pod gets
// them here, before its UID is hashed, so the UID is upstream's and the pod the kubelet
// runs is the one upstream's would run. Two defaults are done elsewhere: every resource
// list value's rounding up to milli scale changes only Go's internal form (go-spew.ts),
// and pod-level resources (spec.resources) are not defaulted from the containers'.
import { defaultPullPolicy } from '../../runtime/pull-secrets.js';
import { podSpewTypes } from './pod-spew-schema.gen.js';
import { isPlainObject, objectList } from '../../../common/field-readers.js';

type Json = Record<string, unknown>;

const record = (obj: Json, key: string): Json | undefined => (isPlainObject(obj[key]) ? obj[key] : undefined);
/** Go's zero-value test for a JSON member: absent, null, "", 0 or false. */
const unset = (v: unknown): boolean => v === undefined || v === null || v === '' || v === 0 || v === false;
const setIfUnset = (obj: Json | undefined, key: string, value: unknown): void => {
  if (obj && unset(obj[key])) obj[key] = value;
};
/** For pointer fields: only absent or null counts as unset. */
const setIfNil = (obj: Json | undefined, key: string, value: unknown): void => {
  if (obj && (obj[key] === undefined || obj[key] === null)) obj[key] = value;
};

/** The JSON names of a volume's sources: a volume naming none of them is an emptyDir. */
const volumeSourceKeys = (() => {
  const t = podSpewTypes['core.VolumeSource'];
  return t?.kind === 'struct' ? t.fields.flatMap(([, json]) => (json ? [json] : [])) : [];
})();

export function applyPodDefaults(pod: Json): void {
  const spec = record(pod, 'spec');
  if (!spec) return;
  const containers = objectList(spec, 'containers');
  const initContainers = objectList(spec, 'initContainers');
  const ephemeral = objectList(spec, 'ephemeralContainers');

  // SetDefaults_Pod
  for (const c of [...containers, ...initContainers]) {
    const resources = record(c, 'resources');
    const limits = resources && record(resources, 'limits');
    if (!resources || !limits) continue;
    const requests = record(resources, 'requests') ?? {};
    for (const [k, v] of Object.entries(limits)) if (!(k in requests)) requests[k] = v;
    resources['requests'] = requests;
  }
  setIfNil(spec, 'enableServiceLinks', true);
  if (spec['hostNetwork'] === true) {
    for (const c of [...containers, ...initContainers]) for (const p of objectList(c, 'ports')) if (unset(p['hostPort'])) p['hostPort'] = p['containerPort'];
  }

  // SetDefaults_PodSpec
  setIfUnset(spec, 'dnsPolicy', 'ClusterFirst');
  setIfUnset(spec, 'restartPolicy', 'Always');
  setIfNil(spec, 'securityContext', {});
  setIfNil(spec, 'terminationGracePeriodSeconds', 30);
  setIfUnset(spec, 'schedulerName', 'default-scheduler');

  for (const v of objectList(spec, 'volumes')) defaultVolume(v);
  for (const c of [...initContainers, ...containers, ...ephemeral]) defaultContainer(c);
}

function defaultVolume(v: Json): void {
  if (!volumeSourceKeys.some((k) => v[k] !== undefined && v[k] !== null)) v['emptyDir'] = {};
  const image = record(v, 'image');
  if (image && unset(image['pullPolicy'])) image['pullPolicy'] = defaultPullPolicy(typeof image['reference'] === 'string' ? image['reference'] : '');
  setIfNil(record(v, 'hostPath'), 'type', '');
  setIfNil(record(v, 'secret'), 'defaultMode', 0o644);
  setIfNil(record(v, 'configMap'), 'defaultMode', 0o644);
  const iscsi = record(v, 'iscsi');
  setIfUnset(iscsi, 'iscsiInterface', 'default');
  const rbd = record(v, 'rbd');
  setIfUnset(rbd, 'pool', 'rbd');
  setIfUnset(rbd, 'user', 'admin');
  setIfUnset(rbd, 'keyring', '/etc/ceph/keyring');
  const downward = record(v, 'downwardAPI');
  setIfNil(downward, 'defaultMode', 0o644);
  for (const item of objectList(downward, 'items')) defaultFieldRef(record(item, 'fieldRef'));
  const azure = record(v, 'azureDisk');
  setIfNil(azure, 'cachingMode', 'ReadWrite');
  setIfNil(azure, 'fsType', 'ext4');
  setIfNil(azure, 'readOnly', false);
  setIfNil(azure, 'kind', 'Shared');
  const projected = record(v, 'projected');
  setIfNil(projected, 'defaultMode', 0o644);
  for (const source of objectList(projected, 'sources')) {
    for (const item of objectList(record(source, 'downwardAPI'), 'items')) defaultFieldRef(record(item, 'fieldRef'));
    setIfNil(record(source, 'serviceAccountToken'), 'expirationSeconds', 3600);
  }
  const scaleIO = record(v, 'scaleIO');
  setIfUnset(scaleIO, 'storageMode', 'ThinProvisioned');
  setIfUnset(scaleIO, 'fsType', 'xfs');
  const template = record(record(v, 'ephemeral') ?? {}, 'volumeClaimTemplate');
  setIfNil(template && record(template, 'spec'), 'volumeMode', 'Filesystem');
}

function defaultContainer(c: Json): void {
  if (unset(c['imagePullPolicy'])) c['imagePullPolicy'] = defaultPullPolicy(typeof c['image'] === 'string' ? c['image'] : '');
  setIfUnset(c, 'terminationMessagePath', '/dev/termination-log');
  setIfUnset(c, 'terminationMessagePolicy', 'File');
  for (const p of objectList(c, 'ports')) setIfUnset(p, 'protocol', 'TCP');
  for (const e of objectList(c, 'env')) {
    const from = record(e, 'valueFrom');
    if (!from) continue;
    defaultFieldRef(record(from, 'fieldRef'));
    setIfNil(record(from, 'fileKeyRef'), 'optional', false);
  }
  for (const key of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    const probe = record(c, key);
    if (!probe) continue;
    setIfUnset(probe, 'timeoutSeconds', 1);
    setIfUnset(probe, 'periodSeconds', 10);
    setIfUnset(probe, 'successThreshold', 1);
    setIfUnset(probe, 'failureThreshold', 3);
    defaultHttpGet(record(probe, 'httpGet'));
    setIfNil(record(probe, 'grpc'), 'service', '');
  }
  const lifecycle = record(c, 'lifecycle');
  if (lifecycle) for (const key of ['postStart', 'preStop']) defaultHttpGet(record(record(lifecycle, key) ?? {}, 'httpGet'));
}

function defaultHttpGet(get: Json | undefined): void {
  setIfUnset(get, 'path', '/');
  setIfUnset(get, 'scheme', 'HTTP');
}

function defaultFieldRef(ref: Json | undefined): void {
  setIfUnset(ref, 'apiVersion', 'v1');
}
