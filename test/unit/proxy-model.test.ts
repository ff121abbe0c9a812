import { describe, expect, it } from 'vitest';
import { type ConntrackFlow, staleFlows, udpTargets, withRemovedTargets } from '../../src/proxy/conntrack/conntrack-plan.js';
import { parseConntrackList } from '../../src/proxy/conntrack/conntrack-reconciler.js';
import { conntrackSysctls } from '../../src/proxy/conntrack/conntrack-sysctls.js';
import { defaultProxyConfiguration } from '../../src/proxy/config/index.js';
import { iptPortChainNames } from '../../src/proxy/iptables/names.js';
import { EndpointSliceChangeTracker, ServiceChangeTracker } from '../../src/proxy/model/change-trackers.js';
import { mergeEndpointSlices } from '../../src/proxy/model/endpoints.js';
import { readService } from '../../src/proxy/model/service-port.js';
import { canonicalIp, cidrContains, parseCidr } from '../../src/proxy/net/ip.js';
import { planServicePort } from '../../src/proxy/plan/service-port-plan.js';
import { healthzResponse, livezResponse, ProxyHealthState } from '../../src/proxy/server/proxy-health.js';
import { healthCheckBody } from '../../src/proxy/server/service-health-servers.js';
import { nextRunAt } from '../../src/proxy/sync/sync-schedule.js';
import { node, service, slice } from '../support/proxy-objects.js';

const topo = { nodeName: 'node-a', zone: 'zone-a' };

function portOf(s: ReturnType<typeof service>, family: 'IPv4' | 'IPv6' = 'IPv4') {
  const r = readService(s, family);
  if (r.kind !== 'ports') throw new Error(`not read: ${JSON.stringify(r)}`);
  return r.ports[0]!;
}

describe('addresses', () => {
  it('prints IPv6 the way nft and Go do, and tests CIDR membership', () => {
    expect(canonicalIp('fd00:0:0::0001')).toBe('fd00::1');
    expect(canonicalIp('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(canonicalIp('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(parseCidr('10.1.2.3/8')?.text).toBe('10.0.0.0/8');
    expect(cidrContains(parseCidr('fd00::/64')!, 'fd00::5')).toBe(true);
    expect(cidrContains(parseCidr('10.0.0.0/8')!, '11.0.0.1')).toBe(false);
  });
});

describe('reading Services', () => {
  it('skips headless and ExternalName Services, and the family a Service lacks', () => {
    expect(readService(service({ name: 'h', clusterIP: 'None', ports: [{ port: 80 }] }), 'IPv4').kind).toBe('skip');
    expect(
      readService({ ...service({ name: 'x', clusterIP: '10.96.0.1', ports: [{ port: 80 }] }), spec: { type: 'ExternalName', clusterIP: '10.96.0.1' } }, 'IPv4')
        .kind,
    ).toBe('skip');
    expect(readService(service({ name: 'v4', clusterIP: '10.96.0.1', ports: [{ port: 80 }] }), 'IPv6').kind).toBe('skip');
  });

  it('reads ports per family with policies resolved', () => {
    const s = service({
      name: 'lb',
      type: 'LoadBalancer',
      clusterIP: '10.96.0.5',
      clusterIPs: ['10.96.0.5', 'fd00::5'],
      ports: [{ name: 'https', port: 443, nodePort: 30443 }],
      externalIPs: ['192.0.2.1', '2001:db8::1'],
      loadBalancerIPs: ['203.0.113.1'],
      loadBalancerSourceRanges: [' 198.51.100.0/24 ', '2001:db8::/32'],
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: 32001,
      sessionAffinitySeconds: 30,
    });
    expect(portOf(s)).toMatchObject({
      key: 'default/lb:https/TCP',
      clusterIP: '10.96.0.5',
      nodePort: 30443,
      externalIPs: ['192.0.2.1'],
      loadBalancerVIPs: ['203.0.113.1'],
      loadBalancerSourceRanges: ['198.51.100.0/24'],
      externalPolicyLocal: true,
      healthCheckNodePort: 32001,
      stickySeconds: 30,
    });
    expect(portOf(s, 'IPv6')).toMatchObject({
      clusterIP: 'fd00::5',
      externalIPs: ['2001:db8::1'],
      loadBalancerVIPs: [],
      loadBalancerSourceRanges: ['2001:db8::/32'],
    });
  });

  it('names the field and value it cannot read', () => {
    expect(readService(service({ name: 'b', clusterIP: '10.96.0.1', ports: [{ port: 70000 }] }), 'IPv4')).toEqual({
      kind: 'problem',
      problem: 'Service default/b: spec.ports[0].port: invalid value 70000',
    });
    expect(readService(service({ name: 'b', clusterIP: '10.96.0.1', ports: [{ port: 80 }], loadBalancerSourceRanges: ['10.0.0.0/40'] }), 'IPv4')).toMatchObject(
      {
        problem: 'Service default/b: spec.loadBalancerSourceRanges[0]: invalid value "10.0.0.0/40"',
      },
    );
  });
});

describe('endpoints', () => {
  it('merges slices per port, keeps a live copy over a terminating one, and sorts by address', () => {
    const a = slice({ service: 'web', name: 'a', ports: [{ name: 'http', port: 8080 }], endpoints: [{ ip: '10.0.0.2', node: 'node-a' }, { ip: '10.0.0.1' }] });
    const b = slice({
      service: 'web',
      name: 'b',
      ports: [{ name: 'http', port: 8080 }],
      endpoints: [{ ip: '10.0.0.2', ready: false, serving: true, terminating: true }],
    });
    const eps = mergeEndpointSlices([a, b], 'node-a').get('http/TCP')!;
    expect(eps.map((e) => [e.key, e.ready, e.local])).toEqual([
      ['10.0.0.1:8080', true, false],
      ['10.0.0.2:8080', true, true],
    ]);
  });
});

describe('categorizing endpoints', () => {
  const eps = (specs: Parameters<typeof slice>[0]['endpoints']) =>
    mergeEndpointSlices([slice({ service: 's', ports: [{ port: 80 }], endpoints: specs })], 'node-a').get('/TCP') ?? [];

  it('uses terminating endpoints only when no ready one remains', () => {
    const p = portOf(service({ name: 's', clusterIP: '10.96.0.1', ports: [{ port: 80 }] }));
    const both = eps([{ ip: '10.0.0.1' }, { ip: '10.0.0.2', ready: false, serving: true, terminating: true }]);
    expect(planServicePort(p, both, topo).internal.map((e) => e.ip)).toEqual(['10.0.0.1']);
    const draining = eps([
      { ip: '10.0.0.2', ready: false, serving: true, terminating: true },
      { ip: '10.0.0.3', ready: false, serving: false, terminating: true },
    ]);
    expect(planServicePort(p, draining, topo).internal.map((e) => e.ip)).toEqual(['10.0.0.2']);
    expect(planServicePort(p, eps([{ ip: '10.0.0.3', ready: false, serving: false, terminating: true }]), topo)).toMatchObject({
      internal: [],
      internalVerdict: 'reject',
    });
  });

  it('follows zone hints when every ready endpoint has one for this zone', () => {
    const p = portOf(service({ name: 's', clusterIP: '10.96.0.1', ports: [{ port: 80 }] }));
    const hinted = eps([
      { ip: '10.0.0.1', zoneHints: ['zone-a'] },
      { ip: '10.0.0.2', zoneHints: ['zone-b'] },
    ]);
    expect(planServicePort(p, hinted, topo).internal.map((e) => e.ip)).toEqual(['10.0.0.1']);
    expect(planServicePort(p, hinted, { ...topo, zone: 'zone-c' }).internal.map((e) => e.ip)).toEqual(['10.0.0.1', '10.0.0.2']);
    const partly = eps([{ ip: '10.0.0.1', zoneHints: ['zone-a'] }, { ip: '10.0.0.2' }]);
    expect(planServicePort(p, partly, topo).internal.map((e) => e.ip)).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('drops instead of rejecting when only the Local policy leaves no endpoint', () => {
    const local = portOf(service({ name: 's', clusterIP: '10.96.0.1', ports: [{ port: 80 }], internalTrafficPolicy: 'Local' }));
    expect(planServicePort(local, eps([{ ip: '10.0.0.1', node: 'node-b' }]), topo)).toMatchObject({ internal: [], internalVerdict: 'drop' });
    const etp = portOf(
      service({ name: 's', type: 'NodePort', clusterIP: '10.96.0.1', ports: [{ port: 80, nodePort: 30000 }], externalTrafficPolicy: 'Local' }),
    );
    const plan = planServicePort(etp, eps([{ ip: '10.0.0.1', node: 'node-b' }]), topo);
    expect(plan).toMatchObject({ externalVerdict: 'drop', usesExternalChain: true });
    expect(plan.internal.map((e) => e.ip)).toEqual(['10.0.0.1']);
  });
});

describe('change trackers', () => {
  it('record a change only when something the proxy reads changed', () => {
    const t = new ServiceChangeTracker();
    const s = service({ name: 's', clusterIP: '10.96.0.1', ports: [{ port: 80 }] });
    expect(t.update(undefined, s)).toBe(true);
    expect(t.update(s, { ...s, metadata: { ...s.metadata, resourceVersion: '2' } })).toBe(false);
    expect([...t.take()]).toEqual(['default/s']);
    expect(t.update(s, undefined)).toBe(true);
    expect(t.update(s, undefined)).toBe(false);
    const e = new EndpointSliceChangeTracker();
    const sl = slice({ service: 's', ports: [{ port: 80 }], endpoints: [{ ip: '10.0.0.1' }] });
    expect(e.update(sl, false)).toBe(true);
    expect(e.update({ ...sl, metadata: { ...sl.metadata, resourceVersion: '9' } }, false)).toBe(false);
    expect([...e.take().keys()]).toEqual(['default/s']);
    expect(e.update({ ...sl, metadata: { ...sl.metadata, labels: {} } }, false)).toBe(false);
  });

  it('read a Service per IP family when it changes, and keep the reading while it does not', () => {
    const t = new ServiceChangeTracker(['IPv4']);
    const s = service({ name: 's', clusterIP: '10.96.0.1', ports: [{ port: 80 }] });
    t.update(undefined, s);
    const first = t.reading('default/s', 'IPv4');
    expect(first).toEqual(readService(s, 'IPv4'));
    t.update(s, { ...s, metadata: { ...s.metadata, resourceVersion: '2' } });
    expect(t.reading('default/s', 'IPv4')).toBe(first);
    // A family not read on arrival is read on first use.
    expect(t.reading('default/s', 'IPv6')).toEqual(readService(s, 'IPv6'));
    const moved = service({ name: 's', clusterIP: '10.96.0.2', ports: [{ port: 80 }] });
    t.update(s, { ...moved, metadata: { ...moved.metadata, resourceVersion: '3' } });
    expect(t.reading('default/s', 'IPv4')).toMatchObject({ kind: 'ports', ports: [{ clusterIP: '10.96.0.2' }] });
    t.update(moved, undefined);
    expect(t.reading('default/s', 'IPv4')).toBeUndefined();
  });

  it("tell the back end of a Service's ports as they are read, so it names them outside the sync", () => {
    const told: string[] = [];
    const t = new ServiceChangeTracker(['IPv4'], (family, ports) => told.push(...ports.map((p) => `${family} ${p.key}`)));
    const s = service({
      name: 's',
      clusterIP: '10.96.0.1',
      ports: [
        { name: 'http', port: 80 },
        { name: 'dns', port: 53, protocol: 'UDP' },
      ],
    });
    t.update(undefined, s);
    expect(told).toEqual(['IPv4 default/s:http/TCP', 'IPv4 default/s:dns/UDP']);
    t.update(s, { ...s, metadata: { ...s.metadata, resourceVersion: '2' } });
    expect(told).toHaveLength(2);
    t.reading('default/s', 'IPv6');
    expect(told).toHaveLength(2);
    // The names are made once per reading: the sync gets the ones made on arrival.
    const port = portOf(s);
    expect(iptPortChainNames(port)).toBe(iptPortChainNames(port));
    expect(iptPortChainNames(port)).toEqual(iptPortChainNames(portOf(s)));
  });
});

describe('the sync schedule', () => {
  const settings = { minIntervalMs: 1000, retryIntervalMs: 30_000, maxIntervalMs: 3_600_000 };
  it('runs a change at once but not sooner than minSyncPeriod after the last run', () => {
    expect(nextRunAt({ requested: true, failed: false }, settings)).toBe(0);
    expect(nextRunAt({ requested: true, failed: false, lastStart: 100, lastEnd: 200 }, settings)).toBe(1200);
    expect(nextRunAt({ requested: false, failed: false, lastStart: 100, lastEnd: 200 }, settings)).toBe(3_600_100);
    expect(nextRunAt({ requested: false, failed: true, lastStart: 100, lastEnd: 200 }, settings)).toBe(30_200);
    expect(nextRunAt({ requested: false, failed: false }, settings)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('health', () => {
  it('turns unhealthy when a queued change waits longer than the timeout; /healthz also needs the Node', () => {
    const h = new ProxyHealthState(60_000);
    h.updated('IPv4', 1_000);
    h.queued('IPv4', 2_000);
    expect(livezResponse(h, 61_000).code).toBe(200);
    expect(livezResponse(h, 62_001).code).toBe(503);
    h.updated('IPv4', 62_500);
    const ok = healthzResponse(h, node('node-a'), 63_000);
    expect(ok.code).toBe(200);
    expect(Object.keys(ok.body)).toEqual(['lastUpdated', 'currentTime', 'nodeEligible', 'healthy', 'status']);
    expect(healthzResponse(h, undefined, 63_000)).toMatchObject({ code: 503, body: { nodeEligible: false, healthy: true } });
    const tainted = { ...node('node-a'), spec: { taints: [{ key: 'ToBeDeletedByClusterAutoscaler' }] } };
    expect(healthzResponse(h, tainted, 63_000).code).toBe(503);
  });

  it('answers the ETP=Local health check with upstream body', () => {
    expect(healthCheckBody('ns/web', 2, true)).toBe(
      '{\n\t"service": {\n\t\t"namespace": "ns",\n\t\t"name": "web"\n\t},\n\t"localEndpoints": 2,\n\t"serviceProxyHealthy": true\n}',
    );
  });
});

describe('conntrack reconciliation', () => {
  const udp = service({ name: 'dns', clusterIP: '10.96.0.53', ports: [{ port: 53, protocol: 'UDP', nodePort: 30053 }], type: 'NodePort' });
  const flow = (dst: string, dport: number, replySrc: string, replySport: number): ConntrackFlow => ({
    origSrc: '10.244.0.5',
    origDst: dst,
    origSport: 40000,
    origDport: dport,
    replySrc,
    replySport,
  });
  const plan = (ips: string[]) =>
    planServicePort(
      portOf(udp),
      mergeEndpointSlices([slice({ service: 'dns', ports: [{ port: 5353, protocol: 'UDP' }], endpoints: ips.map((ip) => ({ ip })) })], 'node-a').get('/UDP') ??
        [],
      topo,
    );

  it('finds flows to a gone endpoint, to no endpoint, and not yet DNATed', () => {
    const flows = [
      flow('10.96.0.53', 53, '10.244.1.1', 5353),
      flow('10.96.0.53', 53, '10.244.1.2', 5353),
      flow('10.96.0.53', 53, '10.96.0.53', 53),
      flow('192.168.0.10', 30053, '10.244.1.2', 5353),
      flow('10.96.0.99', 53, '10.244.1.2', 5353),
    ];
    expect(staleFlows(flows, udpTargets([plan(['10.244.1.1'])]))).toEqual([flows[1], flows[2], flows[3]]);
    // No endpoint at all: every DNATed flow goes (upstream keeps these), the rejected one stays.
    expect(staleFlows(flows, udpTargets([plan([])]))).toEqual([flows[0], flows[1], flows[3]]);
    // The port was removed since the last reconcile.
    expect(staleFlows(flows, withRemovedTargets(udpTargets([]), udpTargets([plan(['10.244.1.1'])])))).toEqual([flows[0], flows[1], flows[3]]);
  });

  it('reads conntrack -L', () => {
    const text = 'udp      17 29 src=10.244.0.5 dst=10.96.0.53 sport=40000 dport=53 src=10.244.1.1 dst=10.244.0.5 sport=5353 dport=40000 mark=0 use=1\n';
    expect(parseConntrackList(text)).toEqual([flow('10.96.0.53', 53, '10.244.1.1', 5353)]);
  });

  it('sets the sysctls upstream sets', () => {
    const c = defaultProxyConfiguration().conntrack;
    expect(conntrackSysctls(c, 2)).toEqual([
      { path: '/proc/sys/net/netfilter/nf_conntrack_max', value: 131072 },
      { path: '/sys/module/nf_conntrack/parameters/hashsize', value: 32768, raiseOnly: true },
      { path: '/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established', value: 86400 },
      { path: '/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_close_wait', value: 3600 },
    ]);
    expect(conntrackSysctls({ ...c, maxPerCore: 0, tcpEstablishedTimeout: 0, tcpCloseWaitTimeout: 0 }, 2)).toEqual([]);
  });
});
