import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { computeQosClass, qosClass } from '../../src/kubelet/pods/qos.js';

const c = (resources: V1Container['resources']): V1Container => ({ name: 'c', image: 'i', resources });
const pod = (...containers: V1Container[]): V1Pod => ({ spec: { containers } });

describe('QoS class', () => {
  it('compares quantities, not their text', () => {
    expect(computeQosClass(pod(c({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1000m', memory: '1024Mi' } })))).toBe('Guaranteed');
    expect(computeQosClass(pod(c({ requests: { cpu: '0.5', memory: '1Gi' }, limits: { cpu: '500m', memory: '1073741824' } })))).toBe('Guaranteed');
    expect(computeQosClass(pod(c({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1001m', memory: '1Gi' } })))).toBe('Burstable');
  });

  it('ignores zero amounts and resources other than cpu and memory', () => {
    expect(computeQosClass(pod(c({ requests: { cpu: '0', memory: '0Mi' } })))).toBe('BestEffort');
    expect(computeQosClass(pod(c({ requests: { 'ephemeral-storage': '1Gi' }, limits: { 'ephemeral-storage': '1Gi' } })))).toBe('BestEffort');
    expect(computeQosClass(pod(c({ requests: { cpu: '0', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } })))).toBe('Burstable');
  });

  it('needs every container to limit both cpu and memory for Guaranteed', () => {
    const full = c({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } });
    expect(computeQosClass(pod(full, c({ limits: { cpu: '1' }, requests: { cpu: '1' } })))).toBe('Burstable');
    expect(computeQosClass(pod(full, full))).toBe('Guaranteed');
  });

  it('uses pod-level resources when the pod sets them', () => {
    const p: V1Pod = { spec: { resources: { requests: { cpu: '2', memory: '1Gi' }, limits: { cpu: '2000m', memory: '1Gi' } }, containers: [c(undefined)] } };
    expect(computeQosClass(p)).toBe('Guaranteed');
    expect(computeQosClass({ spec: { resources: { requests: { cpu: '1' } }, containers: [c(undefined)] } })).toBe('Burstable');
  });

  it('keeps the class the API server recorded (a resized pod keeps its class)', () => {
    const p = pod(c({ requests: { cpu: '1' } }));
    expect(qosClass({ ...p, status: { qosClass: 'Guaranteed' } })).toBe('Guaranteed');
    expect(qosClass(p)).toBe('Burstable');
  });
});
