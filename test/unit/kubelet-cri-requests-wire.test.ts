// The configs the kubelet builds must survive the real CRI encoder unchanged: a field of
// the wrong wire type (e.g. a string where runtime.v1 has bytes) fails or is corrupted here.
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { criDefinitions } from '../../src/cri-client/descriptor.js';
import { buildContainerConfig } from '../../src/kubelet/cri-requests/container-config.js';
import { resolveEnv } from '../../src/kubelet/cri-requests/env.js';
import { parseResolvConf } from '../../src/kubelet/cri-requests/resolv-conf.js';
import { buildSandboxConfig } from '../../src/kubelet/cri-requests/sandbox-config.js';

const pod: V1Pod = {
  metadata: { name: 'web', namespace: 'default', uid: 'uid-1', labels: { app: 'web' }, annotations: { note: 'x' } },
  spec: {
    nodeName: 'node-a',
    containers: [
      {
        name: 'httpd',
        image: 'localhost/tskube/busybox:latest',
        command: ['sh', '-c', 'echo $(GREETING)'],
        env: [
          { name: 'GREETING', value: 'héllo wörld' },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'SHORT', value: 'n' },
        ],
        ports: [{ containerPort: 80, hostPort: 8080, name: 'http' }],
        resources: { limits: { cpu: '500m', memory: '64Mi' } },
      },
    ],
  },
};

describe('kubelet CRI configs on the wire', () => {
  it('encode and decode back unchanged, env values as UTF-8 bytes', () => {
    const defs = criDefinitions().runtime;
    const sandboxConfig = buildSandboxConfig(pod, 0, {
      nodeName: 'node-a',
      clusterDNS: ['10.96.0.10'],
      clusterDomain: 'cluster.local',
      hostResolv: parseResolvConf('nameserver 1.1.1.1\n'),
      cgroupParent: '/kubepods/burstable/poduid-1',
      podLogsRoot: '/var/log/pods',
    });
    const container = pod.spec!.containers[0]!;
    const env = resolveEnv(pod, container, {
      configMap: () => undefined,
      secret: () => undefined,
      hostIP: '192.0.2.2',
      hostIPs: ['192.0.2.2'],
      podIPs: ['10.88.0.7'],
      nodeName: 'node-a',
      nodeAllocatable: { cpu: '2', memory: '1Gi' },
    });
    if (!env.ok) throw new Error(env.message);
    const config = buildContainerConfig(pod, container, 0, {
      nodeMemoryCapacityBytes: 8 * 2 ** 30,
      env: env.env,
      imageRef: 'sha256:abc',
      podIPs: ['10.88.0.7'],
    });

    const wire = defs.CreateContainer.requestSerialize({ podSandboxId: 'p1', config, sandboxConfig });
    const back = defs.CreateContainer.requestDeserialize(wire);
    const envs = Object.fromEntries(back.config?.envs.map((e) => [e.key, e.value.toString('utf8')]) ?? []);
    expect(envs).toMatchObject({ GREETING: 'héllo wörld', NODE: 'node-a', SHORT: 'n' });
    expect(back.config?.command).toEqual(['sh', '-c', 'echo héllo wörld']);
    expect(back.sandboxConfig?.metadata).toMatchObject({ name: 'web', namespace: 'default', uid: 'uid-1' });
    expect(back.sandboxConfig?.portMappings).toEqual([expect.objectContaining({ containerPort: 80, hostPort: 8080, protocol: 'TCP' })]);
    expect(back.sandboxConfig?.dnsConfig?.servers).toEqual(['10.96.0.10']);
    expect(back.config?.linux?.resources?.memoryLimitInBytes).toBe(String(64 * 2 ** 20));
    expect(back.config?.labels).toMatchObject({ 'io.kubernetes.container.name': 'httpd', 'io.kubernetes.pod.uid': 'uid-1' });
  });
});
