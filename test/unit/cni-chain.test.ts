// The library's sequencing against scripted plugins: what runs, in which order, with
// which stdin, and what the cache holds afterwards. The real plugins are in
// test/integration/cni-*.test.ts.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AttachmentLocks } from '../../src/cni/attachment-locks.js';
import { Cni } from '../../src/cni/cni.js';
import { CniError } from '../../src/cni/cni-error.js';
import { parseNetworkConfig } from '../../src/cni/config/parse-network-config.js';
import type { PluginExec, PluginRun } from '../../src/cni/plugin-exec.js';
import { TskubeError } from '../../src/common/errors.js';

type Reply = { exitCode?: number; stdout?: string };
type Handler = (command: string, stdin: Record<string, unknown>, env: Readonly<Record<string, string>>) => Reply;

/** Plugins as functions of (command, stdin, env); every call is recorded in order. */
function scriptedPlugins(handlers: Record<string, Handler>) {
  const calls: { type: string; command: string; stdin: Record<string, unknown>; env: Readonly<Record<string, string>> }[] = [];
  const exec: PluginExec = {
    async find(type) {
      return handlers[type] ? { path: `/fake/${type}`, mtimeMs: 1, size: 1 } : undefined;
    },
    async run(binary, request): Promise<PluginRun> {
      const type = binary.split('/').pop() as string;
      const command = request.env['CNI_COMMAND'] as string;
      const stdin = JSON.parse(request.stdin) as Record<string, unknown>;
      calls.push({ type, command, stdin, env: request.env });
      const reply = (handlers[type] as Handler)(command, stdin, request.env);
      return {
        exitCode: reply.exitCode ?? 0,
        signal: null,
        stdout: Buffer.from(reply.stdout ?? ''),
        stderr: Buffer.alloc(0),
        timedOut: false,
        aborted: false,
        overflowed: false,
      };
    },
  };
  return { exec, calls };
}

const allVersions = JSON.stringify({ cniVersion: '1.1.0', supportedVersions: ['0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
const upTo100 = JSON.stringify({ cniVersion: '1.1.0', supportedVersions: ['0.3.1', '0.4.0', '1.0.0'] });

/** An interface plugin: ADD gives an address; its result is in the version asked. */
const bridge: Handler = (command, stdin) => {
  if (command === 'VERSION') return { stdout: allVersions };
  if (command === 'ADD') {
    return {
      stdout: JSON.stringify({
        cniVersion: stdin['cniVersion'],
        interfaces: [{ name: 'eth0', sandbox: '/run/netns/p' }],
        ips: [{ address: '10.0.0.2/24', interface: 0 }],
      }),
    };
  }
  return {};
};
/** A chained plugin: passes prevResult through. */
const passThrough: Handler = (command, stdin) => {
  if (command === 'VERSION') return { stdout: allVersions };
  return command === 'ADD' ? { stdout: JSON.stringify(stdin['prevResult']) } : {};
};
const failing: Handler = (command) =>
  command === 'ADD' ? { exitCode: 1, stdout: JSON.stringify({ code: 7, msg: 'Invalid Configuration', details: 'no room' }) } : {};

const network = (plugins: unknown[], extra: Record<string, unknown> = {}) =>
  parseNetworkConfig(JSON.stringify({ cniVersion: '1.0.0', name: 'net', plugins, ...extra }), '/etc/cni/net.d/10-net.conflist', 'conflist');
const attachment = { containerId: 'c1', ifName: 'eth0', netns: '/run/netns/p', args: [['K8S_POD_NAME', 'web'] as const] };
const portMappings = [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }];

const dirs: string[] = [];
const cacheDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'tskube-cni-chain-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const cached = (dir: string) => {
  try {
    return readdirSync(join(dir, 'results'));
  } catch {
    return [];
  }
};

describe('Cni', () => {
  it('ADD runs the chain in order, hands each result on as prevResult and caches the last', async () => {
    const { exec, calls } = scriptedPlugins({ bridge, portmap: passThrough });
    const dir = cacheDir();
    const cni = new Cni({ pluginDirs: ['/fake'], cacheDir: dir, exec });
    const net = network([{ type: 'bridge' }, { type: 'portmap', capabilities: { portMappings: true } }]);
    const { result, version } = await cni.add(net, { ...attachment, capabilityArgs: { portMappings } });
    expect(version).toBe('1.0.0');
    expect(result.ips).toEqual([{ address: '10.0.0.2/24', interface: 0 }]);
    expect(calls.map((c) => `${c.command} ${c.type}`)).toEqual(['ADD bridge', 'ADD portmap']);
    expect(calls[0]?.stdin['prevResult']).toBeUndefined();
    expect(calls[1]?.stdin['prevResult']).toEqual({
      cniVersion: '1.0.0',
      interfaces: [{ name: 'eth0', sandbox: '/run/netns/p' }],
      ips: [{ interface: 0, address: '10.0.0.2/24' }],
    });
    expect(calls[1]?.stdin['runtimeConfig']).toEqual({ portMappings });
    expect(calls[0]?.env['CNI_ARGS']).toBe('K8S_POD_NAME=web');
    expect(cached(dir)).toEqual(['net-c1-eth0']);
    expect((await cni.cachedResult(net, attachment))?.ips[0]?.address).toBe('10.0.0.2/24');
  });

  it('ADD of a chain with an unknown plugin type runs nothing and names the plugin and file', async () => {
    const { exec, calls } = scriptedPlugins({ bridge });
    const cni = new Cni({ pluginDirs: ['/fake', '/also'], cacheDir: cacheDir(), exec });
    const err = await cni.add(network([{ type: 'bridge' }, { type: 'nosuch' }]), attachment).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CniError);
    expect((err as CniError).message).toBe(
      'not-found: ADD plugin "nosuch" of network "net" from /etc/cni/net.d/10-net.conflist plugins[1]: no plugin binary "nosuch" in CNI_PATH /fake:/also',
    );
    expect(calls).toEqual([]);
  });

  it('ADD that fails half-way deletes the whole chain again, in reverse, and caches nothing', async () => {
    const { exec, calls } = scriptedPlugins({ bridge, tuning: passThrough, broken: failing });
    const dir = cacheDir();
    const cni = new Cni({ pluginDirs: ['/fake'], cacheDir: dir, exec });
    const err = (await cni.add(network([{ type: 'bridge' }, { type: 'tuning' }, { type: 'broken' }]), attachment).catch((e: unknown) => e)) as CniError;
    expect(err.cni?.code).toBe(7);
    expect(err.message).toBe(
      'invalid-argument: ADD plugin "broken" (/fake/broken) of network "net" from /etc/cni/net.d/10-net.conflist plugins[2]: CNI error 7 (invalid network config): Invalid Configuration; no room; the attachment was deleted again',
    );
    expect(calls.map((c) => `${c.command} ${c.type}`)).toEqual(['ADD bridge', 'ADD tuning', 'ADD broken', 'DEL broken', 'DEL tuning', 'DEL bridge']);
    expect(calls.filter((c) => c.command === 'DEL').every((c) => c.stdin['prevResult'] === undefined)).toBe(true);
    expect(cached(dir)).toEqual([]);
  });

  it('DEL runs in reverse with the cached result, and the cached capability arguments when given none', async () => {
    const { exec, calls } = scriptedPlugins({ bridge, portmap: passThrough });
    const dir = cacheDir();
    const cni = new Cni({ pluginDirs: ['/fake'], cacheDir: dir, exec });
    const net = network([{ type: 'bridge' }, { type: 'portmap', capabilities: { portMappings: true } }]);
    await cni.add(net, { ...attachment, capabilityArgs: { portMappings } });
    calls.length = 0;
    await cni.del(net, { containerId: 'c1', ifName: 'eth0', netns: '' });
    expect(calls.map((c) => `${c.command} ${c.type}`)).toEqual(['DEL portmap', 'DEL bridge']);
    expect(calls[0]?.stdin['runtimeConfig']).toEqual({ portMappings });
    expect(calls[0]?.stdin['prevResult']).toMatchObject({ ips: [{ address: '10.0.0.2/24' }] });
    expect(calls[0]?.env['CNI_NETNS']).toBe('/run/netns/p');
    expect(calls[0]?.env['CNI_ARGS']).toBe('K8S_POD_NAME=web');
    expect(cached(dir)).toEqual([]);
    // DEL again: idempotent, no prevResult now.
    await cni.del(net, { containerId: 'c1', ifName: 'eth0', netns: '' });
    expect(calls.at(-1)?.stdin['prevResult']).toBeUndefined();
  });

  it('CHECK needs the cached result, passes it to every plugin in order, and honours disableCheck', async () => {
    const { exec, calls } = scriptedPlugins({ bridge, portmap: passThrough });
    const cni = new Cni({ pluginDirs: ['/fake'], cacheDir: cacheDir(), exec });
    const net = network([{ type: 'bridge' }, { type: 'portmap' }]);
    await expect(cni.check(net, attachment)).rejects.toThrow('no cached ADD result');
    await cni.add(net, attachment);
    calls.length = 0;
    expect(await cni.check(net, attachment)).toEqual({ ran: true, version: '1.0.0' });
    expect(calls.map((c) => `${c.command} ${c.type}`)).toEqual(['CHECK bridge', 'CHECK portmap']);
    expect(calls.every((c) => (c.stdin['prevResult'] as { ips: unknown[] }).ips.length === 1)).toBe(true);
    const disabled = network([{ type: 'bridge' }], { disableCheck: true });
    expect(await cni.check(disabled, attachment)).toEqual({ ran: false, version: '1.0.0', reason: 'disableCheck is set' });
  });

  it('GC deletes the stale cached attachments of its network, then asks every plugin, carrying on past errors', async () => {
    const gcFails: Handler = (command, stdin) =>
      command === 'GC' ? { exitCode: 1, stdout: '{"code":999,"msg":"cannot list leases"}' } : passThrough(command, stdin, {});
    const { exec, calls } = scriptedPlugins({ bridge, portmap: gcFails, other: bridge });
    const dir = cacheDir();
    const cni = new Cni({ pluginDirs: ['/fake'], cacheDir: dir, exec });
    const net = network([{ type: 'bridge' }, { type: 'portmap' }], { cniVersion: '1.1.0' });
    const otherNet = parseNetworkConfig(JSON.stringify({ cniVersion: '1.1.0', name: 'other', plugins: [{ type: 'other' }] }), '/x/o.conflist', 'conflist');
    await cni.add(net, { ...attachment, containerId: 'gone' });
    await cni.add(net, { ...attachment, containerId: 'live' });
    await cni.add(otherNet, { ...attachment, containerId: 'elsewhere' });
    calls.length = 0;
    const outcome = await cni.gc(net, [{ containerId: 'live', ifName: 'eth0' }]);
    expect(outcome.deleted).toEqual([{ containerId: 'gone', ifName: 'eth0' }]);
    expect(outcome.errors.map((e) => e.message)).toEqual([
      'internal: GC plugin "portmap" (/fake/portmap) of network "net" from /etc/cni/net.d/10-net.conflist plugins[1]: CNI error 999 (internal plugin error): cannot list leases',
    ]);
    expect(calls.map((c) => `${c.command} ${c.type} ${c.env['CNI_CONTAINERID'] ?? '-'}`)).toEqual([
      'DEL portmap gone',
      'DEL bridge gone',
      'GC bridge -',
      'GC portmap -',
    ]);
    expect(calls[2]?.stdin['cni.dev/valid-attachments']).toEqual([{ containerID: 'live', ifname: 'eth0' }]);
    expect(cached(dir).sort()).toEqual(['net-live-eth0', 'other-elsewhere-eth0']);
  });

  it('GC of an older version still deletes stale attachments but asks no plugin', async () => {
    const { exec, calls } = scriptedPlugins({ bridge });
    const cni = new Cni({ pluginDirs: ['/fake'], cacheDir: cacheDir(), exec });
    const net = network([{ type: 'bridge' }]);
    await cni.add(net, attachment);
    const outcome = await cni.gc(net, []);
    expect(outcome).toMatchObject({
      ran: true,
      deleted: [{ containerId: 'c1', ifName: 'eth0' }],
      errors: [],
      reason: 'plugins not asked: CNI 1.0.0 has no GC command (it came in 1.1.0)',
    });
    expect(calls.at(-1)?.command).toBe('DEL');
  });

  it('negotiates the version once per binary: a 1.0.0 plugin in the chain makes the chain speak 1.0.0', async () => {
    const oldBridge: Handler = (command, stdin, env) => (command === 'VERSION' ? { stdout: upTo100 } : bridge(command, stdin, env));
    const { exec, calls } = scriptedPlugins({ bridge: oldBridge, portmap: passThrough });
    const cni = new Cni({ pluginDirs: ['/fake'], cacheDir: cacheDir(), exec });
    const net = network([{ type: 'bridge' }, { type: 'portmap' }], { cniVersion: '1.1.0', cniVersions: ['1.0.0', '1.1.0'] });
    expect((await cni.add(net, attachment)).version).toBe('1.0.0');
    await cni.add(net, { ...attachment, containerId: 'c2' });
    expect(calls.filter((c) => c.command === 'VERSION').map((c) => c.type)).toEqual(['bridge', 'portmap']);
    expect(calls.filter((c) => c.command === 'ADD').every((c) => c.stdin['cniVersion'] === '1.0.0')).toBe(true);
    expect(await cni.status(net)).toEqual({ ran: false, version: '1.0.0', reason: 'CNI 1.0.0 has no STATUS command (it came in 1.1.0)' });
  });

  it('refuses attachments libcni refuses, before running anything', async () => {
    const { exec, calls } = scriptedPlugins({ bridge });
    const cni = new Cni({ pluginDirs: ['/fake'], cacheDir: cacheDir(), exec });
    const net = network([{ type: 'bridge' }]);
    await expect(cni.add(net, { ...attachment, containerId: '-bad' })).rejects.toThrow('container ID "-bad": letters, digits');
    await expect(cni.add(net, { ...attachment, ifName: 'a-very-long-ifname' })).rejects.toThrow('longer than 15 characters');
    await expect(cni.add(net, { ...attachment, netns: '' })).rejects.toThrow('ADD needs the network namespace path');
    expect(calls).toEqual([]);
    expect(() => new Cni({ pluginDirs: [] })).toThrow(TskubeError);
  });
});

describe('AttachmentLocks', () => {
  const deferred = () => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  };

  it('runs one operation per container at a time, different containers at once, and GC alone', async () => {
    const locks = new AttachmentLocks();
    const log: string[] = [];
    const a1 = deferred();
    const b1 = deferred();
    const first = locks.forContainer('a', async () => {
      log.push('a1 start');
      await a1.promise;
      log.push('a1 end');
    });
    const second = locks.forContainer('a', async () => log.push('a2'));
    const other = locks.forContainer('b', async () => {
      log.push('b1 start');
      await b1.promise;
      log.push('b1 end');
    });
    await new Promise((r) => setTimeout(r, 10));
    const gc = locks.exclusive(async () => log.push('gc'));
    const late = locks.forContainer('c', async () => log.push('c1'));
    await new Promise((r) => setTimeout(r, 10));
    expect(log).toEqual(['a1 start', 'b1 start']);
    a1.resolve();
    await new Promise((r) => setTimeout(r, 10));
    b1.resolve();
    await Promise.all([first, second, other, gc, late]);
    // GC waited for a1 and b1, and went before the operations that queued behind it.
    expect(log.indexOf('gc')).toBeGreaterThan(log.indexOf('b1 end'));
    expect(log.indexOf('gc')).toBeLessThan(log.indexOf('c1'));
    expect(log.indexOf('a2')).toBeGreaterThan(log.indexOf('a1 end'));
  });
});
