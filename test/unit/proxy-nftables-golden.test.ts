import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeNftables } from '../../src/proxy/nftables/fake-nftables.js';
import { NftablesProxier } from '../../src/proxy/nftables/nftables-proxier.js';
import { goldenCluster } from '../support/proxy-fixtures.js';
import { proxyHarness } from '../support/proxy-harness.js';

const fixtures = resolve(import.meta.dirname, '../fixtures/proxy');

async function golden(name: string, actual: string): Promise<void> {
  const file = resolve(fixtures, name);
  if (process.env['UPDATE_GOLDEN']) await writeFile(file, actual);
  expect(actual).toBe(await readFile(file, 'utf8'));
}

describe('nftables rules for the golden cluster', () => {
  it('matches the golden ruleset for both families', async () => {
    const nft = new FakeNftables();
    const h = proxyHarness([
      { family: 'IPv4', backend: new NftablesProxier({ nft, family: 'IPv4' }) },
      { family: 'IPv6', backend: new NftablesProxier({ nft, family: 'IPv6' }) },
    ]);
    expect(await h.apply(goldenCluster())).toBe(true);
    await golden('nftables-ipv4.nft', nft.dump('ip'));
    await golden('nftables-ipv6.nft', nft.dump('ip6'));
  });
});
