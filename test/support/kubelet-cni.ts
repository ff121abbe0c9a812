// What tests of kubelet-managed pod networking share: a private containerd whose CNI
// folders are the test's own (its bin dir holds tskube-cni-shim and loopback; its conf dir
// starts empty and gets the kubelet's 00-tskube.conflist), and a test host namespace in
// which the kubelet runs the real plugins, so bridges, veths, leases and netfilter rules
// land there and go with it. Never the shared containerd's /etc/cni/net.d.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HelperPluginExec } from '../../src/cni/helper-exec.js';
import type { PluginExec } from '../../src/cni/plugin-exec.js';
import { CriClient } from '../../src/cri-client/index.js';
import { defaultCacheDir } from '../../src/cni/result-cache.js';
import { ip, type PluginSet, requireBlackhole, requirePlugins, TestHost } from './cni.js';
import { type PrivateContainerd, privateContainerd } from './private-containerd.js';
import { pauseImage, testImage } from './runtime.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Builds (or finds cached) the native CNI helpers; returns their folder. */
export function nativeBinDir(): string {
  return execFileSync(join(repoRoot, 'scripts/build-cni-native'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

export interface CniRig {
  host: TestHost;
  runtime: PrivateContainerd;
  /** The runtime's CNI config folder (the kubelet writes the shim's config here). */
  runtimeConfDir: string;
  runtimeBinDir: string;
  /** Plugins run inside the test host. */
  exec: PluginExec;
  /** The kubelet flags for this rig's chain. */
  kubeletArgs: string[];
  /** Writes the kubelet's chain: bridge (host-local, 10.88.<octet>.0/24, or the Node's podCIDR as ipRanges) + portmap + bandwidth, then `extra`. */
  writeChain(name: string, octet: number, extra?: unknown[], options?: { ipRanges?: boolean; file?: string }): string;
  destroy(): Promise<void>;
}

export async function cniRig(set: PluginSet, options: { blackholes?: string[] } = {}): Promise<CniRig> {
  requirePlugins(set);
  requireBlackhole();
  const host = new TestHost();
  const runtimeConfDir = join(host.dir, 'runtime-net.d');
  const runtimeBinDir = join(host.dir, 'runtime-bin');
  mkdirSync(runtimeConfDir);
  mkdirSync(runtimeBinDir);
  copyFileSync(join(nativeBinDir(), 'tskube-cni-shim'), join(runtimeBinDir, 'tskube-cni-shim'));
  // containerd's built-in loopback network runs this one.
  copyFileSync(join(set.dir, 'loopback'), join(runtimeBinDir, 'loopback'));
  for (const cidr of options.blackholes ?? []) ip('-n', host.hostNs, 'route', 'add', 'blackhole', cidr);
  const runtime = privateContainerd({ cri: true, cni: { confDir: runtimeConfDir, binDir: runtimeBinDir } });
  try {
    await runtime.start();
    runtime.importImages([pauseImage, testImage]);
  } catch (err) {
    await runtime.destroy();
    host.destroy();
    throw err;
  }
  const bridgeOf = (octet: number) => host.bridgeOf(octet);
  // The kubelet's plugins start through tskube-cni-exec, as on a node set up by scripts/setup.
  const exec = new HelperPluginExec(join(nativeBinDir(), 'tskube-cni-exec'), { prefix: ['ip', 'netns', 'exec', host.hostNs] });
  return {
    host,
    runtime,
    runtimeConfDir,
    runtimeBinDir,
    exec,
    kubeletArgs: [
      '--network-plugin',
      'cni',
      '--cni-conf-dir',
      host.confDir,
      '--cni-bin-dir',
      `${host.fakePluginDir},${set.dir}`,
      '--cni-cache-dir',
      host.cacheDir,
    ],
    writeChain(name, octet, extra = [], o = {}) {
      const doc = {
        cniVersion: '1.1.0',
        cniVersions: ['0.4.0', '1.0.0', '1.1.0'],
        name,
        plugins: [
          {
            type: 'bridge',
            bridge: bridgeOf(octet),
            isGateway: true,
            hairpinMode: true,
            // host-local puts the Node's ranges (ipRanges) before its own: a chain that takes them has none.
            ipam: {
              type: 'host-local',
              dataDir: host.dataDir,
              ...(o.ipRanges ? {} : { ranges: [[{ subnet: `10.88.${octet}.0/24` }]] }),
              routes: [{ dst: '0.0.0.0/0' }],
            },
            ...(o.ipRanges ? { capabilities: { ipRanges: true } } : {}),
          },
          { type: 'portmap', capabilities: { portMappings: true } },
          { type: 'bandwidth', capabilities: { bandwidth: true } },
          ...extra,
        ],
      };
      const file = join(host.confDir, o.file ?? `10-${name}.conflist`);
      writeFileSync(file, JSON.stringify(doc, null, 2));
      return file;
    },
    async destroy() {
      // containerd 1.6 keeps its CNI cache in the machine's /var/lib/cni whatever its root:
      // the shim network's entries of sandboxes it still had (their DEL could not reach a
      // kubelet that was already gone) go with it.
      // And their network namespaces: containerd deletes one only once the sandbox's CNI DEL
      // succeeded, which through the shim needs the kubelet, gone by now.
      const cri = new CriClient({ endpoint: runtime.endpoint, timeoutMs: 10_000 });
      const ids = await cri.runtime.call('ListPodSandbox', {}).then(
        (r) => r.items.map((s) => s.id),
        () => [],
      );
      const netnsNames = await Promise.all(ids.map((id) => sandboxNetns(cri, id).catch(() => undefined)));
      cri.close();
      await runtime.destroy();
      for (const id of ids) rmSync(join(defaultCacheDir, 'results', `tskube-${id}-eth0`), { force: true });
      for (const name of netnsNames) if (name && existsSync(join('/var/run/netns', name))) ip('netns', 'delete', name);
      exec.close();
      host.destroy();
    },
  };
}

/** A sandbox's network namespace name under /var/run/netns, from its verbose status. */
export async function sandboxNetns(cri: CriClient, podSandboxId: string): Promise<string> {
  const { info } = await cri.runtime.call('PodSandboxStatus', { podSandboxId, verbose: true });
  const spec = JSON.parse(info['info'] ?? '{}') as { runtimeSpec?: { linux?: { namespaces?: { type: string; path?: string }[] } } };
  const path = spec.runtimeSpec?.linux?.namespaces?.find((n) => n.type === 'network')?.path;
  if (!path) throw new Error(`sandbox ${podSandboxId}: no network namespace in the verbose status`);
  return basename(path);
}

/** What an attachment leaves behind in the rig: veths in the test host, host-local leases, cache entries, the kubelet's records. */
export function leftovers(rig: CniRig, network: string, kubeletRoot: string): { veths: string[]; leases: string[]; cache: string[]; records: string[] } {
  let records: string[] = [];
  try {
    records = readdirSync(join(kubeletRoot, 'cni', 'attachments')).filter((f) => !f.startsWith('.'));
  } catch {
    // no records folder yet
  }
  return {
    veths: rig.host.veths(),
    leases: rig.host.leases(network),
    cache: rig.host.cacheEntries().filter((f) => f.startsWith(`${network}-`)),
    records,
  };
}

/** The source of a fake plugin run by Node: stdin parsed into `conf`, `cmd` the CNI_COMMAND, VERSION answered, then `body`. */
export function nodePluginSource(body: string): string {
  return `const fs = require('node:fs');
       const conf = JSON.parse(fs.readFileSync(0, 'utf8'));
       const cmd = process.env.CNI_COMMAND;
       if (cmd === 'VERSION') { console.log(JSON.stringify({ cniVersion: '1.1.0', supportedVersions: ['0.4.0', '1.0.0', '1.1.0'] })); process.exit(0); }
       ${body}`;
}

export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Runs the shim as a runtime does: the CNI_* environment, the plugin config on stdin; returns what it printed and its exit code. */
export function runShim(shim: string, env: Record<string, string>, stdin: string, timeoutMs = 30_000): Promise<{ exitCode: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(shim, [], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['pipe', 'pipe', 'inherit'], timeout: timeoutMs });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ exitCode, stdout }));
    child.stdin.end(stdin);
  });
}

/** The plugin config a runtime hands the shim for the kubelet's 00-tskube.conflist (name and version injected, capabilities dropped). */
export function shimStdin(rig: CniRig): string {
  const list = JSON.parse(readFileSync(join(rig.runtimeConfDir, '00-tskube.conflist'), 'utf8')) as { name: string; plugins: Record<string, unknown>[] };
  const { capabilities: _capabilities, ...plugin } = list.plugins[0] ?? {};
  return JSON.stringify({ ...plugin, name: list.name, cniVersion: '1.0.0' });
}

/**
 * The kubelet as its own process (bundled from src/ with esbuild into the rig's folder), run
 * inside the test host namespace so the plugins it starts land there: for tests that kill it.
 */
export class KubeletProcess {
  readonly dir: string;
  readonly manifests: string;
  readonly root: string;
  readonly #args: string[];
  readonly #log: string;
  #child: ChildProcess | undefined;

  constructor(o: { dir: string; entry: string; configPath: string; nodeName: string; hostNs: string; args: string[] }) {
    this.dir = o.dir;
    this.manifests = join(o.dir, 'manifests');
    this.root = join(o.dir, 'root');
    this.#log = join(o.dir, 'kubelet.log');
    this.#args = [
      `--net=/run/netns/${o.hostNs}`,
      '--',
      process.execPath,
      o.entry,
      'kubelet',
      '--config',
      o.configPath,
      '--root-dir',
      this.root,
      '--hostname-override',
      o.nodeName,
      ...o.args,
    ];
  }

  start(): void {
    const out = openSync(this.#log, 'a');
    this.#child = spawn('nsenter', this.#args, { stdio: ['ignore', out, out], env: { ...process.env, TSKUBE_LOG_LEVEL: 'info' } });
    closeSync(out);
  }

  /** SIGKILL: no cleanup of any kind, as when the machine's OOM killer or an operator ends it. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  log(): string {
    return readText(this.#log);
  }
}

/** Bundles the CLI from src/ (what `npm run build` makes, in one file) for tests that run the kubelet as a process. */
export async function bundleCli(outdir: string): Promise<string> {
  const { build } = await import('esbuild');
  const outfile = join(outdir, 'tskube.mjs');
  await build({
    absWorkingDir: repoRoot,
    entryPoints: ['src/cli/tskube.ts'],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    banner: { js: "import { createRequire as __tskubeCreateRequire } from 'node:module'; const require = __tskubeCreateRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  return outfile;
}
