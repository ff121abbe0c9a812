// PodNetwork's decisions against scripted plugins and the in-memory runtime: when the
// kubelet's record of an attachment is written and dropped, which network a DEL runs, what
// GC collects, and what NetworkReady says. The real plugins, shim and containerd are in
// test/integration/kubelet-cni.test.ts.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { PluginExec, PluginRun } from '../../src/cni/plugin-exec.js';
import { encodeShimRequest, parseShimRequest, type ShimReply } from '../../src/cni/shim-protocol.js';
import { PodNetwork } from '../../src/kubelet/network/pod-network.js';
import { InMemoryRuntime } from '../support/in-memory-runtime.js';

type Reply = { exitCode?: number; stdout?: string };
type Handler = (command: string, stdin: Record<string, unknown>, containerId: string) => Reply | Promise<Reply>;
const versions = JSON.stringify({ cniVersion: '1.1.0', supportedVersions: ['0.4.0', '1.0.0', '1.1.0'] });

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(handlers: Record<string, Handler>) {
  const dir = mkdtempSync(join(tmpdir(), 'tskube-pod-network-'));
  dirs.push(dir);
  const confDir = join(dir, 'net.d');
  const runtimeConfDir = join(dir, 'runtime-net.d');
  mkdirSync(confDir);
  const calls: { type: string; command: string; id: string; stdin: Record<string, unknown>; recordsThen: string[] }[] = [];
  const recordsDir = join(dir, 'state', 'attachments');
  const exec: PluginExec = {
    async find(type) {
      return handlers[type] ? { path: `/fake/${type}`, mtimeMs: 1, size: 1 } : undefined;
    },
    async run(binary, request): Promise<PluginRun> {
      const type = binary.split('/').pop() as string;
      const command = request.env['CNI_COMMAND'] as string;
      const stdin = JSON.parse(request.stdin) as Record<string, unknown>;
      calls.push({ type, command, id: request.env['CNI_CONTAINERID'] ?? '', stdin, recordsThen: existsSync(recordsDir) ? readdirSync(recordsDir) : [] });
      const reply = command === 'VERSION' ? { stdout: versions } : await (handlers[type] as Handler)(command, stdin, request.env['CNI_CONTAINERID'] ?? '');
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
  const runtime = new InMemoryRuntime();
  const events: string[] = [];
  const network = new PodNetwork({
    settings: { confDir, binDirs: ['/fake'], cacheDir: join(dir, 'cache'), runtimeConfDir, exec },
    stateDir: join(dir, 'state'),
    runtime,
    pod: () => undefined,
    podCIDRs: async () => undefined,
    events: { normal: (r, m) => events.push(`${r} ${m}`), warning: (r, m) => events.push(`${r} ${m}`) },
    log: pino({ level: 'silent' }),
  });
  const writeConf = (plugins: unknown[], name = 'pods') =>
    writeFileSync(join(confDir, '10-pods.conflist'), JSON.stringify({ cniVersion: '1.1.0', name, plugins }));
  const shim = async (env: Record<string, string>): Promise<ShimReply> => {
    const parsed = parseShimRequest(encodeShimRequest(env, JSON.stringify({ cniVersion: '1.0.0', name: 'tskube', type: 'tskube-cni-shim' })));
    if (parsed.state !== 'complete') throw new Error('bad request');
    return network.handle(parsed.request, new AbortController().signal);
  };
  const add = (id: string) =>
    shim({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: id, CNI_NETNS: `/run/netns/${id}`, CNI_IFNAME: 'eth0', CNI_ARGS: `K8S_POD_UID=${id}` });
  const del = (id: string) => shim({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: id, CNI_NETNS: '', CNI_IFNAME: 'eth0' });
  return { dir, confDir, runtimeConfDir, recordsDir, network, runtime, calls, events, writeConf, add, del };
}

const bridge: Handler = (command, stdin) =>
  command === 'ADD'
    ? {
        stdout: JSON.stringify({
          cniVersion: stdin['cniVersion'],
          interfaces: [{ name: 'eth0', sandbox: '/n' }],
          ips: [{ address: '10.88.1.7/24', interface: 0 }],
        }),
      }
    : {};
const pass: Handler = (command, stdin) => (command === 'ADD' ? { stdout: JSON.stringify(stdin['prevResult']) } : {});

describe('PodNetwork', () => {
  it('records an attachment just before the first plugin runs, answers in the runtime’s version, and drops the record on DEL', async () => {
    const t = setup({ bridge, portmap: pass });
    t.writeConf([{ type: 'bridge' }, { type: 'portmap', capabilities: { portMappings: true } }]);
    const reply = await t.add('c1');
    expect(reply.exitCode).toBe(0);
    expect(JSON.parse(reply.stdout)).toMatchObject({ cniVersion: '1.0.0', ips: [{ address: '10.88.1.7/24', interface: 0 }] });
    expect(t.calls.find((c) => c.command === 'ADD')?.recordsThen).toEqual(['c1-eth0']);
    expect(t.network.podIPs('c1')).toEqual(['10.88.1.7']);

    expect(await t.del('c1')).toEqual({ exitCode: 0, stdout: '' });
    expect(t.calls.filter((c) => c.command === 'DEL').map((c) => c.type)).toEqual(['portmap', 'bridge']);
    expect(readdirSync(t.recordsDir)).toEqual([]);
    expect(t.network.podIPs('c1')).toBeUndefined();
  });

  it('an ADD refused before any plugin ran leaves no record, and the DEL that follows runs nothing', async () => {
    const t = setup({ bridge });
    t.writeConf([{ type: 'bridge' }, { type: 'no-such-plugin' }]);
    const reply = await t.add('c2');
    expect(reply.exitCode).toBe(1);
    expect(JSON.parse(reply.stdout).msg).toContain('ADD plugin "no-such-plugin" of network "pods" from');
    expect(existsSync(t.recordsDir) ? readdirSync(t.recordsDir) : []).toEqual([]);
    expect(await t.del('c2')).toEqual({ exitCode: 0, stdout: '' });
    expect(t.calls.filter((c) => c.command !== 'VERSION')).toEqual([]);
  });

  it('DEL runs the network the attachment was made with, after the config changed', async () => {
    const t = setup({ bridge, portmap: pass, tuning: pass });
    t.writeConf([{ type: 'bridge' }, { type: 'portmap' }]);
    await t.add('c3');
    t.writeConf([{ type: 'bridge' }, { type: 'tuning' }], 'pods-v2');
    expect((await t.del('c3')).exitCode).toBe(0);
    expect(t.calls.filter((c) => c.command === 'DEL').map((c) => `${c.type} ${c.stdin['name']}`)).toEqual(['portmap pods', 'bridge pods']);
  });

  it('GC DELs records of sandboxes the runtime does not have READY, and keeps a READY one and an ADD in flight', async () => {
    const t = setup({ bridge });
    t.writeConf([{ type: 'bridge' }]);
    const { podSandboxId: ready } = await t.runtime.runtime.call('RunPodSandbox', {
      config: { metadata: { name: 'p', namespace: 'd', uid: 'u', attempt: 0 } },
    });
    for (const id of [ready, 'gone', 'fresh']) await t.add(id);
    // A previous kubelet's record (no ADD by this process): gone is collected; fresh is this process's ADD still in its grace.
    writeFileSync(join(t.recordsDir, 'old-eth0'), readRecord(t.recordsDir, 'gone-eth0').replace(/"containerId":"gone"/, '"containerId":"old"'));
    await t.network.collect(new AbortController().signal);
    expect(readdirSync(t.recordsDir).sort()).toEqual([`${ready}-eth0`, 'fresh-eth0', 'gone-eth0'].sort());
    expect(t.calls.filter((c) => c.command === 'DEL').length).toBe(1);
  });

  it('an ADD that starts while GC runs waits for it, and is not taken for a leak', async () => {
    // GC's DEL of a previous kubelet's record is held, so the ADD is sure to come after GC's snapshot.
    let releaseDel!: () => void;
    const delHeld = new Promise<void>((r) => (releaseDel = r));
    let delStarted!: () => void;
    const delReached = new Promise<void>((r) => (delStarted = r));
    const t = setup({
      bridge: async (command, stdin, containerId) => {
        if (command === 'DEL' && containerId === 'old') {
          delStarted();
          await delHeld;
        }
        return bridge(command, stdin, containerId);
      },
    });
    t.writeConf([{ type: 'bridge' }]);
    await t.add('x');
    // A record this process did not make (a previous kubelet's): GC DELs it, held.
    writeFileSync(join(t.recordsDir, 'old-eth0'), readRecord(t.recordsDir, 'x-eth0').replace(/"containerId":"x"/, '"containerId":"old"'));
    await t.del('x');
    const collecting = t.network.collect(new AbortController().signal);
    await delReached;
    const adding = t.add('racing');
    // Unheld, the ADD would be done long before this; held by GC, it waits for the release.
    await Promise.race([adding, new Promise((r) => setTimeout(r, 200))]);
    releaseDel();
    await collecting;
    expect((await adding).exitCode).toBe(0);
    const index = (type: string, id: string) => t.calls.findIndex((c) => c.command === type && c.id === id);
    expect(t.calls.filter((c) => c.command === 'DEL').map((c) => c.id)).toEqual(['x', 'old']);
    expect(index('ADD', 'racing')).toBeGreaterThan(index('DEL', 'old'));
    expect(readdirSync(t.recordsDir).sort()).toEqual(['racing-eth0']);
    expect(t.network.podIPs('racing')).toEqual(['10.88.1.7']);
  });

  it('NetworkReady: no config, the runtime reading another file first, STATUS failing — each with its reason', async () => {
    const t = setup({
      bridge: (command) => (command === 'STATUS' ? { exitCode: 1, stdout: JSON.stringify({ code: 50, msg: 'no uplink' }) } : {}),
    });
    const signal = new AbortController().signal;
    await t.network.start(signal);
    await t.network.check(signal);
    expect(t.network.condition().message).toMatch(/^Network plugin returns error: no CNI network config in .*net\.d/);
    expect(t.events.join('\n')).toContain('NetworkConfigInvalid no CNI network config in');

    t.writeConf([{ type: 'bridge' }]);
    writeFileSync(join(t.runtimeConfDir, '00-aaa.conflist'), '{}');
    await t.network.check(signal);
    expect(t.network.condition().message).toContain(`the runtime reads ${join(t.runtimeConfDir, '00-aaa.conflist')} before`);

    rmSync(join(t.runtimeConfDir, '00-aaa.conflist'));
    await t.network.check(signal);
    expect(t.network.condition()).toEqual({
      ok: false,
      reason: 'NetworkPluginNotReady',
      message: `Network plugin returns error: STATUS plugin "bridge" (/fake/bridge) of network "pods" from ${join(t.confDir, '10-pods.conflist')} plugins[0]: CNI error 50 (plugin not available): no uplink`,
    });
    await t.network.close();
  });
});

function readRecord(dir: string, name: string): string {
  return readFileSync(join(dir, name), 'utf8');
}
