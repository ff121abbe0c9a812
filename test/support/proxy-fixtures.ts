// One small cluster with every kind of service port the proxy handles, for golden tests
// of each back end: the same objects, so the rulesets can be read side by side.
import type { EndpointSlice, Service } from '../../src/proxy/model/api-objects.js';
import { service, slice } from './proxy-objects.js';
import { testNodeName } from './proxy-harness.js';

const other = 'node-b';

export function goldenCluster(): { services: Service[]; slices: EndpointSlice[] } {
  const services: Service[] = [
    service({ name: 'web', clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80 }] }),
    service({ name: 'one', clusterIP: '10.96.0.11', ports: [{ port: 8080 }] }),
    service({ name: 'empty', clusterIP: '10.96.0.12', ports: [{ port: 80 }] }),
    service({
      name: 'dns',
      namespace: 'kube-system',
      clusterIP: '10.96.0.53',
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53 },
      ],
    }),
    service({ name: 'np', type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ port: 80, nodePort: 30080 }], externalIPs: ['192.0.2.20'] }),
    service({
      name: 'lb-local',
      type: 'LoadBalancer',
      clusterIP: '10.96.0.30',
      ports: [{ port: 443, nodePort: 30443 }],
      loadBalancerIPs: ['203.0.113.30'],
      loadBalancerSourceRanges: ['198.51.100.0/24', '192.168.0.0/24'],
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: 32000,
    }),
    service({ name: 'sticky', clusterIP: '10.96.0.40', ports: [{ port: 80 }], sessionAffinitySeconds: 600 }),
    service({ name: 'itp-local', clusterIP: '10.96.0.50', ports: [{ port: 80 }], internalTrafficPolicy: 'Local' }),
    service({ name: 'itp-local-none', clusterIP: '10.96.0.51', ports: [{ port: 80 }], internalTrafficPolicy: 'Local' }),
    service({ name: 'draining', clusterIP: '10.96.0.60', ports: [{ port: 80 }] }),
    service({ name: 'zoned', clusterIP: '10.96.0.70', ports: [{ port: 80 }] }),
    service({ name: 'dual', clusterIP: '10.96.0.80', clusterIPs: ['10.96.0.80', 'fd00:10:96::80'], ports: [{ port: 80 }] }),
    service({ name: 'headless', clusterIP: 'None', ports: [{ port: 80 }] }),
  ];
  const slices: EndpointSlice[] = [
    slice({
      service: 'web',
      ports: [{ name: 'http', port: 8080 }],
      endpoints: [
        { ip: '10.244.1.1', node: other },
        { ip: '10.244.0.2', node: testNodeName },
        { ip: '10.244.2.3', node: other },
      ],
    }),
    slice({ service: 'one', ports: [{ port: 8080 }], endpoints: [{ ip: '10.244.1.9', node: other }] }),
    slice({
      service: 'dns',
      namespace: 'kube-system',
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53 },
      ],
      endpoints: [{ ip: '10.244.1.53', node: other }],
    }),
    slice({
      service: 'np',
      ports: [{ port: 8080 }],
      endpoints: [
        { ip: '10.244.1.20', node: other },
        { ip: '10.244.0.21', node: testNodeName },
      ],
    }),
    slice({
      service: 'lb-local',
      ports: [{ port: 8443 }],
      endpoints: [
        { ip: '10.244.0.30', node: testNodeName },
        { ip: '10.244.1.31', node: other },
      ],
    }),
    slice({
      service: 'sticky',
      ports: [{ port: 8080 }],
      endpoints: [
        { ip: '10.244.1.40', node: other },
        { ip: '10.244.2.41', node: other },
      ],
    }),
    slice({
      service: 'itp-local',
      ports: [{ port: 8080 }],
      endpoints: [
        { ip: '10.244.0.50', node: testNodeName },
        { ip: '10.244.1.51', node: other },
      ],
    }),
    slice({ service: 'itp-local-none', ports: [{ port: 8080 }], endpoints: [{ ip: '10.244.1.52', node: other }] }),
    slice({
      service: 'draining',
      ports: [{ port: 8080 }],
      endpoints: [
        { ip: '10.244.1.60', node: other, ready: false, serving: true, terminating: true },
        { ip: '10.244.1.61', node: other, ready: false, serving: false, terminating: true },
      ],
    }),
    slice({
      service: 'zoned',
      ports: [{ port: 8080 }],
      endpoints: [
        { ip: '10.244.1.70', node: other, zoneHints: ['zone-a'] },
        { ip: '10.244.2.71', node: other, zoneHints: ['zone-b'] },
      ],
    }),
    slice({ service: 'dual', name: 'dual-v4', ports: [{ port: 8080 }], endpoints: [{ ip: '10.244.1.80', node: other }] }),
    slice({ service: 'dual', name: 'dual-v6', addressType: 'IPv6', ports: [{ port: 8080 }], endpoints: [{ ip: 'fd00:10:244:1::80', node: other }] }),
  ];
  return { services, slices };
}
