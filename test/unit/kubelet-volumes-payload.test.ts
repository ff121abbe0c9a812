import type { V1ConfigMap, V1Pod, V1Secret, V1Volume } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { TskubeError } from '../../src/common/errors.js';
import { type PayloadSources, volumePayload } from '../../src/kubelet/volumes/payload.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const configMaps = new Map<string, V1ConfigMap>([
  ['app', { metadata: { name: 'app' }, data: { 'app.conf': 'x=1\n', MODE: 'fast' }, binaryData: { 'logo.bin': b64('\u0000\u0001') } }],
  ['kube-root-ca.crt', { metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': '-----BEGIN CERTIFICATE-----\n' } }],
]);
const secrets = new Map<string, V1Secret>([['db', { metadata: { name: 'db' }, data: { password: b64('s3cret'), user: b64('admin') } }]]);

function sources(over: Partial<PayloadSources> = {}): PayloadSources {
  return {
    configMap: (_ns, name) => configMaps.get(name),
    secret: (_ns, name) => secrets.get(name),
    token: () => ({ ok: true, token: 'header.payload.sig' }),
    nodeAllocatable: { cpu: '2', memory: String(4 * 2 ** 30), 'ephemeral-storage': String(50 * 2 ** 30) },
    ...over,
  };
}

const pod: V1Pod = {
  metadata: { name: 'web-0', namespace: 'shop', uid: 'u-1', labels: { app: 'web', tier: 'front' }, annotations: { note: 'a "quoted" one' } },
  spec: { containers: [{ name: 'app', resources: { requests: { cpu: '250m' }, limits: { memory: '128Mi' } } }] },
};

/** path → [content, mode in octal] of a payload, or its error. */
function files(volume: V1Volume, src = sources()): Record<string, [string, string, number?]> | string {
  const r = volumePayload(pod, volume, src);
  if (!r.ok) return r.message;
  return Object.fromEntries(
    [...r.files].map(([p, f]) => [
      p,
      f.fsUser === undefined ? [f.data.toString('latin1'), f.mode.toString(8)] : [f.data.toString(), f.mode.toString(8), f.fsUser],
    ]),
  );
}

describe('volume payloads', () => {
  it('configMap: every key (data and binaryData) at defaultMode, or the items with their own modes', () => {
    expect(files({ name: 'c', configMap: { name: 'app' } })).toEqual({
      'app.conf': ['x=1\n', '644'],
      MODE: ['fast', '644'],
      'logo.bin': ['\u0000\u0001', '644'],
    });
    expect(
      files({
        name: 'c',
        configMap: {
          name: 'app',
          defaultMode: 0o400,
          items: [
            { key: 'MODE', path: 'mode/current' },
            { key: 'app.conf', path: 'app.conf', mode: 0o600 },
          ],
        },
      }),
    ).toEqual({
      'mode/current': ['fast', '400'],
      'app.conf': ['x=1\n', '600'],
    });
  });

  it('secret: decoded data; a missing object or key fails with upstream words unless optional', () => {
    expect(files({ name: 's', secret: { secretName: 'db', items: [{ key: 'password', path: 'pw' }] } })).toEqual({ pw: ['s3cret', '644'] });
    expect(files({ name: 's', secret: { secretName: 'nope' } })).toBe('secret "nope" not found');
    expect(files({ name: 's', secret: { secretName: 'nope', optional: true } })).toEqual({});
    expect(files({ name: 's', secret: { secretName: 'db', items: [{ key: 'token', path: 't' }] } })).toBe('references non-existent secret key: token');
    expect(files({ name: 's', secret: { secretName: 'db', optional: true, items: [{ key: 'token', path: 't' }] } })).toEqual({});
    expect(files({ name: 'c', configMap: { name: 'app', items: [{ key: 'nope', path: 'n' }] } })).toBe('configmap references non-existent config key: nope');
    expect(files({ name: 'c', configMap: { name: 'gone' } })).toBe('configmap "gone" not found');
  });

  it('says "cannot tell yet" rather than "not found" while the object has not been listed', () => {
    const unsynced = sources({
      secret: () => {
        throw new TskubeError('unavailable', 'failed to sync secret cache: timed out waiting for the condition (secret shop/db not listed yet)');
      },
    });
    expect(files({ name: 's', secret: { secretName: 'db' } }, unsynced)).toBe(
      'failed to sync secret cache: timed out waiting for the condition (secret shop/db not listed yet)',
    );
  });

  it('downwardAPI: labels and annotations as the env var format, resources with divisors, allocatable for unset limits', () => {
    expect(
      files({
        name: 'info',
        downwardAPI: {
          items: [
            { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
            { path: './annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
            { path: 'tier', fieldRef: { fieldPath: "metadata.labels['tier']" } },
            { path: 'mem', resourceFieldRef: { containerName: 'app', resource: 'limits.memory', divisor: '1Mi' } },
            // The API server writes divisor "0" when none is given: it means 1.
            { path: 'cpu_req', resourceFieldRef: { containerName: 'app', resource: 'requests.cpu', divisor: '0' } },
            { path: 'cpu_lim_m', resourceFieldRef: { containerName: 'app', resource: 'limits.cpu', divisor: '1m' } },
            { path: 'eph', resourceFieldRef: { containerName: 'app', resource: 'limits.ephemeral-storage', divisor: '1Gi' }, mode: 0o400 },
          ],
        },
      }),
    ).toEqual({
      labels: ['app="web"\ntier="front"', '644'],
      annotations: ['note="a \\"quoted\\" one"', '644'],
      tier: ['front', '644'],
      mem: ['128', '644'],
      cpu_req: ['1', '644'],
      cpu_lim_m: ['2000', '644'],
      eph: ['50', '400'],
    });
    expect(files({ name: 'info', downwardAPI: { items: [{ path: 'x', resourceFieldRef: { containerName: 'nope', resource: 'limits.cpu' } }] } })).toBe(
      'container "nope" not found',
    );
  });

  it('projected: all four sources into one directory; the token file is 0600 and the user’s when the pod runs as one', () => {
    const kubeApiAccess: V1Volume = {
      name: 'kube-api-access-abcde',
      projected: {
        defaultMode: 0o644,
        sources: [
          { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
          { secret: { name: 'db', items: [{ key: 'user', path: 'db/user' }] } },
        ],
      },
    };
    expect(files(kubeApiAccess)).toEqual({
      token: ['header.payload.sig', '644'],
      'ca.crt': ['-----BEGIN CERTIFICATE-----\n', '644'],
      namespace: ['shop', '644'],
      'db/user': ['admin', '644'],
    });
    expect(files(kubeApiAccess, sources({ fsUser: 1000 }))).toMatchObject({ token: ['header.payload.sig', '600', 1000] });
    expect(files(kubeApiAccess, sources({ fsGroup: 2000 }))).toMatchObject({ token: ['header.payload.sig', '600'] });
  });

  it('projected: every source that fails is reported, as upstream aggregates them', () => {
    const v: V1Volume = {
      name: 'p',
      projected: {
        sources: [{ serviceAccountToken: { path: 'token' } }, { secret: { name: 'gone' } }, { clusterTrustBundle: { path: 'b', name: 'x' } }],
      },
    };
    expect(files(v, sources({ token: () => ({ ok: false, message: 'failed to fetch token: forbidden' }) }))).toBe(
      '[failed to fetch token: forbidden, secret "gone" not found, projected.sources[2].clusterTrustBundle: not supported by this kubelet]',
    );
  });
});
