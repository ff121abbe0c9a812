import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Exec } from '../../src/proxy/exec/exec.js';
import { checkIpvsKernel, IpvsProxier, ipvsCommands } from '../../src/proxy/ipvs/ipvs-proxier.js';
import { ipvsIptablesRules, renderIpvs } from '../../src/proxy/ipvs/render-ipvs.js';
import { goldenCluster } from '../support/proxy-fixtures.js';
import { proxyHarness, testNodeConfig } from '../support/proxy-harness.js';
import { slice } from '../support/proxy-objects.js';

const fixtures = resolve(import.meta.dirname, '../fixtures/proxy');

async function golden(name: string, actual: string): Promise<void> {
  const file = resolve(fixtures, name);
  if (process.env['UPDATE_GOLDEN']) await writeFile(file, actual);
  expect(actual).toBe(await readFile(file, 'utf8'));
}

/** An Exec that records the commands and their input and succeeds. */
function recordingExec(): Exec & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async status(command, args, options) {
      calls.push(`$ ${command} ${args.join(' ')}\n${options?.input ?? ''}`);
      return { code: 0, stdout: '', stderr: '' };
    },
    async output(command, args, options) {
      calls.push(`$ ${command} ${args.join(' ')}\n${options?.input ?? ''}`);
      return '';
    },
  };
}

describe('the IPVS back end', () => {
  it('refuses to start, in one line, where the kernel has no ip_vs', async () => {
    await expect(checkIpvsKernel('/proc/net/no-ip_vs-here')).rejects.toThrow(
      "failed-precondition: IPVS mode needs the kernel's ip_vs module, and this kernel has none (no /proc/net/no-ip_vs-here); use --proxy-mode=nftables or --proxy-mode=iptables",
    );
    const backend = new IpvsProxier({ exec: recordingExec(), family: 'IPv4', procNetIpVs: '/proc/net/no-ip_vs-here' });
    await expect(backend.checkSupport()).rejects.toThrow(/ip_vs module/);
  });

  it('runs the golden commands for the golden cluster', async () => {
    const exec = recordingExec();
    const h = proxyHarness([{ family: 'IPv4', backend: new IpvsProxier({ exec, family: 'IPv4' }) }]);
    expect(await h.apply(goldenCluster())).toBe(true);
    await golden('ipvs-ipv4.txt', exec.calls.join(''));
  });

  it('writes only the difference on the next sync', async () => {
    const exec = recordingExec();
    const h = proxyHarness([{ family: 'IPv4', backend: new IpvsProxier({ exec, family: 'IPv4' }) }]);
    await h.apply(goldenCluster());
    exec.calls.length = 0;
    await h.apply({ slices: [slice({ service: 'one', ports: [{ port: 8080 }], endpoints: [{ ip: '10.244.9.9' }] })] });
    const restore = exec.calls.find((c) => c.startsWith('$ ipvsadm-restore'));
    expect(restore).toBe('$ ipvsadm-restore \n-d -t 10.96.0.11:8080 -r 10.244.1.9:8080\n-a -t 10.96.0.11:8080 -r 10.244.9.9:8080 -m -w 1\n');
    expect(exec.calls.filter((c) => c.startsWith('$ ip addr'))).toEqual([]);
  });

  it('marks Local-policy load balancers and masquerades cluster traffic from outside the pod CIDR', () => {
    const cluster = goldenCluster();
    const exec = recordingExec();
    return proxyHarness([{ family: 'IPv4', backend: new IpvsProxier({ exec, family: 'IPv4' }) }])
      .apply(cluster)
      .then(() => {
        const all = exec.calls.join('');
        expect(all).toContain('add KUBE-LOAD-BALANCER-LOCAL 203.0.113.30,tcp:443');
        expect(all).toContain('add KUBE-NODE-PORT-LOCAL-TCP 30443');
        expect(all).toContain(
          '-A KUBE-SERVICES -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ',
        );
        const desired = renderIpvs([], testNodeConfig());
        expect(ipvsCommands(undefined, desired, 'IPv4', ipvsIptablesRules(desired, testNodeConfig())).link).toEqual([
          ['link', 'add', 'kube-ipvs0', 'type', 'dummy'],
        ]);
      });
  });
});
