import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { TskubeError } from '../../src/common/errors.js';
import { kernelHostname } from '../../src/kubelet/cri-requests/hostname.js';
import { containerPortMappings } from '../../src/kubelet/cri-requests/port-mappings.js';
import { parseResolvConf } from '../../src/kubelet/cri-requests/resolv-conf.js';
import { buildSandboxConfig, normalizeSysctlName, sandboxConfigWarnings, type SandboxContext } from '../../src/kubelet/cri-requests/sandbox-config.js';

const ctx: SandboxContext = {
  nodeName: 'node-a',
  clusterDNS: ['10.96.0.10'],
  clusterDomain: 'cluster.local',
  hostResolv: parseResolvConf('nameserver 192.168.1.1\nsearch corp.example\n'),
  cgroupParent: 'kubepods-besteffort-poduid_1.slice',
  podLogsRoot: '/var/log/pods',
};

function pod(spec: Partial<NonNullable<V1Pod['spec']>> = {}, meta: Partial<NonNullable<V1Pod['metadata']>> = {}): V1Pod {
  return {
    metadata: { name: 'web-0', namespace: 'shop', uid: 'uid-1', labels: { app: 'web' }, annotations: { 'kubernetes.io/config.source': 'api' }, ...meta },
    spec: { containers: [{ name: 'app', image: 'nginx' }], ...spec },
  };
}

describe('buildSandboxConfig', () => {
  it('builds what crictl inspectp shows for a plain pod', () => {
    expect(buildSandboxConfig(pod(), 2, ctx)).toEqual({
      metadata: { name: 'web-0', namespace: 'shop', uid: 'uid-1', attempt: 2 },
      hostname: 'web-0',
      logDirectory: '/var/log/pods/shop_web-0_uid-1',
      dnsConfig: {
        servers: ['10.96.0.10'],
        searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example'],
        options: ['ndots:5'],
      },
      labels: { app: 'web', 'io.kubernetes.pod.name': 'web-0', 'io.kubernetes.pod.namespace': 'shop', 'io.kubernetes.pod.uid': 'uid-1' },
      annotations: { 'kubernetes.io/config.source': 'api' },
      linux: {
        cgroupParent: 'kubepods-besteffort-poduid_1.slice',
        sysctls: {},
        securityContext: {
          namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD', usernsOptions: { mode: 'NODE' } },
          privileged: false,
          seccomp: { profileType: 'RuntimeDefault' },
        },
      },
    });
  });

  it('the kubelet labels win over pod labels of the same key', () => {
    const p = pod({}, { labels: { 'io.kubernetes.pod.name': 'spoof' } });
    expect(buildSandboxConfig(p, 0, ctx).labels?.['io.kubernetes.pod.name']).toBe('web-0');
  });

  it('uses spec.hostname, cut to 63 characters without a trailing dash', () => {
    expect(buildSandboxConfig(pod({ hostname: 'db-primary' }), 0, ctx).hostname).toBe('db-primary');
    const name = `${'a'.repeat(62)}-bcd`;
    expect(buildSandboxConfig(pod({}, { name }), 0, ctx).hostname).toBe('a'.repeat(62));
  });

  it('leaves the hostname to the runtime on the host network, with host namespaces', () => {
    const c = buildSandboxConfig(pod({ hostNetwork: true, hostPID: true, hostIPC: true }), 0, ctx);
    expect(c.hostname).toBeUndefined();
    expect(c.dnsConfig).toEqual({ servers: ['192.168.1.1'], searches: ['corp.example'], options: [] });
    expect(c.linux?.securityContext?.namespaceOptions).toMatchObject({ network: 'NODE', pid: 'NODE', ipc: 'NODE' });
  });

  it('shareProcessNamespace gives a pod-wide PID namespace', () => {
    expect(buildSandboxConfig(pod({ shareProcessNamespace: true }), 0, ctx).linux?.securityContext?.namespaceOptions?.pid).toBe('POD');
  });

  it('setHostnameAsFQDN with a subdomain gives the full name', () => {
    const p = pod({ hostname: 'db', subdomain: 'dbs', setHostnameAsFQDN: true });
    expect(buildSandboxConfig(p, 0, ctx).hostname).toBe('db.dbs.shop.svc.cluster.local');
    expect(buildSandboxConfig(pod({ hostname: 'db', subdomain: 'dbs' }), 0, ctx).hostname).toBe('db');
  });

  it('rejects an FQDN longer than 64 characters and a hostname that is not a DNS label', () => {
    const p = pod({ hostname: 'h'.repeat(40), subdomain: 's'.repeat(20), setHostnameAsFQDN: true });
    expect(() => buildSandboxConfig(p, 0, ctx)).toThrow(
      /spec\.setHostnameAsFQDN: FQDN h+\.s+\.shop\.svc\.cluster\.local is too long \(64 characters is the max, 84 characters requested\)/,
    );
    expect(() => buildSandboxConfig(pod({ hostname: 'Bad_Name' }), 0, ctx)).toThrow('spec.hostname "Bad_Name" is not a valid DNS label');
    expect(() => kernelHostname(pod({ subdomain: 'x.y' }), 'cluster.local')).toThrow(TskubeError);
  });

  it('maps every declared port of the regular containers', () => {
    const p = pod({
      containers: [
        {
          name: 'app',
          ports: [
            { containerPort: 80, hostPort: 8080 },
            { containerPort: 53, protocol: 'UDP' },
          ],
        },
        { name: 'side', ports: [{ containerPort: 9000, hostPort: 9000, hostIP: '127.0.0.1', protocol: 'TCP' }] },
      ],
      initContainers: [{ name: 'init', ports: [{ containerPort: 1 }] }],
    });
    expect(buildSandboxConfig(p, 0, ctx).portMappings).toEqual([
      { protocol: 'TCP', containerPort: 80, hostPort: 8080, hostIp: '' },
      { protocol: 'UDP', containerPort: 53, hostPort: 0, hostIp: '' },
      { protocol: 'TCP', containerPort: 9000, hostPort: 9000, hostIp: '127.0.0.1' },
    ]);
    expect(buildSandboxConfig(pod(), 0, ctx).portMappings).toBeUndefined();
  });

  it('keeps a repeated port once', () => {
    expect(
      containerPortMappings({
        name: 'c',
        ports: [{ name: 'http', containerPort: 80 }, { name: 'http', containerPort: 81 }, { containerPort: 90 }, { containerPort: 90, protocol: 'TCP' }],
      }),
    ).toEqual([
      { protocol: 'TCP', containerPort: 80, hostPort: 0, hostIp: '' },
      { protocol: 'TCP', containerPort: 90, hostPort: 0, hostIp: '' },
    ]);
  });

  it('carries the pod security context, sysctls, and privileged when any container is', () => {
    const p = pod({
      securityContext: {
        runAsUser: 1000,
        runAsGroup: 3000,
        fsGroup: 2000,
        supplementalGroups: [4000, 5000],
        supplementalGroupsPolicy: 'Strict',
        seccompProfile: { type: 'Unconfined' },
        sysctls: [
          { name: 'net.ipv4.ip_unprivileged_port_start', value: '0' },
          { name: 'kernel/shm_rmid_forced', value: '1' },
        ],
      },
      initContainers: [{ name: 'setup', securityContext: { privileged: true } }],
    });
    const linux = buildSandboxConfig(p, 0, ctx).linux;
    expect(linux?.sysctls).toEqual({ 'net.ipv4.ip_unprivileged_port_start': '0', 'kernel.shm_rmid_forced': '1' });
    expect(linux?.securityContext).toMatchObject({
      runAsUser: { value: 1000 },
      runAsGroup: { value: 3000 },
      supplementalGroups: [2000, 4000, 5000],
      supplementalGroupsPolicy: 'Strict',
      privileged: true,
      // The pause process keeps the runtime default whatever the pod asks for.
      seccomp: { profileType: 'RuntimeDefault' },
    });
  });

  it('refuses user namespaces rather than running without them', () => {
    expect(() => buildSandboxConfig(pod({ hostUsers: false }), 0, ctx)).toThrow('unimplemented: spec.hostUsers=false');
  });

  it('adds pod resources and overhead when given resource options', () => {
    const p = pod({
      containers: [
        { name: 'a', resources: { requests: { cpu: '250m' }, limits: { cpu: '500m', memory: '128Mi' } } },
        { name: 'b', resources: { requests: { cpu: '250m' }, limits: { cpu: '1', memory: '64Mi' } } },
      ],
      initContainers: [{ name: 'big-init', resources: { requests: { cpu: '2' }, limits: { cpu: '2', memory: '1Gi' } } }],
      overhead: { cpu: '100m', memory: '10Mi' },
    });
    const linux = buildSandboxConfig(p, 0, { ...ctx, resources: { nodeMemoryCapacityBytes: 8 * 2 ** 30 } }).linux;
    expect(linux?.resources).toEqual({ cpuShares: 2048, cpuQuota: 200000, cpuPeriod: 100000, memoryLimitInBytes: 2 ** 30 });
    expect(linux?.overhead).toEqual({ cpuShares: 102, cpuQuota: 10000, cpuPeriod: 100000, memoryLimitInBytes: 10 * 2 ** 20 });
  });

  it('reports DNS warnings for events', () => {
    expect(sandboxConfigWarnings(pod(), { ...ctx, clusterDNS: [] }).map((w) => w.reason)).toEqual(['MissingClusterDNS']);
  });
});

describe('normalizeSysctlName', () => {
  it('turns the slash form into the dot form', () => {
    expect(normalizeSysctlName('net.ipv4.ip_forward')).toBe('net.ipv4.ip_forward');
    expect(normalizeSysctlName('net/ipv4/ip_forward')).toBe('net.ipv4.ip_forward');
    expect(normalizeSysctlName('net/ipv4/conf/eno2.100/rp_filter')).toBe('net.ipv4.conf.eno2/100.rp_filter');
    expect(normalizeSysctlName('net.ipv4.conf.eno2/100.rp_filter')).toBe('net.ipv4.conf.eno2/100.rp_filter');
  });
});
