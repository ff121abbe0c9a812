import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryIo } from '../../src/cli/io.js';
import { proxyCommand } from '../../src/cli/proxy.js';
import { isCode, TskubeError } from '../../src/common/errors.js';
import { defaultProxyConfiguration, parseProxyConfig, resolveProxyOptions } from '../../src/proxy/config/index.js';

const fixtures = resolve(import.meta.dirname, '../fixtures/proxy-config');
const head = 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n';
const host = { hostname: 'Node-1' };
const files = (map: Record<string, string>) => async (path: string) => {
  if (!(path in map)) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
  return map[path]!;
};

async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(isCode(err, 'invalid-argument')).toBe(true);
    return TskubeError.from(err).message;
  }
  throw new Error('expected an error');
}

describe('KubeProxyConfiguration', () => {
  it('reads what kubeadm writes without a warning, with upstream defaults for its zero values', async () => {
    const text = await readFile(resolve(fixtures, 'kubeadm.yaml'), 'utf8');
    const { config, warnings } = await parseProxyConfig(text, 'config.conf');
    expect(warnings).toEqual([]);
    expect(config).toEqual({
      ...defaultProxyConfiguration(),
      clientConnection: { ...defaultProxyConfiguration().clientConnection, kubeconfig: '/var/lib/kube-proxy/kubeconfig.conf' },
      clusterCIDR: '10.244.0.0/16',
    });
    expect(config).toMatchObject({
      healthzBindAddress: '0.0.0.0:10256',
      metricsBindAddress: '127.0.0.1:10249',
      nftables: { masqueradeBit: 14, syncPeriod: 30_000, minSyncPeriod: 1000 },
      conntrack: { maxPerCore: 32768, min: 131072, tcpEstablishedTimeout: 86_400_000, tcpCloseWaitTimeout: 3_600_000 },
      oomScoreAdj: -999,
      configSyncPeriod: 900_000,
    });
  });

  it('derives the server addresses from an IPv6 bind address and adds the default port to a bare IP', async () => {
    const { config } = await parseProxyConfig(`${head}bindAddress: "fd00::1"\nmetricsBindAddress: "::"\n`, 'c.yaml');
    expect(config.healthzBindAddress).toBe('[::]:10256');
    expect(config.metricsBindAddress).toBe('[::]:10249');
  });

  it('warns once per field tskube ignores or does not know, and goes on', async () => {
    const { warnings } = await parseProxyConfig(`${head}enableProfiling: true\nfancyNewField: 1\nlogging:\n  vmodule: [a=1]\n`, 'c.yaml');
    expect(warnings).toEqual([
      'KubeProxyConfiguration field "enableProfiling" is not supported by tskube; ignoring it',
      'KubeProxyConfiguration field "fancyNewField" is unknown to tskube; ignoring it',
      'KubeProxyConfiguration field "logging.vmodule" is not supported by tskube; ignoring it',
    ]);
  });

  it('names the field and the value of a bad one', async () => {
    expect(await errorOf(parseProxyConfig(`${head}mode: fast\n`, 'c.yaml'))).toBe(
      'invalid-argument: c.yaml: mode: invalid value "fast": want one of "", nftables, iptables, ipvs',
    );
    expect(await errorOf(parseProxyConfig(`${head}nftables:\n  syncPeriod: soon\n`, 'c.yaml'))).toContain('nftables.syncPeriod: invalid value "soon"');
    expect(await errorOf(parseProxyConfig(`apiVersion: v1\nkind: KubeProxyConfiguration\n`, 'c.yaml'))).toContain('apiVersion: invalid value "v1"');
    expect(await errorOf(parseProxyConfig('a: [', 'c.yaml'))).toContain('c.yaml: not valid YAML or JSON');
  });
});

describe('tskube proxy flags', () => {
  it('has upstream defaults with nftables mode, and lowercases the node name', async () => {
    const { options, warnings } = await resolveProxyOptions(['--kubeconfig=/k'], host);
    expect(warnings).toEqual([]);
    expect(options).toMatchObject({ mode: 'nftables', nodeName: 'node-1', kubeconfig: '/k', syncPeriodMs: 30_000, minSyncPeriodMs: 1000, masqueradeBit: 14 });
  });

  it('takes the usual flags', async () => {
    const { options } = await resolveProxyOptions(
      [
        '--proxy-mode',
        'iptables',
        '--cluster-cidr=10.244.0.0/16,fd00:10:244::/56',
        '--hostname-override=Other',
        '--nodeport-addresses=192.168.0.0/16',
        '--masquerade-all',
        '--healthz-bind-address=127.0.0.1',
        '--metrics-bind-address=0.0.0.0:9999',
        '--iptables-min-sync-period=0s',
        '--v=4',
      ],
      host,
    );
    expect(options).toMatchObject({
      mode: 'iptables',
      nodeName: 'other',
      masqueradeAll: true,
      minSyncPeriodMs: 0,
      verbosity: 4,
      clusterCIDRs: ['10.244.0.0/16', 'fd00:10:244::/56'],
    });
    expect(options.config).toMatchObject({ nodePortAddresses: ['192.168.0.0/16'], healthzBindAddress: '127.0.0.1:10256', metricsBindAddress: '0.0.0.0:9999' });
  });

  it('names the flag and value of a bad one', async () => {
    expect(await errorOf(resolveProxyOptions(['--proxy-mode=userspace'], host))).toBe(
      'invalid-argument: --proxy-mode: invalid value "userspace": want one of nftables, iptables, ipvs',
    );
    expect(await errorOf(resolveProxyOptions(['--nodeport-addresses=10.0.0.0/33'], host))).toBe(
      'invalid-argument: nodePortAddresses[0]: invalid value "10.0.0.0/33": must be a valid CIDR',
    );
    expect(await errorOf(resolveProxyOptions(['--cluster-cidr=10.0.0.0/8,10.1.0.0/16'], host))).toContain(
      'clusterCIDR: invalid value "10.0.0.0/8,10.1.0.0/16"',
    );
    expect(await errorOf(resolveProxyOptions(['--metrics-bind-address=localhost:1'], host))).toContain('--metrics-bind-address: invalid value "localhost:1"');
    expect(await errorOf(resolveProxyOptions(['--nope'], host))).toBe('invalid-argument: unknown flag: --nope');
  });

  it('with --config, ignores the flags that set its fields and says so once each', async () => {
    const readFile = files({ '/c.yaml': `${head}mode: iptables\nclusterCIDR: 10.244.0.0/16\n` });
    const { options, warnings } = await resolveProxyOptions(['--config=/c.yaml', '--proxy-mode=ipvs', '--hostname-override=n2', '--v=2'], host, readFile);
    expect(options).toMatchObject({ mode: 'iptables', nodeName: 'n2', verbosity: 2, clusterCIDRs: ['10.244.0.0/16'] });
    expect(warnings).toEqual(['flag --proxy-mode is ignored because --config is given (as upstream: the file is the whole configuration)']);
  });

  it('checks cross-field rules after the file is read, naming the file', async () => {
    const readFile = files({ '/c.yaml': `${head}nftables:\n  syncPeriod: 1s\n  minSyncPeriod: 2s\n` });
    expect(await errorOf(resolveProxyOptions(['--config=/c.yaml'], host, readFile))).toBe(
      'invalid-argument: /c.yaml: nftables.syncPeriod: invalid value "1s": must be greater than or equal to minSyncPeriod (2s)',
    );
  });
});

describe('the tskube proxy command', () => {
  it('prints one error line and exits 1 before touching anything', async () => {
    let ran = false;
    const cmd = proxyCommand({
      run: async () => {
        ran = true;
      },
      hostname: () => 'n',
    });
    const m = memoryIo();
    expect(await cmd(['--conntrack-min=lots'], m.io)).toBe(1);
    expect(m.stderr()).toBe('tskube proxy: invalid-argument: --conntrack-min: invalid value "lots": want a whole number\n');
    expect(ran).toBe(false);
  });

  it('runs the cleanup alone with --cleanup', async () => {
    let ran = false;
    const cmd = proxyCommand({
      run: async () => {
        ran = true;
      },
      cleanup: async () => ({ removed: ['nftables table ip kube-proxy'], failed: [] }),
      hostname: () => 'n',
    });
    const m = memoryIo();
    expect(await cmd(['--cleanup'], m.io)).toBe(0);
    expect(m.stderr()).toBe('tskube proxy: removed nftables table ip kube-proxy\n');
    expect(ran).toBe(false);
  });
});
