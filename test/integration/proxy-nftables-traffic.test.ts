import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NftablesProxier } from '../../src/proxy/nftables/nftables-proxier.js';
import { nftCommand } from '../../src/proxy/nftables/nftables.js';
import { type Harness, proxyHarness } from '../support/proxy-harness.js';
import { type ProxyLab, proxyLab } from '../support/proxy-lab.js';
import { service, slice } from '../support/proxy-objects.js';

let lab: ProxyLab;
let h: Harness;

beforeAll(async () => {
  lab = await proxyLab('nft');
  h = proxyHarness([{ family: 'IPv4', backend: new NftablesProxier({ nft: nftCommand(lab.exec), family: 'IPv4' }) }], {
    config: { nodeIPs: [lab.nodeIP] },
  });
}, 60_000);

afterAll(async () => {
  await lab?.cleanup();
});

describe('nftables proxy, real traffic', () => {
  it('spreads ClusterIP connections over every endpoint', async () => {
    expect(
      await h.apply({
        services: [service({ name: 'web', clusterIP: '10.96.0.10', ports: [{ port: 80, targetPort: 8080 }] })],
        slices: [slice({ service: 'web', ports: [{ port: 8080 }], endpoints: lab.backends.map((b) => ({ ip: b.ip, node: 'node-b' })) })],
      }),
    ).toBe(true);
    const r = await lab.ask(lab.client, '10.96.0.10', 80, 'tcp', 60);
    expect(r.errors).toEqual([]);
    expect(new Set(r.answers.map((a) => a.split(' ')[0]))).toEqual(new Set(['b1', 'b2', 'b3']));
  });
});
