import { describe, expect, it } from 'vitest';
import { parseNetworkConfig } from '../../src/cni/config/parse-network-config.js';
import { chainOrder, commandGate, delUsesPrevResult, negotiateVersion, staleAttachments } from '../../src/cni/plan.js';
import { formatCniArgs, pluginEnv, pluginStdin } from '../../src/cni/request.js';

const net = (extra: Record<string, unknown> = {}) =>
  parseNetworkConfig(
    JSON.stringify({
      cniVersion: '1.0.0',
      name: 'dbnet',
      plugins: [
        { type: 'bridge', bridge: 'cni0', ipam: { type: 'host-local' } },
        { type: 'tuning', capabilities: { mac: true }, sysctl: { 'net.core.somaxconn': '500' } },
        { type: 'portmap', capabilities: { portMappings: true, bandwidth: false } },
      ],
      ...extra,
    }),
    '/etc/cni/net.d/10-dbnet.conflist',
    'conflist',
  );

describe('the request each plugin gets', () => {
  const network = net();
  const caps = { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], mac: '00:11:22:33:44:66', bandwidth: { ingressRate: 1 } };

  it('is the plugin object with name and cniVersion set and every other field passed through', () => {
    const stdin = JSON.parse(pluginStdin({ network, plugin: network.plugins[0]!, version: '1.0.0' }));
    expect(stdin).toEqual({ type: 'bridge', bridge: 'cni0', ipam: { type: 'host-local' }, cniVersion: '1.0.0', name: 'dbnet' });
  });

  it('carries only the capability arguments the plugin declares, without "capabilities"', () => {
    const portmap = JSON.parse(pluginStdin({ network, plugin: network.plugins[2]!, version: '1.0.0', capabilityArgs: caps }));
    expect(portmap.runtimeConfig).toEqual({ portMappings: caps.portMappings });
    expect(portmap.capabilities).toBeUndefined();
    const tuning = JSON.parse(pluginStdin({ network, plugin: network.plugins[1]!, version: '1.0.0', capabilityArgs: caps }));
    expect(tuning.runtimeConfig).toEqual({ mac: '00:11:22:33:44:66' });
    const bridge = JSON.parse(pluginStdin({ network, plugin: network.plugins[0]!, version: '1.0.0', capabilityArgs: caps }));
    expect(bridge.runtimeConfig).toBeUndefined();
  });

  it('carries prevResult, and for GC the valid attachments under both keys libcni sends', () => {
    const prevResult = { cniVersion: '1.0.0', ips: [{ address: '10.1.0.5/16' }] };
    expect(JSON.parse(pluginStdin({ network, plugin: network.plugins[1]!, version: '1.0.0', prevResult })).prevResult).toEqual(prevResult);
    const gc = JSON.parse(pluginStdin({ network, plugin: network.plugins[0]!, version: '1.1.0', validAttachments: [{ containerId: 'c1', ifName: 'eth0' }] }));
    expect(gc['cni.dev/valid-attachments']).toEqual([{ containerID: 'c1', ifname: 'eth0' }]);
    expect(gc['cni.dev/attachments']).toEqual([{ containerID: 'c1', ifname: 'eth0' }]);
  });

  it("has the environment of the command, and none of the caller's own CNI_ variables", () => {
    const base = { PATH: '/usr/bin', CNI_ARGS: 'LEAK=1', CNI_IFNAME: 'leak' };
    const attachment = { containerId: 'c1', ifName: 'eth0', netns: '/run/netns/x', args: [['K8S_POD_NAME', 'web'] as const, ['IgnoreUnknown', '1'] as const] };
    expect(pluginEnv(base, 'ADD', ['/opt/cni/bin', '/usr/lib/cni'], attachment)).toEqual({
      PATH: '/usr/bin',
      CNI_COMMAND: 'ADD',
      CNI_PATH: '/opt/cni/bin:/usr/lib/cni',
      CNI_CONTAINERID: 'c1',
      CNI_NETNS: '/run/netns/x',
      CNI_IFNAME: 'eth0',
      CNI_ARGS: 'K8S_POD_NAME=web;IgnoreUnknown=1',
    });
    expect(pluginEnv(base, 'GC', ['/a'], attachment)).toEqual({ PATH: '/usr/bin', CNI_COMMAND: 'GC', CNI_PATH: '/a' });
    expect(pluginEnv(base, 'VERSION', ['/a'])).toEqual({
      PATH: '/usr/bin',
      CNI_COMMAND: 'VERSION',
      CNI_NETNS: 'dummy',
      CNI_IFNAME: 'dummy',
      CNI_PATH: 'dummy',
    });
    expect(formatCniArgs([])).toBe('');
  });
});

describe('planning a chain', () => {
  it('runs ADD, CHECK, GC and STATUS in order and DEL in reverse', () => {
    const network = net();
    expect(chainOrder('ADD', network).map((s) => s.plugin.type)).toEqual(['bridge', 'tuning', 'portmap']);
    expect(chainOrder('DEL', network).map((s) => `${s.index}:${s.plugin.type}`)).toEqual(['2:portmap', '1:tuning', '0:bridge']);
    expect(chainOrder('GC', network).map((s) => s.plugin.type)).toEqual(['bridge', 'tuning', 'portmap']);
  });

  it('knows which command a version has, and the switches that turn CHECK and GC off', () => {
    expect(commandGate('CHECK', net(), '1.0.0')).toEqual({ run: true });
    expect(commandGate('CHECK', net({ disableCheck: true }), '1.0.0')).toEqual({ run: false, reason: 'disableCheck is set' });
    expect(() => commandGate('CHECK', net(), '0.3.1')).toThrow('speaks CNI 0.3.1, which has no CHECK (it came in 0.4.0)');
    expect(commandGate('STATUS', net(), '1.0.0')).toEqual({ run: false, reason: 'CNI 1.0.0 has no STATUS command (it came in 1.1.0)' });
    expect(commandGate('STATUS', net(), '1.1.0')).toEqual({ run: true });
    expect(commandGate('GC', net({ disableGC: true }), '1.1.0')).toEqual({ run: false, reason: 'disableGC is set' });
    expect(delUsesPrevResult('0.3.1')).toBe(false);
    expect(delUsesPrevResult('0.4.0')).toBe(true);
  });

  it('negotiates the highest offered version every plugin speaks, or names the one that speaks none', () => {
    const network = net({ cniVersion: '1.1.0', cniVersions: ['0.4.0', '1.0.0'] });
    const all = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];
    const debian = all.slice(0, 6);
    const plugins = (v: string[][]) => network.plugins.map((plugin, i) => ({ plugin, supported: v[i] ?? [] }));
    expect(negotiateVersion(network, plugins([all, all, all]))).toBe('1.1.0');
    expect(negotiateVersion(network, plugins([all, debian, all]))).toBe('1.0.0');
    expect(() => negotiateVersion(network, plugins([all, ['0.2.0'], all]))).toThrow(
      'network "dbnet" (/etc/cni/net.d/10-dbnet.conflist) offers CNI 1.1.0, 1.0.0, 0.4.0, but no one of them is spoken by every plugin: "tuning" speaks 0.2.0',
    );
  });

  it('finds the stale cached attachments of one network', () => {
    const cached = [
      { containerId: 'a', ifName: 'eth0', networkName: 'dbnet' },
      { containerId: 'b', ifName: 'eth0', networkName: 'dbnet' },
      { containerId: 'b', ifName: 'net1', networkName: 'dbnet' },
      { containerId: 'c', ifName: 'eth0', networkName: 'other' },
    ];
    expect(staleAttachments(cached, 'dbnet', [{ containerId: 'b', ifName: 'eth0' }])).toEqual([cached[0], cached[2]]);
    expect(staleAttachments(cached, 'dbnet', [])).toHaveLength(3);
  });
});
