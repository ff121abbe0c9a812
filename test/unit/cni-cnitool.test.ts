import { describe, expect, it } from 'vitest';
import { classifyCacheEntries, describeOwner } from '../../src/cli/cnitool/cache-report.js';
import { buildListReport, listTable } from '../../src/cli/cnitool/list-report.js';
import { cnitoolContainerId, resolveCnitoolSettings } from '../../src/cli/cnitool/settings.js';
import { memoryIo } from '../../src/cli/io.js';
import { runCnitool } from '../../src/cli/cnitool/cnitool.js';
import type { ConfigDirScan } from '../../src/cni/config/config-dir.js';
import { parseNetworkConfig } from '../../src/cni/config/parse-network-config.js';
import type { CacheEntry } from '../../src/cni/result-cache.js';
import { TskubeError } from '../../src/common/errors.js';

describe('cnitool settings', () => {
  it('reads the environment as upstream cnitool does, -i winning over CNI_IFNAME', () => {
    const s = resolveCnitoolSettings(
      {
        CNI_PATH: '/opt/cni/bin::/usr/lib/cni',
        NETCONFPATH: '/x/net.d',
        CAP_ARGS: '{"portMappings":[{"hostPort":80}]}',
        CNI_ARGS: 'A=1;B=2',
        CNI_IFNAME: 'net1',
      },
      { ifname: 'net2' },
    );
    expect(s).toEqual({
      pluginDirs: ['/opt/cni/bin', '/usr/lib/cni'],
      pluginDirsSource: 'CNI_PATH',
      confDir: '/x/net.d',
      cacheDir: '/var/lib/cni',
      ifName: 'net2',
      capabilityArgs: { portMappings: [{ hostPort: 80 }] },
      cniArgs: [
        ['A', '1'],
        ['B', '2'],
      ],
    });
    const d = resolveCnitoolSettings({}, {});
    expect([d.pluginDirs, d.confDir, d.ifName, d.capabilityArgs, d.cniArgs]).toEqual([
      ['/opt/cni/bin', '/usr/lib/cni'],
      '/etc/cni/net.d',
      'eth0',
      undefined,
      undefined,
    ]);
  });

  it('names what is wrong with CAP_ARGS and CNI_ARGS', () => {
    expect(() => resolveCnitoolSettings({ CAP_ARGS: '[1]' }, {})).toThrow('CAP_ARGS: want a JSON object');
    expect(() => resolveCnitoolSettings({ CAP_ARGS: '{' }, {})).toThrow('CAP_ARGS: not JSON');
    expect(() => resolveCnitoolSettings({ CNI_ARGS: 'A=1;B' }, {})).toThrow('CNI_ARGS: invalid pair "B"');
  });

  it("derives upstream cnitool's container ID from the namespace path (sha512, first 10 bytes)", () => {
    // printf '/var/run/netns/testing' | sha512sum | cut -c1-20
    expect(cnitoolContainerId('/var/run/netns/testing')).toBe('cnitool-77383ca0a0715733ca6f');
  });
});

describe('cnitool cache report', () => {
  const entry = (containerId: string, networkName: string, netns = ''): CacheEntry & { file: string } => ({
    file: `/var/lib/cni/results/${networkName}-${containerId}-eth0`,
    containerId,
    ifName: 'eth0',
    networkName,
    netns,
    cniArgs: [],
    capabilityArgs: undefined,
    config: Buffer.from('{}'),
    result: { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: netns }], ips: [{ address: '10.88.0.7/24', interface: 0 }] },
  });

  it('tells live attachments from those of gone or stopped sandboxes and gone cnitool namespaces', () => {
    const sandboxes = new Map([
      ['s-ready', { id: 's-ready', ready: true, name: 'web', namespace: 'default' }],
      ['s-stopped', { id: 's-stopped', ready: false, name: 'job', namespace: 'default' }],
    ]);
    const rows = classifyCacheEntries(
      [
        entry('s-ready', 'net'),
        entry('s-stopped', 'net'),
        entry('s-gone', 'net'),
        entry('cnitool-aa', 'net', '/run/netns/a'),
        entry('cnitool-bb', 'net', '/run/netns/b'),
      ],
      sandboxes,
      (p) => p === '/run/netns/a',
    );
    expect(rows.map((r) => [r.containerId, describeOwner(r.owner), r.stale, r.addresses.join()])).toEqual([
      ['s-ready', 'Ready default/web', false, '10.88.0.7'],
      ['s-stopped', 'NotReady default/job', true, '10.88.0.7'],
      ['s-gone', 'no sandbox', true, '10.88.0.7'],
      ['cnitool-aa', 'cnitool, netns present', false, '10.88.0.7'],
      ['cnitool-bb', 'cnitool, netns gone', true, '10.88.0.7'],
    ]);
  });
});

describe('cnitool list report', () => {
  const config = (name: string, file: string) =>
    parseNetworkConfig(JSON.stringify({ cniVersion: '1.0.0', name, plugins: [{ type: 'bridge' }, { type: 'portmap' }] }), file, 'conflist');
  const scan = (files: ConfigDirScan['files']): ConfigDirScan => ({ dir: '/etc/cni/net.d', exists: true, files });

  it('marks the winner, names each problem, and says what containerd does with a broken first file', () => {
    const report = buildListReport(
      scan([
        {
          file: '/etc/cni/net.d/00-bad.conflist',
          format: 'conflist',
          error: new TskubeError('invalid-argument', '/etc/cni/net.d/00-bad.conflist: not valid JSON at line 3 column 5: x'),
        },
        { file: '/etc/cni/net.d/10-a.conflist', format: 'conflist', config: config('a', '/etc/cni/net.d/10-a.conflist') },
        { file: '/etc/cni/net.d/20-b.conflist', format: 'conflist', config: config('b', '/etc/cni/net.d/20-b.conflist') },
      ]),
      new Map([
        ['/etc/cni/net.d/10-a.conflist', { problems: ['no plugin binary "portmap" in CNI_PATH /opt/cni/bin'] }],
        ['/etc/cni/net.d/20-b.conflist', { version: '1.0.0', problems: [] }],
      ]),
      ['/opt/cni/bin'],
    );
    expect(report.rows.map((r) => [r.chosen, r.network, r.problems.length])).toEqual([
      [false, undefined, 1],
      [false, 'a', 1],
      [true, 'b', 0],
    ]);
    expect(report.verdict).toBe('tskube uses network "b" from /etc/cni/net.d/20-b.conflist: the first valid file');
    expect(report.containerd).toBe(
      'containerd reads only the first file, /etc/cni/net.d/00-bad.conflist, and fails to load it: pods with a pod network will not start',
    );
    const table = listTable(report);
    expect(table).toContain('*  20-b.conflist');
    expect(table).toContain('no plugin binary "portmap"');
  });

  it('says when nothing is usable', () => {
    const report = buildListReport({ dir: '/none', exists: false, files: [] }, new Map(), ['/opt/cni/bin']);
    expect(report.verdict).toContain('tskube finds no usable network: no CNI network config in /none (the folder does not exist)');
    expect(report.containerd).toContain('cni plugin not initialized');
  });
});

describe('tskube cnitool', () => {
  it('prints its usage and refuses unknown commands and missing arguments', async () => {
    const help = memoryIo();
    expect(await runCnitool(['help'], help.io)).toBe(0);
    expect(help.stdout()).toContain('add NETWORK NETNS');
    const unknown = memoryIo();
    expect(await runCnitool(['frobnicate'], unknown.io)).toBe(1);
    expect(unknown.stderr()).toBe('tskube cnitool: no such command "frobnicate"; run "tskube cnitool help" for the list\n');
    const missing = memoryIo();
    expect(await runCnitool(['add', 'net'], missing.io)).toBe(1);
    expect(missing.stderr()).toBe('tskube cnitool add: invalid-argument: usage: tskube cnitool add NETWORK NETNS\n');
  });
});
