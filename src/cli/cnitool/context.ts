// What every cnitool subcommand shares: its I/O, the library built from the
// environment, the network by name, and the runtime's pod sandboxes (for cache and gc).
import { existsSync } from 'node:fs';
import { Cni } from '../../cni/cni.js';
import { scanConfigDir } from '../../cni/config/config-dir.js';
import { selectNetwork } from '../../cni/config/select-network.js';
import type { NetworkConfig } from '../../cni/network-config.js';
import type { PluginExec } from '../../cni/plugin-exec.js';
import { TskubeError } from '../../common/errors.js';
import type { CommandIo } from '../io.js';
import type { SandboxSummary } from './cache-report.js';
import type { CnitoolSettings } from './settings.js';

export interface CnitoolDeps {
  /** How plugins run; by default as child processes here (tests run them in a namespace of their own). */
  exec?: PluginExec;
  /** The runtime's pod sandboxes; by default ListPodSandbox through the CRI client. */
  sandboxes?: (runtimeEndpoint: string | undefined, io: CommandIo) => Promise<SandboxSummary[]>;
  netnsExists?: (path: string) => boolean;
}

export interface CnitoolContext {
  io: CommandIo;
  deps: CnitoolDeps;
}

export function newCni(ctx: CnitoolContext, settings: CnitoolSettings): Cni {
  return new Cni({ pluginDirs: settings.pluginDirs, cacheDir: settings.cacheDir, env: ctx.io.env, ...(ctx.deps.exec ? { exec: ctx.deps.exec } : {}) });
}

/** The network of that name in NETCONFPATH (.conflist first, as libcni looks). */
export async function loadNetwork(settings: CnitoolSettings, name: string): Promise<NetworkConfig> {
  return selectNetwork(await scanConfigDir(settings.confDir), { name }).network;
}

export function netnsExists(ctx: CnitoolContext, path: string): boolean {
  return (ctx.deps.netnsExists ?? existsSync)(path);
}

/** Every pod sandbox of the runtime, by ID. */
export async function liveSandboxes(ctx: CnitoolContext, runtimeEndpoint: string | undefined): Promise<Map<string, SandboxSummary>> {
  const list = await (ctx.deps.sandboxes ?? listSandboxes)(runtimeEndpoint, ctx.io);
  return new Map(list.map((s) => [s.id, s]));
}

/** Finds the runtime as `tskube crictl` does (flag, CONTAINER_RUNTIME_ENDPOINT, /etc/crictl.yaml, kubelet config, default sockets). */
async function listSandboxes(runtimeEndpoint: string | undefined, io: CommandIo): Promise<SandboxSummary[]> {
  const [{ resolveSettings }, { loadConfigFile, loadKubeletEndpoint }, { createContext }] = await Promise.all([
    import('../crictl/settings.js'),
    import('../crictl/settings-files.js'),
    import('../crictl/context.js'),
  ]);
  const [configFile, kubelet] = await Promise.all([loadConfigFile({}, io.env).catch(() => undefined), loadKubeletEndpoint().catch(() => undefined)]);
  const settings = resolveSettings({
    flags: runtimeEndpoint ? { runtimeEndpoint } : {},
    env: io.env,
    ...(configFile ? { configFile } : {}),
    ...(kubelet ? { kubelet } : {}),
  });
  const crictl = createContext(io, settings);
  try {
    const client = await crictl.client();
    const { items } = await client.runtime.call('ListPodSandbox', {}, { signal: io.signal });
    return items.map((p) => ({ id: p.id, ready: p.state === 'SANDBOX_READY', name: p.metadata?.name ?? '', namespace: p.metadata?.namespace ?? '' }));
  } catch (err) {
    throw TskubeError.from(err).wrap('listing the pod sandboxes, to tell live attachments from stale ones (--no-runtime counts none as live)');
  } finally {
    crictl.close();
  }
}
