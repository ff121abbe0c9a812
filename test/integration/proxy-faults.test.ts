// Faults with real netfilter in network namespaces: a restarted proxy keeps established
// connections, and a proxy killed in the middle of a sync leaves the last complete rules.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyBackend } from '../../src/proxy/backend.js';
import { cleanupAll } from '../../src/proxy/cleanup.js';
import { IptablesProxier } from '../../src/proxy/iptables/iptables-proxier.js';
import { iptablesCommand } from '../../src/proxy/iptables/iptables.js';
import { NftablesProxier } from '../../src/proxy/nftables/nftables-proxier.js';
import { nftCommand } from '../../src/proxy/nftables/nftables.js';
import { parseSyncStateComment } from '../../src/proxy/nftables/sync-plan.js';
import { waitForOutput } from '../support/netns.js';
import { type Harness, proxyHarness } from '../support/proxy-harness.js';
import { echoScript, type ProxyLab, proxyLab } from '../support/proxy-lab.js';
import { service, slice } from '../support/proxy-objects.js';

let lab: ProxyLab;

beforeAll(async () => {
  lab = await proxyLab('flt');
}, 90_000);

afterAll(async () => {
  await lab?.cleanup();
});

/** COUNT Services with three endpoints each, their ClusterIPs in 10.SECOND.0.0/16. */
function many(count: number, second: number) {
  const services = [];
  const slices = [];
  for (let i = 0; i < count; i++) {
    const name = `s${second}-${i}`;
    services.push(service({ name, clusterIP: `10.${second}.${(i >> 8) & 255}.${i & 255}`, ports: [{ port: 80 }] }));
    slices.push(slice({ service: name, ports: [{ port: 80 }], endpoints: [1, 2, 3].map((e) => ({ ip: `10.244.${100 + e}.${i & 255}` })) }));
  }
  return { services, slices };
}

/** Swaps one set of objects for another in a harness's trackers (the next sync writes it). */
function replace(h: Harness, before: ReturnType<typeof many>, after: ReturnType<typeof many>): void {
  for (const s of after.services) h.services.update(undefined, s);
  for (const s of after.slices) h.slices.update(s, false);
  for (const s of before.services) h.services.update(s, undefined);
  for (const s of before.slices) h.slices.update(s, true);
}

/** The chains and rules of an iptables-save table, without its counters. */
const rulesOf = (saved: string) =>
  saved
    .split('\n')
    .filter((l) => l.startsWith('-A ') || l.startsWith(':'))
    .map((l) => l.replace(/ \[\d+:\d+\]$/, ''));

const nftProxier = () => new NftablesProxier({ nft: nftCommand(lab.exec), family: 'IPv4' });
const makers: Record<string, () => ProxyBackend> = {
  nftables: nftProxier,
  iptables: () => new IptablesProxier({ iptables: iptablesCommand(lab.exec), family: 'IPv4', exec: lab.exec }),
};

describe('the proxy under faults', () => {
  it.each(['nftables', 'iptables'])('keeps an established connection through a restart that rewrites every rule (%s)', async (mode) => {
    const proxier = makers[mode]!;
    const web = service({ name: 'hold', clusterIP: '10.96.1.10', ports: [{ port: 80, targetPort: 8080 }] });
    const endpoints = (n: number) =>
      slice({ service: 'hold', ports: [{ port: 8080 }], endpoints: lab.backends.slice(0, n).map((b) => ({ ip: b.ip, node: 'node-b' })) });
    const first = proxyHarness([{ family: 'IPv4', backend: proxier() }], { config: { nodeIPs: [lab.nodeIP] } });
    expect(await first.apply({ services: [web], slices: [endpoints(1)] })).toBe(true);
    const client = lab.lab.spawn(lab.client.ns, process.execPath, [echoScript, 'hold', '10.96.1.10', '80']);
    let out = '';
    client.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    await waitForOutput(client, 'ready b1');
    // A new process with a different view (three endpoints now): its first sync is a full
    // rewrite of the table, in one transaction; conntrack keeps the connection on b1.
    const second = proxyHarness([{ family: 'IPv4', backend: proxier() }], { config: { nodeIPs: [lab.nodeIP] } });
    expect(await second.apply({ services: [web], slices: [endpoints(3)] })).toBe(true);
    const rewritten =
      mode === 'nftables'
        ? await lab.exec.output('nft', ['list', 'map', 'ip', 'kube-proxy', 'clusterip-endpoints-tcp'])
        : await lab.exec.output('iptables-save', ['-t', 'nat']);
    expect(rewritten).toContain(mode === 'nftables' ? '10.96.1.10 . 80 . 2 : 10.244.1.3 . 8080' : '--to-destination 10.244.1.3:8080');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const closed = new Promise<void>((resolve) => client.once('exit', () => resolve()));
    client.kill('SIGTERM');
    await closed;
    const result = JSON.parse(out.split('\n').find((l) => l.startsWith('{'))!) as { sent: number; answered: number; names: string[]; error: string | null };
    expect(result.error).toBeNull();
    expect(result.names).toEqual(['b1']);
    expect(result.sent).toBeGreaterThan(8);
    expect(result.answered).toBeGreaterThanOrEqual(result.sent - 1);
    expect((await cleanupAll(lab.exec)).failed).toEqual([]);
  });

  it('leaves the last complete ruleset when killed in the middle of a large sync', async () => {
    // Note when `nft -f` starts, to stop the writer while nft is loading.
    let nftStarted: () => void = () => {};
    const loading = new Promise<void>((resolve) => (nftStarted = resolve));
    const exec = {
      ...lab.exec,
      output: (command: string, args: readonly string[], options?: Parameters<typeof lab.exec.output>[2]) => {
        if (command === 'nft' && args.includes('-f') && (options?.input?.length ?? 0) > 1_000_000) nftStarted();
        return lab.exec.output(command, args, options);
      },
    };
    const backend = new NftablesProxier({ nft: nftCommand(exec), family: 'IPv4' });
    const h = proxyHarness([{ family: 'IPv4', backend }], { config: { nodeIPs: [lab.nodeIP] } });
    const before = many(3000, 97);
    expect(await h.apply(before)).toBe(true);
    const oldDigest = parseSyncStateComment((await lab.exec.output('nft', ['list', 'set', 'ip', 'kube-proxy', 'sync-state'])).match(/comment "([^"]+)"/)![1]!);
    // Replace everything with 20,000 other Services; stop the writer (and its nft) half way.
    const after = many(20_000, 98);
    replace(h, before, after);
    const stop = new AbortController();
    const sync = h.syncer.syncOnce(stop.signal);
    await loading;
    await new Promise((resolve) => setTimeout(resolve, 300));
    stop.abort();
    expect(await sync).toBe(false);
    // Either nothing of the new sync is in (the old table, whole) or all of it.
    const state = parseSyncStateComment((await lab.exec.output('nft', ['list', 'set', 'ip', 'kube-proxy', 'sync-state'])).match(/comment "([^"]+)"/)![1]!);
    const probe = (ip: string) =>
      lab.exec.status('nft', ['get', 'element', 'ip', 'kube-proxy', 'service-ips', `{ ${ip} . tcp . 80 }`]).then((r) => r.code === 0);
    if (state === oldDigest) {
      expect(await probe('10.97.0.1')).toBe(true);
      expect(await probe('10.97.11.183')).toBe(true);
      expect(await probe('10.98.0.1')).toBe(false);
    } else {
      expect(await probe('10.98.78.31')).toBe(true);
      expect(await probe('10.97.0.1')).toBe(false);
    }
    expect(state === oldDigest, 'the sync was stopped before nft finished (else this test proves nothing)').toBe(true);
  }, 120_000);

  it('keeps the previous iptables rules when iptables-restore refuses a full sync, counts it and syncs in full again', async () => {
    let failures = 0;
    const counters = { syncFailed: () => failures++, cleanupFailed: () => {} };
    const backend = new IptablesProxier({ iptables: iptablesCommand(lab.exec), family: 'IPv4', counters });
    const h = proxyHarness([{ family: 'IPv4', backend }], { config: { nodeIPs: [lab.nodeIP] } });
    const before = many(50, 93);
    expect(await h.apply(before)).toBe(true);
    // A chain of someone else's that jumps to one of ours: the sync that deletes ours fails.
    const ours = backend.state.ports.values().next().value!.nat.chains.keys().next().value!;
    await lab.exec.output('iptables', ['-t', 'nat', '-N', 'TEST-HOLD']);
    await lab.exec.output('iptables', ['-t', 'nat', '-A', 'TEST-HOLD', '-j', ours]);
    const saved = {
      nat: rulesOf(await lab.exec.output('iptables-save', ['-t', 'nat'])),
      filter: rulesOf(await lab.exec.output('iptables-save', ['-t', 'filter'])),
    };
    replace(h, before, many(500, 94));
    h.syncer.requestFullSync();
    expect(await h.syncer.syncOnce()).toBe(false);
    expect(failures).toBe(1);
    expect(rulesOf(await lab.exec.output('iptables-save', ['-t', 'nat']))).toEqual(saved.nat);
    expect(rulesOf(await lab.exec.output('iptables-save', ['-t', 'filter']))).toEqual(saved.filter);
    // Once the chain is free, the retry (a full sync) goes through.
    await lab.exec.output('iptables', ['-t', 'nat', '-F', 'TEST-HOLD']);
    await lab.exec.output('iptables', ['-t', 'nat', '-X', 'TEST-HOLD']);
    expect(await h.syncer.syncOnce()).toBe(true);
    const nat = await lab.exec.output('iptables-save', ['-t', 'nat']);
    expect(nat).toContain('"default/s94-499 cluster IP"');
    expect(nat).not.toContain(`:${ours} `);
    expect((await cleanupAll(lab.exec)).failed).toEqual([]);
  }, 120_000);
});
