import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EndpointSlice, Service } from '../../src/proxy/model/api-objects.js';
import { FakeIptables } from '../../src/proxy/iptables/fake-iptables.js';
import { IptablesProxier } from '../../src/proxy/iptables/iptables-proxier.js';
import { iptEndpointChainName, iptPortChainNames } from '../../src/proxy/iptables/names.js';
import { RestoreScript } from '../../src/proxy/iptables/restore-script.js';
import { mergeEndpointSlices } from '../../src/proxy/model/endpoints.js';
import { readService } from '../../src/proxy/model/service-port.js';
import { goldenCluster } from '../support/proxy-fixtures.js';
import { proxyHarness } from '../support/proxy-harness.js';
import { service, slice } from '../support/proxy-objects.js';

const fixtures = resolve(import.meta.dirname, '../fixtures/proxy');

async function golden(name: string, actual: string): Promise<void> {
  const file = resolve(fixtures, name);
  if (process.env['UPDATE_GOLDEN']) await writeFile(file, actual);
  expect(actual).toBe(await readFile(file, 'utf8'));
}

const dumpAll = async (ipt: FakeIptables) => `${await ipt.dump('IPv4', 'filter')}${await ipt.dump('IPv4', 'nat')}`;

async function fresh(services: Service[], slices: EndpointSlice[]): Promise<string> {
  const ipt = new FakeIptables();
  const h = proxyHarness([{ family: 'IPv4', backend: new IptablesProxier({ iptables: ipt, family: 'IPv4' }) }]);
  expect(await h.apply({ services, slices })).toBe(true);
  return dumpAll(ipt);
}

describe('iptables rules', () => {
  it("name chains with upstream's hashes", () => {
    const r = readService(service({ namespace: 'ns1', name: 'svc1', clusterIP: '10.20.30.41', ports: [{ name: 'p80', port: 80 }] }), 'IPv4');
    if (r.kind !== 'ports') throw new Error('not read');
    const p = r.ports[0]!;
    // As in upstream's proxier_test.go.
    expect(iptPortChainNames(p).cluster).toBe('KUBE-SVC-XPGD46QRK7WJZT7O');
    const ep = mergeEndpointSlices(
      [slice({ namespace: 'ns1', service: 'svc1', ports: [{ name: 'p80', port: 80 }], endpoints: [{ ip: '10.180.0.1' }] })],
      '',
    ).get('p80/TCP')![0]!;
    expect(iptEndpointChainName(p, ep)).toBe('KUBE-SEP-SXIVWICOYRO3J4NJ');
  });

  it('match the golden rules for the golden cluster', async () => {
    const ipt = new FakeIptables();
    const h = proxyHarness([
      { family: 'IPv4', backend: new IptablesProxier({ iptables: ipt, family: 'IPv4' }) },
      { family: 'IPv6', backend: new IptablesProxier({ iptables: ipt, family: 'IPv6' }) },
    ]);
    expect(await h.apply(goldenCluster())).toBe(true);
    await golden('iptables-ipv4.txt', await dumpAll(ipt));
    await golden('iptables-ipv6.txt', `${await ipt.dump('IPv6', 'filter')}${await ipt.dump('IPv6', 'nat')}`);
  });

  it('write only the changed ports on a partial sync, and end where a full sync would', async () => {
    const ipt = new FakeIptables();
    const h = proxyHarness([{ family: 'IPv4', backend: new IptablesProxier({ iptables: ipt, family: 'IPv4' }) }]);
    const cluster = goldenCluster();
    const services = new Map(cluster.services.map((s) => [s.metadata!.name!, s]));
    const slices = new Map(cluster.slices.map((s) => [s.metadata!.name!, s]));
    expect(await h.apply(cluster)).toBe(true);
    const steps: [string, () => void][] = [
      [
        'an endpoint leaves web',
        () => slices.set('web-abcde', slice({ service: 'web', ports: [{ name: 'http', port: 8080 }], endpoints: [{ ip: '10.244.1.1' }] })),
      ],
      ['one loses its endpoints', () => slices.delete('one-abcde')],
      [
        'np changes its node port',
        () => services.set('np', service({ name: 'np', type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ port: 80, nodePort: 30081 }] })),
      ],
      ['sticky is deleted', () => services.delete('sticky')],
      ['a new service', () => services.set('new', service({ name: 'new', clusterIP: '10.96.0.99', ports: [{ port: 80 }] }))],
      ['and its endpoints', () => slices.set('new-abcde', slice({ service: 'new', ports: [{ port: 80 }], endpoints: [{ ip: '10.244.5.5' }] }))],
    ];
    let previous = { services: [...services.values()], slices: [...slices.values()] };
    for (const [what, change] of steps) {
      change();
      const next = { services: [...services.values()], slices: [...slices.values()] };
      const before = ipt.scripts.length;
      expect(
        await h.apply({
          ...next,
          removeServices: previous.services.filter((s) => !services.has(s.metadata!.name!)),
          removeSlices: previous.slices.filter((s) => !slices.has(s.metadata!.name!)),
        }),
        what,
      ).toBe(true);
      const written = ipt.scripts.slice(before).join('');
      expect(written.split('\n').length, what).toBeLessThan(40);
      expect(written, what).not.toContain(':KUBE-SERVICES');
      // The same rules, though maybe in another order in the shared chains.
      const sorted = (t: string) => t.split('\n').sort().join('\n');
      expect(sorted(await dumpAll(ipt)), what).toBe(sorted(await fresh(next.services, next.slices)));
      previous = next;
    }
  });

  it('keeps the previous rules when the restore fails, and retries with a full sync', async () => {
    const ipt = new FakeIptables();
    const h = proxyHarness([{ family: 'IPv4', backend: new IptablesProxier({ iptables: ipt, family: 'IPv4' }) }]);
    await h.apply(goldenCluster());
    const before = await dumpAll(ipt);
    ipt.failNext = 'iptables-restore: line 3 failed';
    expect(await h.apply({ slices: [slice({ service: 'one', ports: [{ port: 8080 }], endpoints: [{ ip: '10.244.9.9' }] })] })).toBe(false);
    expect(await dumpAll(ipt)).toBe(before);
    expect(await h.apply({})).toBe(true);
    expect(ipt.scripts.at(-1)).toContain(':KUBE-SERVICES - [0:0]');
    expect(await dumpAll(ipt)).toContain('--to-destination 10.244.9.9:8080');
  });

  it("print a big cluster's script (more lines than a call takes arguments)", () => {
    const script = new RestoreScript();
    for (let i = 0; i < 300_000; i++) script.append('nat', 'KUBE-SERVICES', `-d 10.96.${i >> 8}.${i & 255}/32 -j ACCEPT`);
    const text = script.toString();
    expect(text.startsWith('*nat\n-A KUBE-SERVICES -d 10.96.0.0/32 -j ACCEPT\n')).toBe(true);
    expect(text.endsWith('COMMIT\n')).toBe(true);
  });

  it('count the rules a script writes per table (kubeproxy_sync_proxy_rules_iptables_last)', () => {
    const script = new RestoreScript()
      .declare('nat', 'KUBE-SVC-A')
      .append('nat', 'KUBE-SVC-A', '-j KUBE-SEP-A')
      .line('nat', '-I KUBE-SERVICES 1 -d 10.96.0.1/32 -j KUBE-SVC-A')
      .line('nat', '-D KUBE-SERVICES -d 10.96.0.2/32 -j KUBE-SVC-B')
      .line('nat', '-X KUBE-SVC-B')
      .append('filter', 'KUBE-SERVICES', '-d 10.96.0.3/32 -j REJECT');
    expect([script.ruleCount('nat'), script.ruleCount('filter'), script.ruleCount('mangle')]).toEqual([2, 1, 0]);
  });
});
