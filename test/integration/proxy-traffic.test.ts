// Every behaviour of the service proxy with real traffic through real netfilter, inside
// network namespaces this test makes (test/support/proxy-lab.ts): nothing touches the
// host's ruleset. The same cases run against each back end that can run here.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyBackend } from '../../src/proxy/backend.js';
import { cleanupAll } from '../../src/proxy/cleanup.js';
import { ConntrackReconciler } from '../../src/proxy/conntrack/conntrack-reconciler.js';
import type { Exec } from '../../src/proxy/exec/exec.js';
import { IptablesProxier } from '../../src/proxy/iptables/iptables-proxier.js';
import { iptablesCommand } from '../../src/proxy/iptables/iptables.js';
import { NftablesProxier } from '../../src/proxy/nftables/nftables-proxier.js';
import { nftCommand } from '../../src/proxy/nftables/nftables.js';
import { ProxyMetrics } from '../../src/proxy/server/proxy-metrics.js';
import { ServiceHealthServers } from '../../src/proxy/server/service-health-servers.js';
import { netnsListen, type NetnsListen } from '../support/netns-listen.js';
import { type Harness, proxyHarness, testNodeName } from '../support/proxy-harness.js';
import { type ProxyLab, proxyLab } from '../support/proxy-lab.js';
import { service, slice } from '../support/proxy-objects.js';

type BackendFactory = (exec: Exec, family: 'IPv4' | 'IPv6') => ProxyBackend;

const backends: [string, BackendFactory][] = [
  ['nftables', (exec, family) => new NftablesProxier({ nft: nftCommand(exec), family })],
  ['iptables', (exec, family) => new IptablesProxier({ iptables: iptablesCommand(exec), family, exec, routeLocalnet: family === 'IPv4' })],
];

const names = (answers: string[]) => new Set(answers.map((a) => a.split(' ')[0]));

/**
 * The namespace's rules: the nftables ruleset without the tables of iptables-nft (whose
 * empty built-in chains stay once iptables was used), and iptables-save's chains and rules.
 */
async function ruleset(lab: ProxyLab): Promise<string> {
  const nft = (await lab.exec.output('nft', ['list', 'ruleset'])).split(/^(?=table )/m).filter((t) => !/^table ip6? (filter|nat|mangle) \{/.test(t));
  const ipt = async (cmd: string) =>
    (await lab.exec.output(cmd, []))
      .split('\n')
      .filter((l) => l.startsWith('-A') || (l.startsWith(':') && !/^:(INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) /.test(l)));
  return [...nft, ...(await ipt('iptables-save')), ...(await ipt('ip6tables-save'))].join('\n');
}

describe.each(backends)('%s back end, real traffic', (mode, makeBackend) => {
  let lab: ProxyLab;
  let h: Harness;
  let listen: NetnsListen;
  let healthServers: ServiceHealthServers;
  let rulesetBefore: string;

  beforeAll(async () => {
    lab = await proxyLab(mode.slice(0, 3));
    listen = await netnsListen(lab.node);
    const log = pino({ level: 'silent' });
    healthServers = new ServiceHealthServers({
      listen: listen.listen,
      addresses: (family) => [family === 'IPv4' ? '0.0.0.0' : '::'],
      proxyHealthy: () => true,
      log,
    });
    // Something of the host's own in the namespace: --cleanup must leave it alone.
    await lab.exec.output('nft', ['-f', '-'], {
      input: 'add table inet site-firewall\nadd chain inet site-firewall input { type filter hook input priority 0 ; }\n',
    });
    await lab.exec.output('iptables-restore', ['--noflush'], {
      input: '*filter\n:TEST-SITE - [0:0]\n-A INPUT -j TEST-SITE\n-A TEST-SITE -p tcp --dport 22 -j ACCEPT\nCOMMIT\n',
    });
    rulesetBefore = await ruleset(lab);
    // As the proxy starts its back ends: the support check first (it reads the kernel, and
    // in iptables mode sets route_localnet).
    const started = async (family: 'IPv4' | 'IPv6') => {
      const backend = makeBackend(lab.exec, family);
      await backend.checkSupport();
      return backend;
    };
    h = proxyHarness(
      [
        { family: 'IPv4', backend: await started('IPv4') },
        { family: 'IPv6', backend: await started('IPv6') },
      ],
      {
        config: { nodeIPs: [lab.nodeIP] },
        after: [new ConntrackReconciler({ exec: lab.exec, metrics: new ProxyMetrics(), log }), healthServers],
      },
    );
  }, 90_000);

  afterAll(async () => {
    await healthServers?.close();
    await listen?.close();
    await lab?.cleanup();
  });

  it('spreads ClusterIP connections over every endpoint', async () => {
    expect(
      await h.apply({
        services: [service({ name: 'web', clusterIP: '10.96.0.10', ports: [{ port: 80, targetPort: 8080 }] })],
        slices: [slice({ service: 'web', ports: [{ port: 8080 }], endpoints: lab.backends.map((b) => ({ ip: b.ip, node: 'node-b' })) })],
      }),
    ).toBe(true);
    const r = await lab.ask(lab.client, '10.96.0.10', 80, 'tcp', 60);
    expect(r.errors).toEqual([]);
    expect(names(r.answers)).toEqual(new Set(['b1', 'b2', 'b3']));
  });

  it('keeps a client on one endpoint with ClientIP affinity', async () => {
    await h.apply({
      services: [service({ name: 'sticky', clusterIP: '10.96.0.40', ports: [{ port: 80 }], sessionAffinitySeconds: 300 })],
      slices: [slice({ service: 'sticky', ports: [{ port: 8080 }], endpoints: lab.backends.map((b) => ({ ip: b.ip, node: 'node-b' })) })],
    });
    const r = await lab.ask(lab.client, '10.96.0.40', 80, 'tcp', 20);
    expect(r.errors).toEqual([]);
    expect(names(r.answers).size).toBe(1);
  });

  it('answers a NodePort from outside the node, masqueraded', async () => {
    await h.apply({
      services: [service({ name: 'np', type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ port: 80, nodePort: 30080 }] })],
      slices: [slice({ service: 'np', ports: [{ port: 8080 }], endpoints: lab.backends.map((b) => ({ ip: b.ip, node: 'node-b' })) })],
    });
    const r = await lab.ask(lab.ext, lab.nodeIP, 30080, 'tcp', 30);
    expect(r.errors).toEqual([]);
    expect(names(r.answers)).toEqual(new Set(['b1', 'b2', 'b3']));
    // Masqueraded on the way to an endpoint on another node: the client's address is not seen.
    expect(r.answers.some((a) => a.endsWith(lab.ext.ip))).toBe(false);
  });

  it('answers an external IP from outside the node', async () => {
    await lab.lab.ip(lab.ext.ns, 'route', 'add', '192.0.2.20/32', 'via', lab.nodeIP);
    await h.apply({
      services: [service({ name: 'ext-ip', clusterIP: '10.96.0.21', ports: [{ port: 80 }], externalIPs: ['192.0.2.20'] })],
      slices: [slice({ service: 'ext-ip', ports: [{ port: 8080 }], endpoints: [{ ip: lab.backends[1]!.ip, node: 'node-b' }] })],
    });
    const r = await lab.ask(lab.ext, '192.0.2.20', 80, 'tcp', 3);
    expect(r.errors).toEqual([]);
    expect(names(r.answers)).toEqual(new Set(['b2']));
  });

  it('with externalTrafficPolicy Local, answers only from this node, keeps the client address, and its health check says so', async () => {
    await h.apply({
      services: [
        service({
          name: 'etp-local',
          type: 'LoadBalancer',
          clusterIP: '10.96.0.30',
          ports: [{ port: 80, nodePort: 30081 }],
          externalTrafficPolicy: 'Local',
          healthCheckNodePort: 32001,
        }),
        service({
          name: 'etp-remote',
          type: 'LoadBalancer',
          clusterIP: '10.96.0.31',
          ports: [{ port: 80, nodePort: 30082 }],
          externalTrafficPolicy: 'Local',
          healthCheckNodePort: 32002,
        }),
      ],
      slices: [
        slice({
          service: 'etp-local',
          ports: [{ port: 8080 }],
          endpoints: [{ ip: lab.local.ip, node: testNodeName }, ...lab.backends.map((b) => ({ ip: b.ip, node: 'node-b' }))],
        }),
        slice({ service: 'etp-remote', ports: [{ port: 8080 }], endpoints: lab.backends.map((b) => ({ ip: b.ip, node: 'node-b' })) }),
      ],
    });
    const r = await lab.ask(lab.ext, lab.nodeIP, 30081, 'tcp', 20);
    expect(r.errors).toEqual([]);
    expect(new Set(r.answers)).toEqual(new Set([`local ${lab.ext.ip}`]));
    // ClusterIP traffic still goes everywhere.
    expect(names((await lab.ask(lab.client, '10.96.0.30', 80, 'tcp', 40)).answers)).toEqual(new Set(['local', 'b1', 'b2', 'b3']));
    // No local endpoint: the node drops external traffic (a timeout, not a refusal).
    expect(await lab.ask(lab.ext, lab.nodeIP, 30082, 'tcp', 1, { timeoutMs: 700 })).toEqual({ answers: [], errors: ['ETIMEDOUT'] });
    const health = async (port: number) => {
      const out = await lab.lab
        .exec(lab.ext.ns, 'busybox', 'wget', '-q', '-S', '-O', '-', `http://${lab.nodeIP}:${port}/`)
        .catch((err: unknown) => String(err));
      return out;
    };
    expect(await health(32001)).toContain('"localEndpoints": 1');
    expect(await health(32002)).toContain('503');
  });

  it('moves a UDP client to the new endpoint when the old one goes (conntrack reconciled), and to none', async () => {
    const [b1, b2] = lab.backends;
    await h.apply({
      services: [service({ name: 'dns', clusterIP: '10.96.0.53', ports: [{ port: 53, protocol: 'UDP', targetPort: 5353 }] })],
      slices: [slice({ service: 'dns', ports: [{ port: 5353, protocol: 'UDP' }], endpoints: [{ ip: b1!.ip, node: 'node-b' }] })],
    });
    const ask = () => lab.ask(lab.client, '10.96.0.53', 53, 'udp', 2, { sourcePort: 40053, timeoutMs: 700 });
    expect(names((await ask()).answers)).toEqual(new Set(['b1']));
    await h.apply({ slices: [slice({ service: 'dns', ports: [{ port: 5353, protocol: 'UDP' }], endpoints: [{ ip: b2!.ip, node: 'node-b' }] })] });
    expect(names((await ask()).answers)).toEqual(new Set(['b2']));
    // Now no endpoint at all: the flow pinned to b2 goes too (upstream v1.36 keeps it).
    await ask();
    const flows = () => lab.exec.output('conntrack', ['-L', '-p', 'udp', '--orig-dst', '10.96.0.53']).catch(() => '');
    expect(await flows()).toContain(`src=${b2!.ip}`);
    await h.apply({ slices: [slice({ service: 'dns', ports: [{ port: 5353, protocol: 'UDP' }], endpoints: [] })] });
    expect(await flows()).not.toContain(`src=${b2!.ip}`);
    expect((await ask()).answers).toEqual([]);
  });

  it('refuses connections to a Service without endpoints at once', async () => {
    await h.apply({ services: [service({ name: 'empty', clusterIP: '10.96.0.12', ports: [{ port: 80 }] })] });
    const started = Date.now();
    expect(await lab.ask(lab.client, '10.96.0.12', 80, 'tcp', 1, { timeoutMs: 3000 })).toEqual({ answers: [], errors: ['ECONNREFUSED'] });
    expect(Date.now() - started).toBeLessThan(2500);
    // nftables (as upstream's) also refuses a port the Service does not have, and drops
    // traffic to an unallocated ClusterIP; iptables has no such rules (as upstream's).
    const wrongPort = (await lab.ask(lab.client, '10.96.0.10', 81, 'tcp', 1, { timeoutMs: 700 })).errors;
    expect(wrongPort).toEqual([mode === 'nftables' ? 'ECONNREFUSED' : 'ETIMEDOUT']);
    expect((await lab.ask(lab.client, '10.96.9.9', 80, 'tcp', 1, { timeoutMs: 700 })).errors).toEqual(['ETIMEDOUT']);
  });

  it('lets a pod reach itself through its own Service (hairpin)', async () => {
    await h.apply({
      services: [service({ name: 'self', clusterIP: '10.96.0.60', ports: [{ port: 80 }] })],
      slices: [slice({ service: 'self', ports: [{ port: 8080 }], endpoints: [{ ip: lab.local.ip, node: testNodeName }] })],
    });
    const r = await lab.ask(lab.local, '10.96.0.60', 80, 'tcp', 3);
    expect(r.errors).toEqual([]);
    // Masqueraded to the node, or the reply would bypass the DNAT and be dropped.
    expect(new Set(r.answers)).toEqual(new Set(['local 169.254.1.1']));
  });

  it('applies loadBalancerSourceRanges to the load balancer VIP', async () => {
    await lab.lab.ip(lab.ext.ns, 'route', 'add', '203.0.113.0/24', 'via', lab.nodeIP);
    const lb = (ranges: string[]) =>
      service({
        name: 'fw',
        type: 'LoadBalancer',
        clusterIP: '10.96.0.70',
        ports: [{ port: 80, nodePort: 30070 }],
        loadBalancerIPs: ['203.0.113.70'],
        loadBalancerSourceRanges: ranges,
      });
    await h.apply({
      services: [lb(['192.168.0.0/24'])],
      slices: [slice({ service: 'fw', ports: [{ port: 8080 }], endpoints: [{ ip: lab.backends[2]!.ip, node: 'node-b' }] })],
    });
    expect(names((await lab.ask(lab.ext, '203.0.113.70', 80, 'tcp', 2)).answers)).toEqual(new Set(['b3']));
    await h.apply({ services: [lb(['198.51.100.0/24'])] });
    expect((await lab.ask(lab.ext, '203.0.113.70', 80, 'tcp', 1, { timeoutMs: 700 })).errors).toEqual(['ETIMEDOUT']);
  });

  it('serves IPv6 ClusterIPs in the ip6 family', async () => {
    await h.apply({
      services: [service({ name: 'v6', clusterIP: 'fd00:10:96::10', ports: [{ port: 80, targetPort: 8080 }] })],
      slices: [slice({ service: 'v6', addressType: 'IPv6', ports: [{ port: 8080 }], endpoints: lab.backends.map((b) => ({ ip: b.ip6, node: 'node-b' })) })],
    });
    const r = await lab.ask(lab.client, 'fd00:10:96::10', 80, 'tcp', 40);
    expect(r.errors).toEqual([]);
    expect(names(r.answers)).toEqual(new Set(['b1', 'b2', 'b3']));
  });

  it('with internalTrafficPolicy Local, sends ClusterIP traffic only to endpoints on this node, and drops it when there are none', async () => {
    const everywhere = [{ ip: lab.local.ip, node: testNodeName }, ...lab.backends.map((b) => ({ ip: b.ip, node: 'node-b' }))];
    await h.apply({
      services: [
        service({ name: 'itp-local', clusterIP: '10.96.0.80', ports: [{ port: 80, targetPort: 8080 }], internalTrafficPolicy: 'Local' }),
        service({ name: 'itp-remote', clusterIP: '10.96.0.81', ports: [{ port: 80, targetPort: 8080 }], internalTrafficPolicy: 'Local' }),
      ],
      slices: [
        slice({ service: 'itp-local', ports: [{ port: 8080 }], endpoints: everywhere }),
        slice({ service: 'itp-remote', ports: [{ port: 8080 }], endpoints: everywhere.slice(1) }),
      ],
    });
    const r = await lab.ask(lab.client, '10.96.0.80', 80, 'tcp', 20);
    expect(r.errors).toEqual([]);
    expect(names(r.answers)).toEqual(new Set(['local']));
    // Endpoints elsewhere only: dropped by a rule of its own (upstream's comment), not refused.
    expect(await lab.ask(lab.client, '10.96.0.81', 80, 'tcp', 1, { timeoutMs: 700 })).toEqual({ answers: [], errors: ['ETIMEDOUT'] });
    expect(await ruleset(lab)).toMatch(
      mode === 'nftables' ? /10\.96\.0\.81 \. tcp \. 80 comment "default\/itp-remote" : drop/ : /default\/itp-remote has no local endpoints.* -j DROP/,
    );
  });

  it('uses serving terminating endpoints only while no ready endpoint remains', async () => {
    const [b1, b2, b3] = lab.backends;
    const endpoints = (withReady: boolean) =>
      slice({
        service: 'drain',
        ports: [{ port: 8080 }],
        endpoints: [
          { ip: b1!.ip, node: 'node-b', ready: false, serving: true, terminating: true },
          { ip: b2!.ip, node: 'node-b', ready: false, serving: false, terminating: true },
          ...(withReady ? [{ ip: b3!.ip, node: 'node-b' }] : []),
        ],
      });
    await h.apply({ services: [service({ name: 'drain', clusterIP: '10.96.0.90', ports: [{ port: 80, targetPort: 8080 }] })], slices: [endpoints(true)] });
    const ready = await lab.ask(lab.client, '10.96.0.90', 80, 'tcp', 20);
    expect(ready.errors).toEqual([]);
    expect(names(ready.answers)).toEqual(new Set(['b3']));
    await h.apply({ slices: [endpoints(false)] });
    const draining = await lab.ask(lab.client, '10.96.0.90', 80, 'tcp', 20);
    expect(draining.errors).toEqual([]);
    expect(names(draining.answers)).toEqual(new Set(['b1']));
  });

  it('answers a NodePort on 127.0.0.1 from the node itself in iptables mode (route_localnet), not in nftables mode, as upstream', async () => {
    await h.apply({
      services: [service({ name: 'np-lo', type: 'NodePort', clusterIP: '10.96.0.22', ports: [{ port: 80, targetPort: 8080, nodePort: 30090 }] })],
      slices: [slice({ service: 'np-lo', ports: [{ port: 8080 }], endpoints: [{ ip: lab.backends[0]!.ip, node: 'node-b' }] })],
    });
    const nodeItself = { ns: lab.node, ip: lab.nodeIP, ip6: '', name: 'node' };
    // The node's own address works in both modes: the positive sign that the NodePort is programmed.
    expect(names((await lab.ask(nodeItself, lab.nodeIP, 30090, 'tcp', 2)).answers)).toEqual(new Set(['b1']));
    const loopback = await lab.ask(nodeItself, '127.0.0.1', 30090, 'tcp', 2, { timeoutMs: 1000 });
    if (mode === 'iptables') {
      expect(loopback.errors).toEqual([]);
      expect(names(loopback.answers)).toEqual(new Set(['b1']));
      expect(await lab.exec.output('sysctl', ['-n', 'net.ipv4.conf.all.route_localnet'])).toBe('1\n');
    } else {
      expect(loopback).toEqual({ answers: [], errors: ['ECONNREFUSED', 'ECONNREFUSED'] });
    }
  });

  it('keeps a pod client address to the endpoint, and masquerades it with masqueradeAll', async () => {
    await h.apply({
      services: [service({ name: 'masq', clusterIP: '10.96.0.24', ports: [{ port: 80, targetPort: 8080 }] })],
      slices: [slice({ service: 'masq', ports: [{ port: 8080 }], endpoints: [{ ip: lab.backends[2]!.ip, node: 'node-b' }] })],
    });
    expect(await lab.ask(lab.client, '10.96.0.24', 80, 'tcp', 2)).toEqual({ answers: [`b3 ${lab.client.ip}`, `b3 ${lab.client.ip}`], errors: [] });
    h.setConfig({ masqueradeAll: true });
    expect(await h.apply({})).toBe(true);
    const r = await lab.ask(lab.client, '10.96.0.24', 80, 'tcp', 2);
    expect(r.errors).toEqual([]);
    expect(names(r.answers)).toEqual(new Set(['b3']));
    expect(r.answers.some((a) => a.endsWith(lab.client.ip))).toBe(false);
    h.setConfig({ masqueradeAll: false });
    expect(await h.apply({})).toBe(true);
  });

  it('answers NodePorts only on nodePortAddresses when they are set', async () => {
    // A second address on the node's outside link, in the same subnet as the outside client.
    const link = (await lab.exec.output('ip', ['-o', '-4', 'addr', 'show', 'to', lab.nodeIP])).split(/\s+/)[1]!;
    await lab.exec.output('ip', ['addr', 'add', '192.168.0.11/24', 'dev', link]);
    await h.apply({
      services: [service({ name: 'np-addr', type: 'NodePort', clusterIP: '10.96.0.23', ports: [{ port: 80, targetPort: 8080, nodePort: 30091 }] })],
      slices: [slice({ service: 'np-addr', ports: [{ port: 8080 }], endpoints: [{ ip: lab.backends[1]!.ip, node: 'node-b' }] })],
    });
    // Every local address first (the default), then only the node IP.
    expect(names((await lab.ask(lab.ext, '192.168.0.11', 30091, 'tcp', 2)).answers)).toEqual(new Set(['b2']));
    h.setConfig({ nodePortAddresses: { matchAll: false, ips: [lab.nodeIP] } }, 'IPv4');
    expect(await h.apply({})).toBe(true);
    expect(names((await lab.ask(lab.ext, lab.nodeIP, 30091, 'tcp', 2)).answers)).toEqual(new Set(['b2']));
    expect((await lab.ask(lab.ext, '192.168.0.11', 30091, 'tcp', 1, { timeoutMs: 1000 })).answers).toEqual([]);
    h.setConfig({ nodePortAddresses: { matchAll: true } }, 'IPv4');
    expect(await h.apply({})).toBe(true);
    await lab.exec.output('ip', ['addr', 'del', '192.168.0.11/24', 'dev', link]);
  });

  it('--cleanup removes what it created and leaves the rest as it was', async () => {
    expect(await ruleset(lab)).not.toBe(rulesetBefore);
    const { failed } = await cleanupAll(lab.exec);
    expect(failed).toEqual([]);
    expect(await ruleset(lab)).toBe(rulesetBefore);
  });
});
