import { describe, expect, it } from 'vitest';
import { authForImage, defaultPullPolicy, registryOf } from '../../src/kubelet/runtime/pull-secrets.js';

describe('image pull helpers', () => {
  const dockerconfig = (auths: object) => ({
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths })).toString('base64') },
  });

  it('finds the registry of an image reference', () => {
    expect(registryOf('busybox')).toBe('docker.io');
    expect(registryOf('library/busybox:1')).toBe('docker.io');
    expect(registryOf('registry.k8s.io/pause:3.10')).toBe('registry.k8s.io');
    expect(registryOf('localhost:5000/x')).toBe('localhost:5000');
  });

  it('turns matching imagePullSecrets into CRI auth, decoding auth fields', () => {
    const secrets = [
      dockerconfig({ 'https://index.docker.io/v1/': { auth: Buffer.from('alice:s3cret').toString('base64') } }),
      dockerconfig({ 'registry.example.com': { username: 'bob', password: 'pw' } }),
      { data: { '.dockerconfigjson': 'not base64 json' } },
    ];
    expect(authForImage('busybox:1', secrets)).toEqual([
      { username: 'alice', password: 's3cret', serverAddress: 'docker.io', identityToken: '', registryToken: '' },
    ]);
    expect(authForImage('registry.example.com/app:2', secrets).map((a) => a.username)).toEqual(['bob']);
    expect(authForImage('quay.io/x', secrets)).toEqual([]);
  });

  it('defaults the pull policy as the API server does', () => {
    expect(defaultPullPolicy('busybox')).toBe('Always');
    expect(defaultPullPolicy('busybox:latest')).toBe('Always');
    expect(defaultPullPolicy('busybox:1.36')).toBe('IfNotPresent');
    expect(defaultPullPolicy('localhost:5000/busybox')).toBe('Always');
    expect(defaultPullPolicy('busybox@sha256:abc')).toBe('IfNotPresent');
    expect(defaultPullPolicy('busybox:latest@sha256:abc')).toBe('Always');
    expect(defaultPullPolicy('localhost:5000/busybox:1.2@sha256:abc')).toBe('IfNotPresent');
  });
});
