import { describe, expect, it } from 'vitest';
import { buildNodeStatus, readyCondition } from '../../src/kubelet/node/build-node.js';
import type { NodeFacts, RuntimeFacts } from '../../src/kubelet/node/node-facts.js';
import type { NodeSettings } from '../../src/kubelet/node/node-settings.js';

// What the kubelet API adds to the Node's status: the websocket feature it declares,
// and the notes (a serving CSR waiting for approval) on the Ready condition.

const facts: NodeFacts = {
  hostname: 'vm',
  kernelVersion: '6.1',
  osImage: 'Debian',
  architecture: 'amd64',
  operatingSystem: 'linux',
  machineID: 'm',
  systemUUID: 'u',
  bootID: 'b',
  hostIPs: ['192.0.2.2'],
  cpuCores: 2,
  memoryBytes: 2 ** 33,
  memoryAvailableBytes: 2 ** 32,
  rootfsBytes: 2 ** 36,
  rootfsAvailableBytes: 2 ** 35,
  pidsInUse: 100,
  pidMax: 4_194_304,
};
const settings: NodeSettings = {
  nodeName: 'n1',
  nodeIPs: [],
  kubeletVersion: 'v1.36.3',
  kubeletPort: 10250,
  maxPods: 110,
  labels: {},
  taints: [],
  providerID: '',
  reserved: { cpuMillis: 0, memoryBytes: 0, ephemeralBytes: 0 },
  evictionHard: {},
  maxImages: 50,
};
const runtime: RuntimeFacts = {
  runtimeVersion: 'containerd://1.6',
  runtimeReady: { ok: true, reason: '', message: '' },
  networkReady: { ok: true, reason: '', message: '' },
};
const now = new Date('2026-01-01T00:00:00Z');

describe('the Node status the kubelet API shapes', () => {
  it('declares ExtendWebSocketsToKubelet when the server runs, and nothing otherwise', () => {
    expect(
      buildNodeStatus({ facts, runtime, settings: { ...settings, declaredFeatures: ['ExtendWebSocketsToKubelet'] }, images: [], now })['declaredFeatures'],
    ).toEqual(['ExtendWebSocketsToKubelet']);
    expect(buildNodeStatus({ facts, runtime, settings: { ...settings, declaredFeatures: [] }, images: [], now })).not.toHaveProperty('declaredFeatures');
  });

  it('appends notes to the Ready message without changing readiness', () => {
    const note = 'serving certificate: CertificateSigningRequest csr-x waits for approval (kubectl certificate approve csr-x)';
    const ready = readyCondition(buildNodeStatus({ facts, runtime, settings, images: [], now, notes: [note] }));
    expect(ready).toMatchObject({ status: 'True', reason: 'KubeletReady', message: `kubelet is posting ready status; ${note}` });
    expect(readyCondition(buildNodeStatus({ facts, runtime, settings, images: [], now, notes: [] }))?.message).toBe('kubelet is posting ready status');
  });
});
