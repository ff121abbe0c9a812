// The library's face (what libcni's CNIConfig is): ADD, CHECK, DEL, GC, STATUS and
// VERSION of a network configuration for an attachment, with the result cache kept
// in libcni's format. The decisions are the pure functions in plan.ts, request.ts,
// plugin-output.ts and result.ts; this file runs them in order against PluginExec.
//
//   ADD:   find every binary first (an unknown type runs nothing), negotiate the
//          version, run the chain with each result as the next prevResult, cache the
//          last; on failure DEL the whole chain again so nothing leaks.
//   CHECK: the chain in order with the cached result as prevResult.
//   DEL:   the chain in reverse with the cached result (and the cached CNI_ARGS and
//          capability arguments when the caller has none: portmap needs them to find
//          its rules), then drop the cache entry.
//   GC:    DEL every cached attachment of the network that is not in the valid set,
//          then GC on every plugin (1.1.0+), collecting errors instead of stopping.
import type { Logger } from 'pino';
import { TskubeError } from '../common/errors.js';
import { AttachmentLocks } from './attachment-locks.js';
import { checkAttachmentKey } from './attachment-checks.js';
import { CniError, type InvocationContext } from './cni-error.js';
import { parseNetworkConfig } from './config/parse-network-config.js';
import type { Attachment, AttachmentKey, NetworkConfig, PluginConfig } from './network-config.js';
import { chainOrder, commandGate, delUsesPrevResult, negotiateVersion, type PluginStep, staleAttachments } from './plan.js';
import { defaultPluginExec } from './helper-exec.js';
import type { PluginBinary, PluginExec } from './plugin-exec.js';
import { readAddResult, successOutput } from './plugin-output.js';
import { type CniCommand, pluginEnv, pluginStdin, versionStdin } from './request.js';
import { type CniResult, parseResult, renderResult } from './result.js';
import {
  attachmentCacheEntry,
  type CacheEntry,
  type CacheListing,
  defaultCacheDir,
  listCacheEntries,
  readCacheEntry,
  removeCacheEntry,
  writeCacheEntry,
} from './result-cache.js';
import { parseVersion } from './version.js';

export interface CniTimeouts {
  /** Per plugin invocation of ADD, CHECK, DEL and GC. */
  defaultMs: number;
  /** VERSION and STATUS: quick questions. */
  queryMs: number;
  /** Overrides by plugin type, for a plugin known to be slow (dhcp). */
  byPlugin?: Readonly<Record<string, number>>;
}

export const defaultTimeouts: CniTimeouts = { defaultMs: 60_000, queryMs: 10_000 };

export interface CniOptions {
  /** Where plugin binaries are looked for, in order (CNI_PATH). */
  pluginDirs: readonly string[];
  /** The cache root; results go to `<cacheDir>/results`. Default /var/lib/cni, as libcni. */
  cacheDir?: string;
  /** How plugins are started; default defaultPluginExec(): the helper tskube-cni-exec when installed. */
  exec?: PluginExec;
  /** The environment plugins inherit (PATH for iptables and friends). Default: this process's. */
  env?: Readonly<Record<string, string | undefined>>;
  timeouts?: Partial<CniTimeouts>;
  logger?: Logger;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface AddOptions extends CallOptions {
  /**
   * Called once every binary is found and the version settled, just before the first plugin
   * runs: the place to record that an attachment may exist (an ADD that fails earlier left nothing).
   */
  beforeChain?: () => Promise<void>;
}

export interface AddOutcome {
  result: CniResult;
  /** The version the chain spoke (and the cached result is written in). */
  version: string;
}

export type SkippableOutcome = { ran: true; version: string } | { ran: false; version: string; reason: string };

export interface GcOutcome {
  ran: boolean;
  reason?: string;
  /** Cached attachments that were stale and deleted. */
  deleted: AttachmentKey[];
  /** Everything that failed; GC carries on past each (SPEC: "continue"). */
  errors: TskubeError[];
}

export class Cni {
  readonly pluginDirs: readonly string[];
  readonly cacheDir: string;
  #exec: PluginExec;
  #env: Readonly<Record<string, string | undefined>>;
  #timeouts: CniTimeouts;
  #logger: Logger | undefined;
  #locks = new AttachmentLocks();
  #versions = new Map<string, { binary: PluginBinary; supported: Promise<string[]> }>();

  constructor(options: CniOptions) {
    if (options.pluginDirs.length === 0) throw new TskubeError('invalid-argument', 'CNI plugin path: no folders given (CNI_PATH is empty)');
    this.pluginDirs = [...options.pluginDirs];
    this.cacheDir = options.cacheDir ?? defaultCacheDir;
    this.#exec = options.exec ?? defaultPluginExec();
    this.#env = options.env ?? process.env;
    this.#timeouts = { ...defaultTimeouts, ...options.timeouts };
    this.#logger = options.logger;
  }

  async add(network: NetworkConfig, attachment: Attachment, options: AddOptions = {}): Promise<AddOutcome> {
    checkAttachmentKey(attachment);
    if (!attachment.netns) throw new TskubeError('invalid-argument', 'ADD needs the network namespace path');
    return this.#locks.forContainer(attachment.containerId, async () => {
      const binaries = await this.#findAll(network, 'ADD');
      const version = await this.#negotiate(network, binaries, options);
      await options.beforeChain?.();
      let result: CniResult | undefined;
      try {
        for (const step of chainOrder('ADD', network)) {
          const prevResult = result ? renderResult(result, version) : undefined;
          const stdout = await this.#invoke('ADD', network, step, binaries, version, { attachment, prevResult, signal: options.signal });
          result = readAddResult(stdout, this.#context('ADD', network, step, binaries), version);
        }
        const final = result as CniResult;
        await writeCacheEntry(this.cacheDir, attachmentCacheEntry(network, attachment, renderResult(final, version))).catch((err: unknown) => {
          throw TskubeError.from(err).wrap(`network "${network.name}": saving the ADD result in ${this.cacheDir}/results`);
        });
        this.#logger?.info(
          { network: network.name, containerId: attachment.containerId, ifName: attachment.ifName, ips: final.ips.map((i) => i.address) },
          'CNI ADD done',
        );
        return { result: final, version };
      } catch (err) {
        throw await this.#rollBack(network, attachment, binaries, version, TskubeError.from(err));
      }
    });
  }

  async check(network: NetworkConfig, attachment: Attachment, options: CallOptions = {}): Promise<SkippableOutcome> {
    checkAttachmentKey(attachment);
    return this.#locks.forContainer(attachment.containerId, async () => {
      const binaries = await this.#findAll(network, 'CHECK');
      const version = await this.#negotiate(network, binaries, options);
      const gate = commandGate('CHECK', network, version);
      if (!gate.run) return { ran: false, version, reason: gate.reason };
      const cached = await readCacheEntry(this.cacheDir, network.name, attachment);
      const prevResult = cached ? cachedResultAs(cached, version) : undefined;
      if (!prevResult) {
        throw new TskubeError(
          'not-found',
          `CHECK of network "${network.name}" for container ${attachment.containerId} ${attachment.ifName}: no cached ADD result in ${this.cacheDir}/results, and CHECK needs it`,
        );
      }
      const entry = cached?.kind === 'entry' ? cached.entry : undefined;
      const withCached = withCachedArgs(attachment, entry);
      for (const step of chainOrder('CHECK', network)) {
        await this.#invoke('CHECK', network, step, binaries, version, { attachment: withCached, prevResult, signal: options.signal });
      }
      return { ran: true, version };
    });
  }

  async del(network: NetworkConfig, attachment: Attachment, options: CallOptions = {}): Promise<void> {
    checkAttachmentKey(attachment);
    await this.#locks.forContainer(attachment.containerId, () => this.#del(network, attachment, options));
  }

  async gc(network: NetworkConfig, valid: readonly AttachmentKey[], options: CallOptions = {}): Promise<GcOutcome> {
    return this.#locks.exclusive(async () => {
      if (network.disableGC) return { ran: false, reason: 'disableGC is set', deleted: [], errors: [] };
      const outcome: GcOutcome = { ran: true, deleted: [], errors: [] };
      const listing = await listCacheEntries(this.cacheDir);
      for (const entry of staleAttachments(listing.entries, network.name, valid)) {
        const attachment: Attachment = {
          containerId: entry.containerId,
          ifName: entry.ifName,
          netns: entry.netns,
          args: entry.cniArgs,
          capabilityArgs: entry.capabilityArgs ?? {},
        };
        try {
          await this.#del(network, attachment, options);
          outcome.deleted.push({ containerId: entry.containerId, ifName: entry.ifName });
        } catch (err) {
          outcome.errors.push(TskubeError.from(err).wrap(`GC: deleting stale attachment ${entry.containerId} ${entry.ifName}`));
        }
      }
      let binaries: Map<PluginConfig, PluginBinary>;
      let version: string;
      try {
        binaries = await this.#findAll(network, 'GC');
        version = await this.#negotiate(network, binaries, options);
      } catch (err) {
        outcome.errors.push(TskubeError.from(err));
        return outcome;
      }
      const gate = commandGate('GC', network, version);
      if (!gate.run) return { ...outcome, reason: `plugins not asked: ${gate.reason}` };
      for (const step of chainOrder('GC', network)) {
        try {
          await this.#invoke('GC', network, step, binaries, version, { validAttachments: valid, signal: options.signal });
        } catch (err) {
          outcome.errors.push(TskubeError.from(err));
        }
      }
      return outcome;
    });
  }

  /** Resolves when the network can serve ADD (or its version has no STATUS); throws the first plugin's error otherwise. */
  async status(network: NetworkConfig, options: CallOptions = {}): Promise<SkippableOutcome> {
    const binaries = await this.#findAll(network, 'STATUS');
    const version = await this.#negotiate(network, binaries, options);
    const gate = commandGate('STATUS', network, version);
    if (!gate.run) return { ran: false, version, reason: gate.reason };
    for (const step of chainOrder('STATUS', network)) {
      await this.#invoke('STATUS', network, step, binaries, version, { signal: options.signal });
    }
    return { ran: true, version };
  }

  /** The versions a plugin binary says it speaks (asked once per binary as long as it is unchanged). */
  async pluginVersions(type: string, options: CallOptions = {}): Promise<{ binary: PluginBinary; supported: string[] }> {
    const binary = await this.#exec.find(type, this.pluginDirs);
    if (!binary) throw new TskubeError('not-found', `no plugin binary "${type}" in ${this.pluginDirs.join(':')}`);
    return { binary, supported: await this.#supported(binary, type, options) };
  }

  /**
   * Whether the network can run here: every plugin binary present, and a version they
   * all speak. Returns the problems (empty when it can), each naming plugin and file.
   */
  async validate(network: NetworkConfig, options: CallOptions = {}): Promise<{ version?: string; problems: string[] }> {
    const problems: string[] = [];
    const binaries = new Map<PluginConfig, PluginBinary>();
    for (const plugin of network.plugins) {
      const binary = await this.#exec.find(plugin.type, this.pluginDirs);
      if (binary) binaries.set(plugin, binary);
      else problems.push(missingBinary(plugin, this.pluginDirs, true));
    }
    if (problems.length) return { problems };
    try {
      const versions = await Promise.all(
        network.plugins.map(async (plugin) => ({ plugin, supported: await this.#supported(binaries.get(plugin) as PluginBinary, plugin.type, options) })),
      );
      return { version: negotiateVersion(network, versions), problems };
    } catch (err) {
      return { problems: [TskubeError.from(err).detail] };
    }
  }

  /** What the result cache holds (every runtime's entries, not only ours). */
  listCache(): Promise<CacheListing> {
    return listCacheEntries(this.cacheDir);
  }

  /** The cached ADD result of an attachment, in the network's version; undefined when none. */
  async cachedResult(network: NetworkConfig, key: AttachmentKey): Promise<CniResult | undefined> {
    const cached = await readCacheEntry(this.cacheDir, network.name, key);
    const json = cached ? cachedResultAs(cached, network.cniVersion) : undefined;
    return json ? parseResult(json, network.cniVersion, 'cached result') : undefined;
  }

  async #del(network: NetworkConfig, attachment: Attachment, options: CallOptions): Promise<void> {
    const binaries = await this.#findAll(network, 'DEL');
    const version = await this.#negotiate(network, binaries, options);
    const cached = await readCacheEntry(this.cacheDir, network.name, attachment);
    const prevResult = cached && delUsesPrevResult(version) ? cachedResultAs(cached, version) : undefined;
    const withCached = withCachedArgs(attachment, cached?.kind === 'entry' ? cached.entry : undefined);
    for (const step of chainOrder('DEL', network)) {
      await this.#invoke('DEL', network, step, binaries, version, { attachment: withCached, prevResult, signal: options.signal });
    }
    await removeCacheEntry(this.cacheDir, network.name, attachment);
    this.#logger?.info({ network: network.name, containerId: attachment.containerId, ifName: attachment.ifName }, 'CNI DEL done');
  }

  /** After a failed ADD: DEL the whole chain (no prevResult: there is no final result), bounded by the per-plugin timeouts. */
  async #rollBack(
    network: NetworkConfig,
    attachment: Attachment,
    binaries: Map<PluginConfig, PluginBinary>,
    version: string,
    failure: TskubeError,
  ): Promise<TskubeError> {
    const problems: string[] = [];
    for (const step of chainOrder('DEL', network)) {
      try {
        await this.#invoke('DEL', network, step, binaries, version, { attachment });
      } catch (err) {
        problems.push(TskubeError.from(err).detail);
      }
    }
    await removeCacheEntry(this.cacheDir, network.name, attachment).catch(() => undefined);
    this.#logger?.warn(
      { network: network.name, containerId: attachment.containerId, err: failure.message, rollbackErrors: problems },
      'CNI ADD failed; deleted again',
    );
    const note = problems.length ? `; the DEL that followed failed too: ${problems.join('; ')}` : '; the attachment was deleted again';
    return failure instanceof CniError ? failure.withNote(note) : new TskubeError(failure.code, `${failure.detail}${note}`, { cause: failure });
  }

  async #invoke(
    command: CniCommand,
    network: NetworkConfig,
    step: PluginStep,
    binaries: Map<PluginConfig, PluginBinary>,
    version: string,
    input: {
      attachment?: Attachment;
      prevResult?: Record<string, unknown> | undefined;
      validAttachments?: readonly AttachmentKey[];
      signal?: AbortSignal | undefined;
    },
  ): Promise<string> {
    const binary = binaries.get(step.plugin) as PluginBinary;
    const ctx = this.#context(command, network, step, binaries);
    const stdin = pluginStdin({
      network,
      plugin: step.plugin,
      version,
      prevResult: input.prevResult,
      capabilityArgs: input.attachment?.capabilityArgs,
      validAttachments: input.validAttachments,
    });
    const timeoutMs = command === 'STATUS' ? this.#timeouts.queryMs : (this.#timeouts.byPlugin?.[step.plugin.type] ?? this.#timeouts.defaultMs);
    const env = pluginEnv(this.#env, command, this.pluginDirs, input.attachment);
    const started = performance.now();
    const run = await this.#exec.run(binary.path, { stdin, env, timeoutMs, ...(input.signal ? { signal: input.signal } : {}) });
    this.#logger?.debug(
      { command, plugin: step.plugin.type, network: network.name, ms: Math.round(performance.now() - started), exit: run.exitCode },
      'CNI plugin ran',
    );
    return successOutput(run, ctx, timeoutMs);
  }

  #context(command: CniCommand, network: NetworkConfig, step: PluginStep, binaries: Map<PluginConfig, PluginBinary>): InvocationContext {
    const binary = binaries.get(step.plugin)?.path;
    return { command, plugin: step.plugin.type, network: network.name, source: step.plugin.source, ...(binary ? { binary } : {}) };
  }

  /** Every plugin's binary, before anything runs: an unknown type fails the command with nothing done. */
  async #findAll(network: NetworkConfig, command: CniCommand): Promise<Map<PluginConfig, PluginBinary>> {
    const binaries = await Promise.all(network.plugins.map((plugin) => this.#exec.find(plugin.type, this.pluginDirs)));
    const found = new Map<PluginConfig, PluginBinary>();
    for (const [i, plugin] of network.plugins.entries()) {
      const binary = binaries[i];
      if (!binary) {
        throw new CniError('not-found', { command, plugin: plugin.type, network: network.name, source: plugin.source }, missingBinary(plugin, this.pluginDirs));
      }
      found.set(plugin, binary);
    }
    return found;
  }

  /** The config's one version as is; with several offered, the highest all plugins speak. */
  async #negotiate(network: NetworkConfig, binaries: Map<PluginConfig, PluginBinary>, options: CallOptions): Promise<string> {
    if (network.offeredVersions.length <= 1) return network.cniVersion;
    const versions = await Promise.all(
      network.plugins.map(async (plugin) => ({ plugin, supported: await this.#supported(binaries.get(plugin) as PluginBinary, plugin.type, options) })),
    );
    return negotiateVersion(network, versions);
  }

  #supported(binary: PluginBinary, type: string, options: CallOptions): Promise<string[]> {
    const known = this.#versions.get(binary.path);
    if (known && known.binary.mtimeMs === binary.mtimeMs && known.binary.size === binary.size) return known.supported;
    const supported = this.#askVersion(binary, type, options);
    this.#versions.set(binary.path, { binary, supported });
    supported.catch(() => this.#versions.delete(binary.path));
    return supported;
  }

  async #askVersion(binary: PluginBinary, type: string, options: CallOptions): Promise<string[]> {
    const ctx: InvocationContext = { command: 'VERSION', plugin: type, binary: binary.path, network: '-', source: binary.path };
    const env = pluginEnv(this.#env, 'VERSION', this.pluginDirs);
    const run = await this.#exec.run(binary.path, {
      stdin: versionStdin,
      env,
      timeoutMs: this.#timeouts.queryMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    let stdout: string;
    try {
      stdout = successOutput(run, ctx, this.#timeouts.queryMs);
    } catch (err) {
      // Plugins from before VERSION existed (spec 0.1.0) answer with this error.
      if (err instanceof CniError && err.cni?.msg === 'unknown CNI_COMMAND: VERSION') return ['0.1.0'];
      throw err;
    }
    return parseVersionInfo(stdout, ctx);
  }
}

/** The network config as it was at ADD time, from a cache entry: for a DEL after the file changed or went. */
export function networkOfCacheEntry(entry: CacheEntry & { file?: string }): NetworkConfig {
  return parseNetworkConfig(entry.config, `${entry.file ?? 'cache entry'} (cached config)`, 'conflist');
}

/** What a plugin's VERSION output says it speaks (libcni's PluginDecoder). */
export function parseVersionInfo(stdout: string, ctx: InvocationContext): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw new CniError('internal', ctx, `VERSION printed something that is not JSON: ${JSON.stringify(stdout.trim().slice(0, 120))}`);
  }
  const o = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
  const list = o['supportedVersions'];
  if (Array.isArray(list) && list.length && list.every((v) => typeof v === 'string' && parseVersion(v))) return list as string[];
  // A 0.2.0 plugin may name only its own version.
  if (o['cniVersion'] === '0.2.0' && list === undefined) return ['0.1.0', '0.2.0'];
  throw new CniError('internal', ctx, `VERSION printed no list of supported versions: ${JSON.stringify(stdout.trim().slice(0, 120))}`);
}

/** The cached result in `version`'s shape; undefined when there is none or it cannot be converted (libcni then drops it). */
function cachedResultAs(cached: Awaited<ReturnType<typeof readCacheEntry>>, version: string): Record<string, unknown> | undefined {
  const raw = cached?.kind === 'entry' ? cached.entry.result : cached?.kind === 'legacy-result' ? cached.result : undefined;
  if (!raw) return undefined;
  try {
    return renderResult(parseResult(raw, version, 'cached result'), version);
  } catch {
    return undefined;
  }
}

/** The caller's CNI_ARGS and capability arguments, or those cached at ADD when it gives none. */
function withCachedArgs(attachment: Attachment, entry: CacheEntry | undefined): Attachment {
  if (!entry) return attachment;
  return {
    ...attachment,
    netns: attachment.netns || entry.netns,
    args: attachment.args ?? entry.cniArgs,
    capabilityArgs: attachment.capabilityArgs ?? entry.capabilityArgs,
  };
}

function missingBinary(plugin: PluginConfig, dirs: readonly string[], withSource = false): string {
  return `no plugin binary "${plugin.type}" in CNI_PATH ${dirs.join(':')}${withSource ? ` (plugin from ${plugin.source})` : ''}`;
}
