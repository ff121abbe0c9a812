import { describe, expect, it } from 'vitest';
import type { EndpointSlice, Service } from '../../src/proxy/model/api-objects.js';
import { FakeNftables } from '../../src/proxy/nftables/fake-nftables.js';
import type { Nftables } from '../../src/proxy/nftables/nftables.js';
import { NftablesProxier } from '../../src/proxy/nftables/nftables-proxier.js';
import { computeDigest } from '../../src/proxy/nftables/table-state.js';
import { digestText } from '../../src/proxy/nftables/unit-digest.js';
import { goldenCluster } from '../support/proxy-fixtures.js';
import { proxyHarness } from '../support/proxy-harness.js';
import { service, slice } from '../support/proxy-objects.js';

/** The dump without chains that are empty and waiting for deletion (a fresh table never has them). */
function live(nft: FakeNftables): string {
  const t = nft.table('ip')!;
  const empty = new Set(
    [...t.chains].filter(([name, c]) => c.rules.length === 0 && (name.includes('/') || name.startsWith('clusterip-dnat-'))).map(([n]) => n),
  );
  return nft
    .dump('ip')
    .split('\n')
    .filter((l) => !empty.has(l.replace(/^add chain ip kube-proxy /, '')))
    .join('\n');
}

function freshDump(services: Service[], slices: EndpointSlice[]): Promise<string> {
  const nft = new FakeNftables();
  const h = proxyHarness([{ family: 'IPv4', backend: new NftablesProxier({ nft, family: 'IPv4' }) }]);
  return h.apply({ services, slices }).then((ok) => {
    expect(ok).toBe(true);
    return live(nft);
  });
}

function setup() {
  let now = 1_000_000;
  const nft = new FakeNftables();
  const backend = new NftablesProxier({ nft, family: 'IPv4' });
  const h = proxyHarness([{ family: 'IPv4', backend }], { clock: () => now });
  return { nft, backend, h, tick: (ms: number) => (now += ms) };
}

describe('nftables partial syncs', () => {
  it('write only what changed, and end where a full sync from scratch would', async () => {
    const { nft, backend, h, tick } = setup();
    const cluster = goldenCluster();
    const services = new Map(cluster.services.map((s) => [s.metadata!.name!, s]));
    const slices = new Map(cluster.slices.map((s) => [s.metadata!.name!, s]));
    expect(await h.apply(cluster)).toBe(true);
    const steps: [string, () => void][] = [
      [
        'an endpoint leaves web',
        () =>
          slices.set('web-abcde', slice({ service: 'web', ports: [{ name: 'http', port: 8080 }], endpoints: [{ ip: '10.244.1.1' }, { ip: '10.244.2.3' }] })),
      ],
      [
        'web gets five endpoints',
        () =>
          slices.set(
            'web-abcde',
            slice({ service: 'web', ports: [{ name: 'http', port: 8080 }], endpoints: [1, 2, 3, 4, 5].map((i) => ({ ip: `10.244.3.${i}` })) }),
          ),
      ],
      ['one loses its only endpoint', () => slices.delete('one-abcde')],
      ['sticky becomes plain', () => services.set('sticky', service({ name: 'sticky', clusterIP: '10.96.0.40', ports: [{ port: 80 }] }))],
      [
        'np changes its node port',
        () => services.set('np', service({ name: 'np', type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ port: 80, nodePort: 30081 }] })),
      ],
      ['lb-local is deleted', () => services.delete('lb-local')],
      [
        'a new service shares np external IP',
        () => services.set('np2', service({ name: 'np2', clusterIP: '10.96.0.21', ports: [{ port: 80 }], externalIPs: ['192.0.2.20'] })),
      ],
      ['np2 gets an endpoint', () => slices.set('np2-abcde', slice({ service: 'np2', ports: [{ port: 80 }], endpoints: [{ ip: '10.244.1.99' }] }))],
    ];
    let previous = { services: [...services.values()], slices: [...slices.values()] };
    for (const [what, change] of steps) {
      change();
      const next = { services: [...services.values()], slices: [...slices.values()] };
      const removeServices = previous.services.filter((s) => !next.services.includes(s) && !services.has(s.metadata!.name!));
      const removeSlices = previous.slices.filter((s) => !slices.has(s.metadata!.name!));
      const before = nft.transactions.length;
      tick(10);
      expect(await h.apply({ services: next.services, slices: next.slices, removeServices, removeSlices }), what).toBe(true);
      const written = nft.transactions.slice(before);
      expect(written.length, what).toBeGreaterThan(0);
      // Partial: no flush of a set or map, and only a few operations.
      for (const tx of written) {
        expect(tx.toString(), what).not.toMatch(/^flush (set|map)/m);
        expect(tx.size, what).toBeLessThan(40);
      }
      expect(live(nft), what).toBe(await freshDump(next.services, next.slices));
      expect(digestText(backend.state.digest), what).toBe(digestText(computeDigest(backend.state)));
      previous = next;
    }
  });

  it('deletes a chain a second after it went stale, not before', async () => {
    const { nft, h, tick } = setup();
    const sticky = service({ name: 'sticky', clusterIP: '10.96.0.40', ports: [{ port: 80 }], sessionAffinitySeconds: 60 });
    const eps = slice({ service: 'sticky', ports: [{ port: 80 }], endpoints: [{ ip: '10.244.1.40' }] });
    await h.apply({ services: [sticky], slices: [eps] });
    const chain = [...nft.table('ip')!.chains.keys()].find((c) => c.startsWith('service-') && c.includes('/'))!;
    await h.apply({ removeServices: [sticky] });
    expect(nft.table('ip')!.chains.get(chain)?.rules).toEqual([]);
    tick(500);
    await h.apply({ services: [service({ name: 'other', clusterIP: '10.96.0.41', ports: [{ port: 80 }] })] });
    expect(nft.table('ip')!.chains.has(chain)).toBe(true);
    tick(600);
    await h.apply({ services: [service({ name: 'third', clusterIP: '10.96.0.42', ports: [{ port: 80 }] })] });
    expect(nft.table('ip')!.chains.has(chain)).toBe(false);
  });

  it('keeps the previous rules when a transaction fails, and retries with a full sync', async () => {
    const { nft, h } = setup();
    await h.apply(goldenCluster());
    const before = nft.dump('ip');
    nft.failNext = 'Error: Could not process rule: No buffer space available';
    expect(await h.apply({ slices: [slice({ service: 'one', ports: [{ port: 8080 }], endpoints: [{ ip: '10.244.9.9' }] })] })).toBe(false);
    expect(nft.dump('ip')).toBe(before);
    expect(h.metrics.syncFullDuration).toBeDefined();
    expect(await h.apply({})).toBe(true);
    const last = nft.transactions.at(-1)!.toString();
    expect(last).toMatch(/^flush map ip kube-proxy service-ips$/m);
    expect(last).toContain('10.96.0.11 . 8080 . 0 : 10.244.9.9 . 8080');
  });

  it('skips a Service it cannot read with one problem line, and serves the others', async () => {
    const { nft, h } = setup();
    const bad = service({ name: 'bad', clusterIP: '10.96.0.90', ports: [{ port: 80 }], externalIPs: ['not-an-ip'] });
    const good = service({ name: 'good', clusterIP: '10.96.0.91', ports: [{ port: 80 }] });
    expect(await h.apply({ services: [bad, good], slices: [slice({ service: 'good', ports: [{ port: 80 }], endpoints: [{ ip: '10.244.1.91' }] })] })).toBe(
      true,
    );
    const dump = nft.dump('ip');
    expect(dump).toContain('10.96.0.91 . 80 . 0 : 10.244.1.91 . 80');
    expect(dump).not.toContain('10.96.0.90');
  });
});

describe('nftables restart', () => {
  it('adopts a table that holds what it would write, writing nothing', async () => {
    const nft = new FakeNftables();
    const first = proxyHarness([{ family: 'IPv4', backend: new NftablesProxier({ nft, family: 'IPv4' }) }]);
    await first.apply(goldenCluster());
    const written = nft.transactions.length;
    const again = proxyHarness([{ family: 'IPv4', backend: new NftablesProxier({ nft, family: 'IPv4' }) }]);
    expect(await again.apply(goldenCluster())).toBe(true);
    expect(nft.transactions.length).toBe(written);
    // And goes on with partial syncs from there.
    expect(await again.apply({ slices: [slice({ service: 'one', ports: [{ port: 8080 }], endpoints: [{ ip: '10.244.9.9' }] })] })).toBe(true);
    expect(nft.transactions.at(-1)!.size).toBeLessThan(10);
  });

  it('reads the table once, when its support is checked at start, not inside the first sync', async () => {
    const nft = new FakeNftables();
    await proxyHarness([{ family: 'IPv4', backend: new NftablesProxier({ nft, family: 'IPv4' }) }]).apply(goldenCluster());
    const written = nft.transactions.length;
    const reads: string[] = [];
    const counted: Nftables = {
      run: (tx) => nft.run(tx),
      check: (tx) => nft.check(tx),
      deleteTable: (family) => nft.deleteTable(family),
      inventory: (family) => {
        reads.push(family);
        return nft.inventory(family);
      },
    };
    const backend = new NftablesProxier({ nft: counted, family: 'IPv4' });
    await backend.checkSupport();
    expect(reads).toEqual(['ip']);
    const again = proxyHarness([{ family: 'IPv4', backend }]);
    expect(await again.apply(goldenCluster())).toBe(true);
    // Adopted from that one read: nothing listed again, nothing written.
    expect(reads).toEqual(['ip']);
    expect(nft.transactions.length).toBe(written);
  });

  it('rewrites a table that differs, flushing what the previous run left', async () => {
    const nft = new FakeNftables();
    const first = proxyHarness([{ family: 'IPv4', backend: new NftablesProxier({ nft, family: 'IPv4' }) }]);
    await first.apply(goldenCluster());
    const cluster = goldenCluster();
    const services = cluster.services.filter((s) => s.metadata?.name !== 'sticky');
    const again = proxyHarness([{ family: 'IPv4', backend: new NftablesProxier({ nft, family: 'IPv4' }) }]);
    expect(await again.apply({ services, slices: cluster.slices })).toBe(true);
    expect(nft.transactions.at(-1)!.toString()).toMatch(/^flush map ip kube-proxy service-ips$/m);
    expect(live(nft)).toBe(await freshDump(services, cluster.slices));
  });
});
