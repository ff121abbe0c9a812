import type { V1ConfigMap, V1Container, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { resolveEnv, type EnvSources, type ResolvedEnv } from '../../src/kubelet/cri-requests/env.js';
import { expandVars, lookupIn } from '../../src/kubelet/cri-requests/expansion.js';
import { serviceEnvVars } from '../../src/kubelet/cri-requests/service-env.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

const configMaps: Record<string, V1ConfigMap> = {
  'shop/app': { data: { MODE: 'prod', LEVEL: 'debug', 'bad=key': 'x' } },
  'shop/other': { data: { MODE: 'staging' } },
};
const secrets: Record<string, V1Secret> = {
  'shop/db': { data: { PASSWORD: b64('s3cr3t'), USER: b64('admin') } },
  'shop/static': { data: { TOKEN: b64('old') }, stringData: { TOKEN: 'new' } },
};

function sources(extra: Partial<EnvSources> = {}): EnvSources {
  return {
    configMap: (ns, name) => configMaps[`${ns}/${name}`],
    secret: (ns, name) => secrets[`${ns}/${name}`],
    hostIP: '192.168.1.10',
    hostIPs: ['192.168.1.10', 'fd00::10'],
    podIPs: ['10.244.0.5', 'fd10::5'],
    nodeName: 'node-a',
    nodeAllocatable: { cpu: '4', memory: '8Gi', 'ephemeral-storage': '100Gi' },
    ...extra,
  };
}

function pod(container: V1Container, spec: Partial<NonNullable<V1Pod['spec']>> = {}): V1Pod {
  return {
    metadata: { name: 'web-0', namespace: 'shop', uid: 'uid-1', labels: { app: 'web', tier: 'front' }, annotations: { owner: 'team-a' } },
    spec: { nodeName: 'node-a', serviceAccountName: 'web-sa', containers: [container], ...spec },
  };
}

function ok(r: ResolvedEnv): Record<string, string> {
  if (!r.ok) throw new Error(`expected ok, got ${r.message}`);
  return Object.fromEntries(r.env.map((e) => [e.name, e.value]));
}

function failure(r: ResolvedEnv): string {
  if (r.ok) throw new Error('expected a failure');
  expect(r.reason).toBe('CreateContainerConfigError');
  return r.message;
}

describe('expandVars', () => {
  const lookup = lookupIn(
    new Map([
      ['A', 'x'],
      ['B', 'y'],
    ]),
  );
  it('expands known references and keeps unknown ones', () => {
    expect(expandVars('$(A)-$(B)-$(C)', lookup)).toBe('x-y-$(C)');
  });
  it('treats $$ as an escaped $ and leaves other $ uses alone', () => {
    expect(expandVars('$$(A)', lookup)).toBe('$(A)');
    expect(expandVars('$$$(A)', lookup)).toBe('$x');
    expect(expandVars('cost: $5 $', lookup)).toBe('cost: $5 $');
    expect(expandVars('$(A', lookup)).toBe('$(A');
    expect(expandVars('$()', lookup)).toBe('$()');
  });
});

describe('resolveEnv', () => {
  it('passes plain values and expands $(VAR) against earlier vars only', () => {
    const c: V1Container = {
      name: 'app',
      env: [{ name: 'HOST', value: 'db' }, { name: 'URL', value: 'postgres://$(HOST):$(PORT)/$$(HOST)' }, { name: 'PORT', value: '5432' }, { name: 'EMPTY' }],
    };
    const r = resolveEnv(pod(c), c, sources());
    expect(r.ok && r.env).toEqual([
      { name: 'HOST', value: 'db' },
      { name: 'URL', value: 'postgres://db:$(PORT)/$(HOST)' },
      { name: 'PORT', value: '5432' },
      { name: 'EMPTY', value: '' },
    ]);
  });

  it('resolves fieldRefs from the pod and the node', () => {
    const f = (fieldPath: string) => ({ fieldRef: { fieldPath } });
    const c: V1Container = {
      name: 'app',
      env: [
        { name: 'NAME', valueFrom: f('metadata.name') },
        { name: 'NS', valueFrom: f('metadata.namespace') },
        { name: 'UID', valueFrom: f('metadata.uid') },
        { name: 'APP', valueFrom: f("metadata.labels['app']") },
        { name: 'OWNER', valueFrom: f("metadata.annotations['owner']") },
        { name: 'MISSING', valueFrom: f("metadata.labels['nope']") },
        { name: 'NODE', valueFrom: f('spec.nodeName') },
        { name: 'SA', valueFrom: f('spec.serviceAccountName') },
        { name: 'HOST_IP', valueFrom: f('status.hostIP') },
        { name: 'HOST_IPS', valueFrom: f('status.hostIPs') },
        { name: 'POD_IP', valueFrom: f('status.podIP') },
        { name: 'POD_IPS', valueFrom: f('status.podIPs') },
        { name: 'LABELS', valueFrom: f('metadata.labels') },
      ],
    };
    expect(ok(resolveEnv(pod(c), c, sources()))).toEqual({
      NAME: 'web-0',
      NS: 'shop',
      UID: 'uid-1',
      APP: 'web',
      OWNER: 'team-a',
      MISSING: '',
      NODE: 'node-a',
      SA: 'web-sa',
      HOST_IP: '192.168.1.10',
      HOST_IPS: '192.168.1.10,fd00::10',
      POD_IP: '10.244.0.5',
      POD_IPS: '10.244.0.5,fd10::5',
      LABELS: 'app="web"\ntier="front"',
    });
  });

  it('fails on an unsupported fieldPath, naming the env var', () => {
    const c: V1Container = { name: 'app', env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.bogus' } } }] };
    expect(failure(resolveEnv(pod(c), c, sources()))).toBe('spec.containers[app].env[0].valueFrom.fieldRef.fieldPath: unsupported fieldPath: spec.bogus');
  });

  it('resolves resourceFieldRefs with divisors, rounding up; missing limits read node allocatable', () => {
    const r = (resource: string, divisor?: string) => ({ resourceFieldRef: { resource, ...(divisor ? { divisor } : {}) } });
    const c: V1Container = {
      name: 'app',
      resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { memory: '128Mi' } },
      env: [
        { name: 'REQ_CPU', valueFrom: r('requests.cpu') },
        { name: 'REQ_CPU_M', valueFrom: r('requests.cpu', '1m') },
        { name: 'LIM_CPU', valueFrom: r('limits.cpu') },
        { name: 'LIM_MEM', valueFrom: r('limits.memory') },
        { name: 'LIM_MEM_MI', valueFrom: r('limits.memory', '1Mi') },
        { name: 'REQ_MEM_G', valueFrom: r('requests.memory', '1G') },
        { name: 'LIM_EPH_GI', valueFrom: r('limits.ephemeral-storage', '1Gi') },
        { name: 'REQ_EPH', valueFrom: r('requests.ephemeral-storage') },
      ],
    };
    expect(ok(resolveEnv(pod(c), c, sources()))).toEqual({
      REQ_CPU: '1',
      REQ_CPU_M: '250',
      LIM_CPU: '4',
      LIM_MEM: String(128 * 1024 * 1024),
      LIM_MEM_MI: '128',
      REQ_MEM_G: '1',
      LIM_EPH_GI: '100',
      REQ_EPH: '0',
    });
  });

  it('reads divisor "0" (what the API server writes when none is given) as 1', () => {
    const c: V1Container = {
      name: 'app',
      resources: { limits: { cpu: '1500m', memory: '64Mi' } },
      env: [
        { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '0' } } },
        { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '0' } } },
      ],
    };
    expect(ok(resolveEnv(pod(c), c, sources()))).toEqual({ CPU: '2', MEM: String(64 * 2 ** 20) });
  });

  it('reads another container named by resourceFieldRef.containerName', () => {
    const side: V1Container = { name: 'side', resources: { limits: { cpu: '2' } } };
    const c: V1Container = {
      name: 'app',
      env: [{ name: 'SIDE_CPU', valueFrom: { resourceFieldRef: { containerName: 'side', resource: 'limits.cpu', divisor: '1m' } } }],
    };
    expect(ok(resolveEnv(pod(c, { containers: [c, side] }), c, sources()))).toEqual({ SIDE_CPU: '2000' });
  });

  it('fails on an unknown resource name', () => {
    const c: V1Container = { name: 'app', env: [{ name: 'X', valueFrom: { resourceFieldRef: { resource: 'limits.gpu' } } }] };
    expect(failure(resolveEnv(pod(c), c, sources()))).toContain('unsupported container resource : limits.gpu');
  });

  it('resolves configMapKeyRef and secretKeyRef, decoding secret data', () => {
    const c: V1Container = {
      name: 'app',
      env: [
        { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'app', key: 'MODE' } } },
        { name: 'PW', valueFrom: { secretKeyRef: { name: 'db', key: 'PASSWORD' } } },
        { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'static', key: 'TOKEN' } } },
      ],
    };
    expect(ok(resolveEnv(pod(c), c, sources()))).toEqual({ MODE: 'prod', PW: 's3cr3t', TOKEN: 'new' });
  });

  it('reports a missing ConfigMap, Secret or key as upstream words it', () => {
    const one = (valueFrom: NonNullable<V1Container['env']>[number]['valueFrom']) => {
      const c: V1Container = { name: 'app', env: [{ name: 'X', valueFrom }] };
      return failure(resolveEnv(pod(c), c, sources()));
    };
    expect(one({ configMapKeyRef: { name: 'nope', key: 'K' } })).toBe('configmap "nope" not found');
    expect(one({ configMapKeyRef: { name: 'app', key: 'K' } })).toBe("couldn't find key K in ConfigMap shop/app");
    expect(one({ secretKeyRef: { name: 'nope', key: 'K' } })).toBe('secret "nope" not found');
    expect(one({ secretKeyRef: { name: 'db', key: 'K' } })).toBe("couldn't find key K in Secret shop/db");
  });

  it('leaves out optional references that are missing', () => {
    const c: V1Container = {
      name: 'app',
      env: [
        { name: 'A', valueFrom: { configMapKeyRef: { name: 'nope', key: 'K', optional: true } } },
        { name: 'B', valueFrom: { configMapKeyRef: { name: 'app', key: 'K', optional: true } } },
        { name: 'C', valueFrom: { secretKeyRef: { name: 'nope', key: 'K', optional: true } } },
        { name: 'D', valueFrom: { secretKeyRef: { name: 'db', key: 'K', optional: true } } },
        { name: 'E', value: 'kept' },
      ],
      envFrom: [{ configMapRef: { name: 'nope', optional: true } }, { secretRef: { name: 'nope', optional: true } }],
    };
    expect(ok(resolveEnv(pod(c), c, sources()))).toEqual({ E: 'kept' });
  });

  it('envFrom: prefixes keys, later sources and env override, invalid names skipped with a warning', () => {
    const c: V1Container = {
      name: 'app',
      envFrom: [
        { configMapRef: { name: 'app' } },
        { configMapRef: { name: 'other' }, prefix: 'O_' },
        { secretRef: { name: 'db' }, prefix: 'DB_' },
        { configMapRef: { name: 'other' } },
      ],
      env: [{ name: 'LEVEL', value: 'info-$(MODE)' }],
    };
    const r = resolveEnv(pod(c), c, sources());
    expect(ok(r)).toEqual({ MODE: 'staging', LEVEL: 'info-staging', O_MODE: 'staging', DB_PASSWORD: 's3cr3t', DB_USER: 'admin' });
    expect(r.ok && r.warnings).toEqual([
      'Keys [bad=key] from the EnvFrom configMap shop/app were skipped since they are considered invalid environment variable names.',
    ]);
  });

  it('envFrom of a missing source fails unless optional', () => {
    const c: V1Container = { name: 'app', envFrom: [{ secretRef: { name: 'gone' } }] };
    expect(failure(resolveEnv(pod(c), c, sources()))).toBe('secret "gone" not found');
  });

  it('adds service variables: the kubernetes service always, the namespace ones with enableServiceLinks', () => {
    const svc = (ns: string, name: string, clusterIP: string, ports: { port: number; name?: string; protocol?: string }[]): V1Service => ({
      metadata: { namespace: ns, name },
      spec: { clusterIP, ports },
    });
    const services = [
      svc('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443 }]),
      svc('shop', 'redis-cache', '10.96.5.5', [{ port: 6379 }]),
      svc('shop', 'headless', 'None', [{ port: 80 }]),
      svc('other', 'elsewhere', '10.96.9.9', [{ port: 80 }]),
    ];
    const c: V1Container = {
      name: 'app',
      env: [
        { name: 'R', value: '$(REDIS_CACHE_SERVICE_HOST)' },
        { name: 'KUBERNETES_SERVICE_PORT', value: 'mine' },
      ],
    };
    const env = ok(resolveEnv(pod(c), c, sources({ services })));
    expect(env.R).toBe('10.96.5.5');
    expect(env.KUBERNETES_SERVICE_HOST).toBe('10.96.0.1');
    expect(env.KUBERNETES_SERVICE_PORT).toBe('mine');
    expect(env.KUBERNETES_SERVICE_PORT_HTTPS).toBe('443');
    expect(env.REDIS_CACHE_PORT).toBe('tcp://10.96.5.5:6379');
    expect(Object.keys(env).some((k) => k.startsWith('HEADLESS') || k.startsWith('ELSEWHERE'))).toBe(false);

    const noLinks = ok(resolveEnv(pod(c, { enableServiceLinks: false }), c, sources({ services })));
    expect(noLinks.KUBERNETES_SERVICE_HOST).toBe('10.96.0.1');
    expect(noLinks.REDIS_CACHE_SERVICE_HOST).toBeUndefined();
    expect(noLinks.R).toBe('$(REDIS_CACHE_SERVICE_HOST)');
  });
});

describe('serviceEnvVars', () => {
  it('writes the Docker-links variables for every port, IPv6 addresses bracketed', () => {
    const s: V1Service = {
      metadata: { name: 'dns', namespace: 'kube-system' },
      spec: {
        clusterIP: 'fd00::a',
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        ],
      },
    };
    expect(serviceEnvVars(s)).toEqual([
      { name: 'DNS_SERVICE_HOST', value: 'fd00::a' },
      { name: 'DNS_SERVICE_PORT', value: '53' },
      { name: 'DNS_SERVICE_PORT_DNS', value: '53' },
      { name: 'DNS_SERVICE_PORT_DNS_TCP', value: '53' },
      { name: 'DNS_PORT', value: 'udp://[fd00::a]:53' },
      { name: 'DNS_PORT_53_UDP', value: 'udp://[fd00::a]:53' },
      { name: 'DNS_PORT_53_UDP_PROTO', value: 'udp' },
      { name: 'DNS_PORT_53_UDP_PORT', value: '53' },
      { name: 'DNS_PORT_53_UDP_ADDR', value: 'fd00::a' },
      { name: 'DNS_PORT_53_TCP', value: 'tcp://[fd00::a]:53' },
      { name: 'DNS_PORT_53_TCP_PROTO', value: 'tcp' },
      { name: 'DNS_PORT_53_TCP_PORT', value: '53' },
      { name: 'DNS_PORT_53_TCP_ADDR', value: 'fd00::a' },
    ]);
  });
});
