// The CNI library against the real plugin binaries, both Debian's (1.1.1, CNI up to
// 1.0.0) and v1.10 built from the Go module (CNI 1.1.0: STATUS, GC), in network
// namespaces the test creates: a test "host" where the plugins run (bridge, veths,
// iptables rules land there) and pod namespaces. No kubelet, no containerd. Each test
// has its own network name and subnet, so one failing test cannot fail the next.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cni } from '../../src/cni/cni.js';
import { CniError } from '../../src/cni/cni-error.js';
import type { NetworkConfig } from '../../src/cni/network-config.js';
import { sandboxAddresses } from '../../src/cni/result.js';
import { gatewayOf, inNetns, ip, pluginSets, requireBlackhole, requirePlugins, TestHost } from '../support/cni.js';
import { eventually } from '../testbed/eventually.js';

const busybox = '/usr/bin/busybox';
const ping = (ns: string, address: string) => inNetns(ns, [busybox, 'ping', '-c', '1', '-W', '2', address]);

describe.each(pluginSets)('CNI with $name', (set) => {
  let host: TestHost;
  let cni: Cni;
  const attach = (containerId: string, netns: string, extra: object = {}) => ({
    containerId,
    ifName: 'eth0',
    netns,
    args: [['IgnoreUnknown', '1'] as const],
    ...extra,
  });

  beforeAll(() => {
    requireBlackhole();
    requirePlugins(set);
    host = new TestHost();
    cni = host.cni(set);
  });
  afterAll(() => host?.destroy());

  it('ADD gives an address on eth0, lo is up, and the namespace reaches the gateway', async () => {
    const net = host.network('tskc-add', 200);
    const pod = host.podNs('add');
    const { result, version } = await cni.add(net, attach('add-1', pod.path));
    expect(version).toBe(set.newest);
    const [address] = sandboxAddresses(result, 'eth0');
    expect(address).toMatch(/^10\.88\.200\.\d+$/);
    expect(ip('-n', pod.name, '-o', '-4', 'addr', 'show', 'eth0')).toContain(`${address}/24`);
    expect(ip('-n', pod.name, '-o', 'link', 'show', 'lo')).toContain('UP');
    expect(ping(pod.name, gatewayOf(200))).toContain('1 packets received');
    expect(host.leases('tskc-add')).toEqual([address]);
    expect(host.cacheEntries()).toContain('tskc-add-add-1-eth0');
    await cni.del(net, attach('add-1', pod.path));
  });

  it('CHECK passes, then fails once the veth is deleted by hand; DEL frees the lease and the veth', async () => {
    const net = host.network('tskc-check', 202);
    const pod = host.podNs('check');
    const { result } = await cni.add(net, attach('check-1', pod.path));
    const address = sandboxAddresses(result, 'eth0')[0] as string;
    const hostVeth = result.interfaces.find((i) => !i.sandbox && i.name !== host.bridgeOf(202))?.name as string;
    expect(host.veths()).toContain(hostVeth);
    expect(await cni.check(net, attach('check-1', pod.path))).toEqual({ ran: true, version: set.newest });

    ip('-n', host.hostNs, 'link', 'del', hostVeth);
    const err = await cni.check(net, attach('check-1', pod.path)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CniError);
    expect((err as CniError).invocation).toMatchObject({ command: 'CHECK', plugin: 'bridge', source: `${net.file} plugins[0]` });
    expect((err as CniError).message).toContain(`CHECK plugin "bridge" (${join(set.dir, 'bridge')}) of network "tskc-check" from ${net.file} plugins[0]: `);

    await cni.del(net, attach('check-1', pod.path));
    expect(host.leases('tskc-check')).not.toContain(address);
    expect(host.veths()).not.toContain(hostVeth);
    expect(host.cacheEntries()).not.toContain('tskc-check-check-1-eth0');
  });

  it('a hostPort reaches the pod from another namespace, and DEL (given only the IDs) removes the mapping', async () => {
    const net = host.network('tskc-web', 204);
    const pod = host.podNs('web');
    const hostPort = 18080;
    const { result } = await cni.add(
      net,
      attach('web-1', pod.path, { capabilityArgs: { portMappings: [{ hostPort, containerPort: 8080, protocol: 'tcp' }] } }),
    );
    const podIp = sandboxAddresses(result, 'eth0')[0] as string;
    // Node is the HTTP server and client every test machine has (busybox's wget crashes: static glibc).
    host.background(pod.name, [process.execPath, '-e', `require('node:http').createServer((q, r) => r.end('hello-from-${podIp}')).listen(8080)`]);

    // A client namespace wired to the test host by a veth pair of its own (10.88.205.0/30).
    const client = host.podNs('client');
    const hostSide = `tkc${host.id}c`;
    ip('link', 'add', hostSide, 'netns', host.hostNs, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client.name);
    ip('-n', host.hostNs, 'addr', 'add', '10.88.205.1/30', 'dev', hostSide);
    ip('-n', host.hostNs, 'link', 'set', hostSide, 'up');
    ip('-n', client.name, 'addr', 'add', '10.88.205.2/30', 'dev', 'eth0');
    ip('-n', client.name, 'link', 'set', 'eth0', 'up');
    ip('-n', client.name, 'route', 'add', 'default', 'via', '10.88.205.1');
    const get = `require('node:http').get('http://10.88.205.1:${hostPort}/', { timeout: 2000 }, (r) => r.pipe(process.stdout)).on('error', () => process.exit(1))`;
    const fetch = () => inNetns(client.name, [process.execPath, '-e', get]);
    expect(await eventually('the hostPort to answer', () => fetch(), 20_000, 300)).toBe(`hello-from-${podIp}`);
    expect(inNetns(host.hostNs, ['iptables-save', '-t', 'nat'])).toContain('id: \\"web-1\\"');

    await cni.del(net, { containerId: 'web-1', ifName: 'eth0', netns: pod.path });
    expect(inNetns(host.hostNs, ['iptables-save', '-t', 'nat'])).not.toContain('web-1');
    expect(() => fetch()).toThrow();
  });

  it('GC deletes the attachment of a vanished sandbox and keeps the live one', async () => {
    const net = host.network('tskc-gc', 206);
    const live = host.podNs('live');
    const gone = host.podNs('gone');
    const a = await cni.add(net, attach('gc-live', live.path));
    const b = await cni.add(net, attach('gc-gone', gone.path));
    const liveIp = sandboxAddresses(a.result, 'eth0')[0] as string;
    const goneIp = sandboxAddresses(b.result, 'eth0')[0] as string;
    ip('netns', 'del', gone.name);

    const outcome = await cni.gc(net, [{ containerId: 'gc-live', ifName: 'eth0' }]);
    expect(outcome.errors.map((e) => e.message)).toEqual([]);
    expect(outcome.deleted).toEqual([{ containerId: 'gc-gone', ifName: 'eth0' }]);
    expect(outcome.reason).toBe(set.newest === '1.1.0' ? undefined : 'plugins not asked: CNI 1.0.0 has no GC command (it came in 1.1.0)');
    expect(host.leases('tskc-gc')).toEqual([liveIp]);
    expect(goneIp).not.toBe(liveIp);
    expect(host.cacheEntries()).toContain('tskc-gc-gc-live-eth0');
    expect(host.cacheEntries()).not.toContain('tskc-gc-gc-gone-eth0');
    expect(ping(live.name, gatewayOf(206))).toContain('1 packets received');
    await cni.del(net, attach('gc-live', live.path));
  });

  it('STATUS: ready where the version has it; an error naming plugin and file where the IPAM plugin is missing', async () => {
    expect(await cni.status(host.network('tskc-status', 208))).toEqual(
      set.newest === '1.1.0' ? { ran: true, version: '1.1.0' } : { ran: false, version: '1.0.0', reason: 'CNI 1.0.0 has no STATUS command (it came in 1.1.0)' },
    );
    if (set.newest !== '1.1.0') return;
    const broken = host.network('tskc-noipam', 209, [], { plugins: [{ type: 'bridge', bridge: host.bridgeOf(209), ipam: { type: 'tskube-no-such-ipam' } }] });
    const err = (await cni.status(broken).catch((e: unknown) => e)) as CniError;
    expect(err).toBeInstanceOf(CniError);
    expect(err.message).toContain(`STATUS plugin "bridge" (${join(set.dir, 'bridge')}) of network "tskc-noipam" from ${broken.file} plugins[0]: `);
    expect(err.message).toContain('tskube-no-such-ipam');
  });

  describe('bad plugins: a clear error naming plugin and file, and nothing leaked', () => {
    /** A failing ADD, checked to leave no veth, lease or cache entry behind. */
    const failedAdd = async (engine: Cni, net: NetworkConfig, role: string): Promise<CniError> => {
      const pod = host.podNs(role);
      const before = { veths: host.veths(), leases: host.leases(net.name), cache: host.cacheEntries() };
      const err = await engine.add(net, attach(`${role}-1`, pod.path)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CniError);
      expect({ veths: host.veths(), leases: host.leases(net.name), cache: host.cacheEntries() }).toEqual(before);
      return err as CniError;
    };
    /** The chain with a test plugin after loopback, speaking the set's newest version. */
    const chainWith = (type: string) => host.network(`tskc-${type}`, 210, [{ type }], { cniVersions: undefined, cniVersion: set.newest });

    it('an unknown plugin type runs nothing', async () => {
      const net = chainWith('tskube-no-such-plugin');
      const err = await failedAdd(cni, net, 'unknown');
      expect(err.message).toBe(
        `not-found: ADD plugin "tskube-no-such-plugin" of network "tskc-tskube-no-such-plugin" from ${net.file} plugins[3]: no plugin binary "tskube-no-such-plugin" in CNI_PATH ${host.fakePluginDir}:${set.dir}`,
      );
    });

    it('a plugin exiting non-zero with an error object', async () => {
      host.fakePlugin(
        'tskube-test-refuse',
        `cat >/dev/null; case "$CNI_COMMAND" in ADD) echo '{"cniVersion":"1.0.0","code":7,"msg":"Invalid Configuration","details":"the test says no"}'; exit 1;; esac`,
      );
      const net = chainWith('tskube-test-refuse');
      const err = await failedAdd(cni, net, 'refuse');
      expect(err.cni).toEqual({ cniVersion: '1.0.0', code: 7, msg: 'Invalid Configuration', details: 'the test says no' });
      expect(err.message).toBe(
        `invalid-argument: ADD plugin "tskube-test-refuse" (${host.fakePluginDir}/tskube-test-refuse) of network "tskc-tskube-test-refuse" from ${net.file} plugins[3]: CNI error 7 (invalid network config): Invalid Configuration; the test says no; the attachment was deleted again`,
      );
    });

    it('a plugin printing garbage', async () => {
      host.fakePlugin('tskube-test-garbage', 'cat >/dev/null; [ "$CNI_COMMAND" = ADD ] && echo "hello, I am not JSON"; exit 0');
      const net = chainWith('tskube-test-garbage');
      const err = await failedAdd(cni, net, 'garbage');
      expect(err.message).toBe(
        `internal: ADD plugin "tskube-test-garbage" (${host.fakePluginDir}/tskube-test-garbage) of network "tskc-tskube-test-garbage" from ${net.file} plugins[3]: printed something that is not a CNI result: "hello, I am not JSON"; the attachment was deleted again`,
      );
    });

    it('a plugin that hangs is killed at its timeout, with what it started', async () => {
      const pidFile = join(host.dir, 'hang.pid');
      host.fakePlugin('tskube-test-hang', `cat >/dev/null; if [ "$CNI_COMMAND" = ADD ]; then sleep 300 & echo $! > ${pidFile}; wait; fi; exit 0`);
      const net = chainWith('tskube-test-hang');
      const started = Date.now();
      const err = await failedAdd(host.cni(set, { timeouts: { byPlugin: { 'tskube-test-hang': 1500 } } }), net, 'hang');
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(err.code).toBe('deadline-exceeded');
      expect(err.message).toBe(
        `deadline-exceeded: ADD plugin "tskube-test-hang" (${host.fakePluginDir}/tskube-test-hang) of network "tskc-tskube-test-hang" from ${net.file} plugins[3]: no answer within 1500 ms; killed it and what it started; the attachment was deleted again`,
      );
      const sleeper = readFileSync(pidFile, 'utf8').trim();
      await eventually("the hung plugin's child to be gone", () => (existsSync(`/proc/${sleeper}`) ? undefined : true), 5000, 100);
    });
  });
});
