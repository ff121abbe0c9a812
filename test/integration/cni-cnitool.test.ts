// `tskube cnitool` in-process with the real v1.10 plugins, run in a test host namespace,
// and the real containerd for the live sandboxes `cache` and `gc` compare against.
import { createHash } from 'node:crypto';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCnitool } from '../../src/cli/cnitool/cnitool.js';
import { memoryIo } from '../../src/cli/io.js';
import type { CriClient } from '../../src/cri-client/index.js';
import { prefixedPluginExec } from '../../src/cni/plugin-exec.js';
import { inNetns, ip, pluginSets, requireBlackhole, requirePlugins, TestHost } from '../support/cni.js';
import { newClient, podConfig, removePod, runtimeEndpoint } from '../support/runtime.js';

const set = pluginSets[1] as (typeof pluginSets)[number];
let host: TestHost;
let client: CriClient;

beforeAll(() => {
  requireBlackhole();
  requirePlugins(set);
  host = new TestHost();
  client = newClient();
});
afterAll(() => {
  client?.close();
  host?.destroy();
});

async function cnitool(args: string[], env: Record<string, string> = {}) {
  const { io, stdout, stderr } = memoryIo({
    env: {
      PATH: process.env['PATH'],
      NETCONFPATH: host.confDir,
      CNI_PATH: `${host.fakePluginDir}:${set.dir}`,
      CONTAINER_RUNTIME_ENDPOINT: runtimeEndpoint,
      ...env,
    },
  });
  const code = await runCnitool(args, io, { exec: prefixedPluginExec(['ip', 'netns', 'exec', host.hostNs]) });
  return { code, stdout: stdout(), stderr: stderr() };
}
const upstreamId = (netns: string) => `cnitool-${createHash('sha512').update(netns).digest('hex').slice(0, 20)}`;

describe('tskube cnitool', () => {
  it("add prints the result and caches it under cnitool's container ID; check; del frees the lease and the hostPort", async () => {
    host.network('tskc-tool', 220);
    const pod = host.podNs('tool');
    const env = {
      CAP_ARGS: JSON.stringify({ portMappings: [{ hostPort: 18081, containerPort: 80, protocol: 'tcp' }] }),
      CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=tool',
      CNI_IFNAME: 'net1',
    };
    const add = await cnitool(['add', 'tskc-tool', pod.path, '--cache-dir', host.cacheDir], env);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    const result = JSON.parse(add.stdout);
    expect(result.cniVersion).toBe('1.1.0');
    expect(result.ips[0].address).toMatch(/^10\.88\.220\.\d+\/24$/);
    expect(ip('-n', pod.name, '-o', 'link', 'show', 'net1')).toContain('net1');
    expect(host.cacheEntries()).toContain(`tskc-tool-${upstreamId(pod.path)}-net1`);
    expect(inNetns(host.hostNs, ['iptables-save', '-t', 'nat'])).toContain(upstreamId(pod.path));

    expect(await cnitool(['check', 'tskc-tool', pod.path, '--cache-dir', host.cacheDir], { CNI_IFNAME: 'net1' })).toEqual({ code: 0, stdout: '', stderr: '' });
    // DEL as a user types it later: no CAP_ARGS, -i instead of CNI_IFNAME; the cached capability args find the DNAT rule.
    expect((await cnitool(['del', 'tskc-tool', pod.path, '-i', 'net1', '--cache-dir', host.cacheDir])).code).toBe(0);
    expect(host.leases('tskc-tool')).toEqual([]);
    expect(inNetns(host.hostNs, ['iptables-save', '-t', 'nat'])).not.toContain(upstreamId(pod.path));
    expect(host.cacheEntries()).toEqual([]);
  });

  it('status answers for the network; errors name what was wrong', async () => {
    host.network('tskc-tool', 220);
    expect(await cnitool(['status', 'tskc-tool'])).toEqual({
      code: 0,
      stdout: 'network "tskc-tool" is ready: bridge, portmap, loopback answered STATUS (CNI 1.1.0)\n',
      stderr: '',
    });
    const missing = await cnitool(['add', 'nope', '/run/netns/x']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^tskube cnitool add: not-found: no valid network "nope" in .*\(networks there: .*"tskc-tool".*\)/);
    const badCaps = await cnitool(['add', 'tskc-tool', '/run/netns/x'], { CAP_ARGS: '[1]' });
    expect(badCaps.stderr).toBe('tskube cnitool add: invalid-argument: CAP_ARGS: want a JSON object of capability arguments, e.g. {"portMappings":[...]}\n');
  });

  it('list shows every config, its problems and the winner, and what containerd makes of the folder', async () => {
    host.network('tskc-tool', 220);
    writeFileSync(join(host.confDir, '00-broken.conflist'), '{\n  "name": "broken",\n  "plugins": [ { "type": "bridge" }, ]\n}\n');
    writeFileSync(
      join(host.confDir, '05-missing.conflist'),
      JSON.stringify({ cniVersion: '1.0.0', name: 'missing', plugins: [{ type: 'tskube-not-installed' }] }),
    );
    const list = await cnitool(['list']);
    expect(list.code).toBe(0);
    const lines = list.stdout.split('\n');
    expect(lines.find((l) => l.includes('00-broken.conflist'))).toContain('not valid JSON at line 3 column');
    expect(lines.find((l) => l.includes('05-missing.conflist'))).toContain('no plugin binary "tskube-not-installed" in CNI_PATH');
    expect(lines.find((l) => l.includes('10-tskc-tool.conflist'))).toMatch(/^\*\s+10-tskc-tool\.conflist\s+tskc-tool\s+1\.1\.0\s+bridge,portmap,loopback\s+-$/);
    expect(list.stdout).toContain(`tskube uses network "tskc-tool" from ${join(host.confDir, '10-tskc-tool.conflist')}: the first valid file`);
    expect(list.stdout).toContain(`containerd reads only the first file, ${join(host.confDir, '00-broken.conflist')}, and fails to load it`);
    const json = JSON.parse((await cnitool(['list', '-o', 'json'])).stdout);
    expect(json.rows.filter((r: { chosen: boolean }) => r.chosen).map((r: { network: string }) => r.network)).toEqual(['tskc-tool']);
  });

  it('cache tells live attachments (a Ready sandbox of the runtime, a cnitool namespace) from stale ones; gc deletes only the stale', async () => {
    host.network('tskc-tool', 220);
    const keep = host.podNs('keep');
    const lose = host.podNs('lose');
    expect((await cnitool(['add', 'tskc-tool', keep.path, '--cache-dir', host.cacheDir])).code).toBe(0);
    expect((await cnitool(['add', 'tskc-tool', lose.path, '--cache-dir', host.cacheDir])).code).toBe(0);
    ip('netns', 'del', lose.name);

    // A sandbox of the machine's containerd: its own CNI writes its entry to /var/lib/cni; a copy here is "live".
    const config = podConfig(`cni-cache-${host.id}`);
    const { podSandboxId } = await client.runtime.call('RunPodSandbox', { config });
    try {
      const { items } = await client.runtime.call('ListPodSandbox', { filter: { id: podSandboxId } });
      expect(items[0]?.state).toBe('SANDBOX_READY');
      const sandboxEntry = (await import('node:fs')).readdirSync('/var/lib/cni/results').find((f) => f.includes(podSandboxId) && f.endsWith('-eth0')) as string;
      copyFileSync(join('/var/lib/cni/results', sandboxEntry), join(host.cacheDir, 'results', sandboxEntry));

      const cache = await cnitool(['cache', '--cache-dir', host.cacheDir, '--no-trunc']);
      expect(cache.code).toBe(0);
      const row = (id: string) => cache.stdout.split('\n').find((l) => l.includes(id)) ?? '';
      expect(row(podSandboxId)).toContain(`Ready tskube-test/${config.metadata?.name}`);
      expect(row(podSandboxId)).not.toMatch(/yes$/);
      expect(row(upstreamId(keep.path))).toMatch(/cnitool, netns present\s*$/);
      expect(row(upstreamId(lose.path))).toMatch(/cnitool, netns gone\s+yes$/);
      expect(cache.stdout).toContain('1 attachment(s) belong to no live sandbox; `tskube cnitool gc tskc-tool` deletes them');

      const gc = await cnitool(['gc', 'tskc-tool', '--cache-dir', host.cacheDir]);
      expect(gc.stderr).toBe('');
      expect(gc.stdout).toBe(`deleted ${upstreamId(lose.path)} eth0 (cnitool, netns gone)\nkept 1 live attachment(s) of "tskc-tool"\n`);
      expect(host.leases('tskc-tool')).toHaveLength(1);
      expect(host.cacheEntries().sort()).toEqual([sandboxEntry, `tskc-tool-${upstreamId(keep.path)}-eth0`].sort());
    } finally {
      await removePod(client, podSandboxId, config.logDirectory);
    }
    expect((await cnitool(['del', 'tskc-tool', keep.path, '--cache-dir', host.cacheDir])).code).toBe(0);
  });
});
