/*
 * Kubelet-managed pod networking (--network-plugin=cni, docs/cni.md): the runtime's CNI
 * config holds one network whose one plugin is tskube-cni-shim; the shim forwards every
 * call here over a unix socket, and the kubelet runs the real chain from --cni-conf-dir
 * with the CNI library.
 *
 *   runtime ──exec──► tskube-cni-shim ──<root-dir>/cni/cni.sock──► PodNetwork.handle
 *                                                                    │ ADD:  record, chain ADD (pod's hostPorts, bandwidth, podCIDR), IPs
 *                                                                    │ DEL:  chain DEL with the network of the record, drop the record
 *                                                                    │ CHECK, STATUS, GC
 *   run(): every 5 s re-read the config (a broken one keeps the last good network in force),
 *          check the runtime will call the shim, ask STATUS → condition() for Node Ready;
 *          GC at start and every hour: DEL what belongs to no READY sandbox.
 */
import { access, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { TskubeError } from '../../common/errors.js';
import { sleep } from '../../common/sleep.js';
import { AttachmentLocks } from '../../cni/attachment-locks.js';
import { Cni, type CniTimeouts, networkOfCacheEntry } from '../../cni/cni.js';
import { scanConfigDir } from '../../cni/config/config-dir.js';
import { selectNetwork } from '../../cni/config/select-network.js';
import type { AttachmentKey, NetworkConfig } from '../../cni/network-config.js';
import type { PluginExec } from '../../cni/plugin-exec.js';
import { sandboxAddresses } from '../../cni/result.js';
import { type CacheEntry, readCacheEntry } from '../../cni/result-cache.js';
import { ShimServer } from '../../cni/shim-server.js';
import type { ShimReply, ShimRequest } from '../../cni/shim-protocol.js';
import { specVersions } from '../../cni/version.js';
import type { RuntimeCondition } from '../node/node-facts.js';
import type { CriRuntime } from '../runtime/cri-runtime.js';
import { AttachmentRecords } from './attachment-records.js';
import { type NetworkHealth, networkCondition } from './network-condition.js';
import { podAttachment } from './pod-attachment.js';
import { askRuntimeCniDirs, type RuntimeCniDirs } from './runtime-cni-dirs.js';
import { cniArg, readShimCall, type ShimCall, ShimCallError } from './shim-call.js';
import { runtimePlacementProblem, shimConfigFileName, shimConflist, shimNetworkName, shimPluginType } from './shim-config.js';
import { emptyReply, errorReply, resultReply } from './shim-reply.js';

export interface PodNetworkSettings {
  /** --cni-conf-dir: the real chain (not the runtime's folder). */
  confDir: string;
  /** --cni-bin-dir. */
  binDirs: string[];
  /** --cni-cache-dir: libcni's cache root, shared with the runtime and cnitool. */
  cacheDir: string;
  /** --cni-runtime-conf-dir; empty: where the runtime says it reads its config. */
  runtimeConfDir: string;
  /** How plugins are run; tests run them in a network namespace of their own. */
  exec?: PluginExec;
  timeouts?: Partial<CniTimeouts>;
}

export interface PodNetworkOptions {
  settings: PodNetworkSettings;
  /** <root-dir>/cni: the socket and the attachment records. */
  stateDir: string;
  runtime: CriRuntime;
  /** The pod a sandbox is for, by UID; undefined for one the kubelet did not make. */
  pod: (uid: string) => V1Pod | undefined;
  /** The Node's pod CIDRs; undefined standalone (no Node). */
  podCIDRs: () => Promise<string[] | undefined>;
  events: { normal(reason: string, message: string): void; warning(reason: string, message: string): void };
  log: Logger;
  checkPeriodMs?: number;
  gcPeriodMs?: number;
}

/** An ADD started this long ago whose sandbox is still not READY is fair game for GC (RunPodSandbox has long given up). */
const addGraceMs = 10 * 60_000;

export class PodNetwork {
  readonly socketPath: string;
  readonly #o: PodNetworkOptions;
  readonly #cni: Cni;
  readonly #records: AttachmentRecords;
  readonly #server: ShimServer;
  /**
   * ADD, CHECK and DEL per sandbox; GC alone. GC decides what is stale from a snapshot (the
   * runtime's READY sandboxes, the ADDs in flight): an ADD that started after the snapshot
   * would be taken for a leak and DELeted (it was, at start, for the first pods).
   */
  readonly #locks = new AttachmentLocks();
  #network: NetworkConfig | undefined;
  #runtimeDirs: RuntimeCniDirs | undefined;
  #health: NetworkHealth = { noNetwork: 'not checked yet' };
  #configProblem: string | undefined;
  /** Pod IPs of sandboxes this kubelet ADDed, from the results. */
  readonly #ips = new Map<string, string[]>();
  /** Sandboxes whose ADD this process started (and when): GC leaves them alone while RunPodSandbox may still be running. */
  readonly #adding = new Map<string, number>();

  constructor(options: PodNetworkOptions) {
    this.#o = options;
    const s = options.settings;
    this.socketPath = join(options.stateDir, 'cni.sock');
    this.#cni = new Cni({
      pluginDirs: s.binDirs,
      cacheDir: s.cacheDir,
      ...(s.exec ? { exec: s.exec } : {}),
      ...(s.timeouts ? { timeouts: s.timeouts } : {}),
      logger: options.log,
    });
    this.#records = new AttachmentRecords(join(options.stateDir, 'attachments'));
    this.#server = new ShimServer({ socketPath: this.socketPath, handler: (r, signal) => this.handle(r, signal), log: options.log });
  }

  /** NetworkReady for the Node's Ready condition. */
  condition(): RuntimeCondition {
    return networkCondition(this.#health);
  }

  /** The pod IPs of a sandbox from its ADD result; undefined when this kubelet did not ADD it. */
  podIPs(sandboxId: string): string[] | undefined {
    return this.#ips.get(sandboxId);
  }

  /**
   * Loads the config, listens on the socket and writes the shim's config into the runtime's
   * folder: after this the runtime's calls reach the kubelet. Run it before pods start.
   */
  async start(signal: AbortSignal): Promise<void> {
    await mkdir(this.#o.stateDir, { recursive: true, mode: 0o700 });
    await this.#refreshConfig();
    await this.#server.listen();
    this.#runtimeDirs = await this.#runtimeCniDirs(signal);
    await this.#installShimConfig();
    this.#o.log.info(
      {
        socket: this.socketPath,
        confDir: this.#o.settings.confDir,
        network: this.#network?.name,
        runtimeConfDir: this.#runtimeDirs.confDir,
        from: this.#runtimeDirs.source,
      },
      'pod network: the kubelet runs the CNI plugins',
    );
  }

  /** GC at start, then the periodic checks and GC, until the signal aborts; closes the socket then. */
  async run(signal: AbortSignal): Promise<void> {
    const checkMs = this.#o.checkPeriodMs ?? 5000;
    const gcMs = this.#o.gcPeriodMs ?? 60 * 60_000;
    try {
      await this.check(signal);
      await this.collect(signal);
      let lastGc = Date.now();
      while (!signal.aborted) {
        await sleep(checkMs, signal);
        if (signal.aborted) break;
        await this.check(signal);
        if (Date.now() - lastGc >= gcMs) {
          await this.collect(signal);
          lastGc = Date.now();
        }
      }
    } finally {
      await this.close();
    }
  }

  /** Stops answering the shim (the runtime's calls fail with "try again later" until a kubelet listens again). */
  async close(): Promise<void> {
    await this.#server.close();
  }

  /** One call from the shim. Never throws: every failure is the spec's error object. */
  async handle(request: ShimRequest, signal: AbortSignal): Promise<ShimReply> {
    let call: ShimCall;
    try {
      call = readShimCall(request);
    } catch (err) {
      return errorReply(err, '1.0.0');
    }
    try {
      switch (call.command) {
        case 'ADD':
          return await this.#locks.forContainer(call.containerId, () => this.#add(call, signal));
        case 'DEL':
          await this.#locks.forContainer(call.containerId, () => this.#del(call, signal));
          return emptyReply;
        case 'CHECK':
          await this.#locks.forContainer(call.containerId, () => this.#checkAttachment(call, signal));
          return emptyReply;
        case 'STATUS':
          await this.#cni.status(this.#inForce(), { signal });
          return emptyReply;
        case 'GC':
          await this.collect(signal, call.validAttachments ?? []);
          return emptyReply;
        case 'VERSION':
          return { exitCode: 0, stdout: `${JSON.stringify({ cniVersion: call.version, supportedVersions: specVersions })}\n` };
      }
    } catch (err) {
      const e = TskubeError.from(err);
      this.#o.log.warn({ command: call.command, containerId: call.containerId.slice(0, 13), err: e.message }, 'pod network call failed');
      return errorReply(e, call.version);
    }
  }

  /**
   * DELs what belongs to no READY sandbox: the kubelet's own records first (an ADD cut short
   * by a crash has no cache entry), then the cache of the network in force, with plugin GC.
   * The runtime's list is the whole runtime's, not only the kubelet's pods: the cache is
   * shared, and a sandbox someone else made is not this kubelet's to tear down.
   */
  collect(signal: AbortSignal, alsoValid: readonly AttachmentKey[] = []): Promise<void> {
    return this.#locks.exclusive(() => this.#collect(signal, alsoValid));
  }

  async #collect(signal: AbortSignal, alsoValid: readonly AttachmentKey[]): Promise<void> {
    let ready: Set<string>;
    try {
      const { items } = await this.#o.runtime.runtime.call('ListPodSandbox', {}, { timeoutMs: 30_000, signal });
      ready = new Set(items.filter((s) => s.state === 'SANDBOX_READY').map((s) => s.id));
    } catch (err) {
      this.#o.log.warn({ err: TskubeError.from(err).message }, 'pod network GC skipped: cannot list the sandboxes');
      return;
    }
    const now = Date.now();
    for (const [id, started] of this.#adding) {
      if (now - started < addGraceMs) ready.add(id);
      else this.#adding.delete(id);
    }
    for (const a of alsoValid) ready.add(a.containerId);
    for (const record of await this.#records.list()) {
      if (ready.has(record.containerId)) continue;
      try {
        await this.#cni.del(
          networkOfCacheEntry(record),
          { containerId: record.containerId, ifName: record.ifName, netns: record.netns, args: record.cniArgs, capabilityArgs: record.capabilityArgs ?? {} },
          { signal },
        );
        await this.#records.remove(record);
        this.#ips.delete(record.containerId);
        this.#o.log.info(
          { network: record.networkName, containerId: record.containerId.slice(0, 13) },
          'pod network GC: deleted the attachment of a gone sandbox',
        );
      } catch (err) {
        this.#o.log.warn({ containerId: record.containerId.slice(0, 13), err: TskubeError.from(err).message }, 'pod network GC: DEL failed; will retry');
      }
    }
    const network = this.#network;
    if (!network) return;
    const valid: AttachmentKey[] = [...ready].map((containerId) => ({ containerId, ifName: 'eth0' }));
    const cached = (await this.#cni.listCache()).entries.filter((e) => e.networkName === network.name);
    for (const e of [...cached, ...(await this.#records.list())]) {
      if (ready.has(e.containerId) && !valid.some((v) => v.containerId === e.containerId && v.ifName === e.ifName))
        valid.push({ containerId: e.containerId, ifName: e.ifName });
    }
    const outcome = await this.#cni.gc(network, valid, { signal });
    if (outcome.deleted.length || outcome.errors.length) {
      this.#o.log.info(
        { network: network.name, deleted: outcome.deleted.map((d) => d.containerId.slice(0, 13)), errors: outcome.errors.map((e) => e.message) },
        'pod network GC',
      );
    }
  }

  async #add(call: ShimCall, signal: AbortSignal): Promise<ShimReply> {
    // A config fixed (or broken) since the last check counts for this pod already.
    await this.#refreshConfig();
    const network = this.#inForce();
    const podCIDRs = await this.#o.podCIDRs();
    const rangesProblem = podCIDRs ? podCidrProblem(network, podCIDRs) : undefined;
    if (rangesProblem) throw new ShimCallError(11, rangesProblem);
    const uid = cniArg(call, 'K8S_POD_UID');
    const pod = uid ? this.#o.pod(uid) : undefined;
    const attachment = podAttachment({ call, pod, podCIDRs: podCIDRs ?? [] });
    this.#adding.set(call.containerId, Date.now());
    // The record goes in just before the first plugin runs: a kubelet killed during the ADD
    // leaves it for the next start's GC. After a failed ADD it stays: the runtime's cleanup
    // DEL (or that GC) removes it. An ADD refused before any plugin ran (a binary missing)
    // leaves none, so that DEL has nothing to run.
    const { result } = await this.#cni.add(network, attachment, { signal, beforeChain: () => this.#records.write(network, attachment) });
    const ips = sandboxAddresses(result, call.ifName);
    this.#ips.set(call.containerId, ips);
    this.#o.log.info(
      { pod: pod ? `${pod.metadata?.namespace}/${pod.metadata?.name}` : undefined, containerId: call.containerId.slice(0, 13), ips },
      'pod network ADD',
    );
    return resultReply(result, call.version);
  }

  /**
   * Idempotent. The chain runs with the network and arguments of the ADD: the kubelet's record
   * (written before any plugin ran), else the result cache's entry. With neither, this kubelet
   * never started an ADD for the attachment and there is nothing to undo; running the chain
   * anyway could fail (host-local without the ipRanges of an ADD has no range to read) and
   * leave the runtime unable to remove the sandbox.
   */
  async #del(call: ShimCall, signal: AbortSignal): Promise<void> {
    const key = { containerId: call.containerId, ifName: call.ifName };
    const record = await this.#records.read(key);
    const cached = record ? undefined : await this.#cachedEntry(key);
    const made = record ?? cached;
    if (made) {
      await this.#cni.del(
        networkOfCacheEntry(made),
        { ...key, netns: call.netns || made.netns, args: made.cniArgs, capabilityArgs: made.capabilityArgs ?? {} },
        { signal },
      );
    }
    await this.#records.remove(key);
    this.#ips.delete(call.containerId);
    this.#adding.delete(call.containerId);
  }

  /** The result cache's entry of an attachment in the network in force (made by a kubelet before the records, or by cnitool). */
  async #cachedEntry(key: AttachmentKey): Promise<(CacheEntry & { file: string }) | undefined> {
    const network = this.#network;
    if (!network) return undefined;
    const cached = await readCacheEntry(this.#cni.cacheDir, network.name, key);
    return cached?.kind === 'entry' ? { ...cached.entry, file: network.file } : undefined;
  }

  async #checkAttachment(call: ShimCall, signal: AbortSignal): Promise<void> {
    const key = { containerId: call.containerId, ifName: call.ifName };
    const record = await this.#records.read(key);
    await this.#cni.check(record ? networkOfCacheEntry(record) : this.#inForce(), { ...key, netns: call.netns }, { signal });
  }

  #inForce(): NetworkConfig {
    if (this.#network) return this.#network;
    throw new ShimCallError(7, this.#configProblem ?? `no CNI network config in ${this.#o.settings.confDir}`);
  }

  /** Re-reads --cni-conf-dir. A folder that yields no usable network keeps the last good one in force. */
  async #refreshConfig(): Promise<void> {
    const { confDir } = this.#o.settings;
    let problem: string | undefined;
    try {
      const { network, skipped } = selectNetwork(await scanConfigDir(confDir));
      if (network.name === shimNetworkName) {
        problem = `${network.file}: name: "${shimNetworkName}" is the shim's network in the runtime's folder; give the kubelet's network another name`;
      } else {
        const same = this.#network?.file === network.file && this.#network.bytes.equals(network.bytes);
        if (!same) {
          this.#o.log.info({ network: network.name, file: network.file, plugins: network.plugins.map((p) => p.type) }, 'pod network config in force');
        }
        this.#network = network;
        if (skipped.length) problem = `passed over: ${skipped.map((s) => s.reason).join('; ')}`;
      }
    } catch (err) {
      problem = TskubeError.from(err).detail;
    }
    if (problem !== this.#configProblem) {
      if (problem) {
        const keeping = this.#network ? `; network "${this.#network.name}" from ${this.#network.file} stays in force` : '';
        this.#o.log.warn({ confDir, problem }, 'pod network config problem');
        this.#o.events.warning('NetworkConfigInvalid', `${problem}${keeping}`);
      }
      this.#configProblem = problem;
    }
  }

  async #runtimeCniDirs(signal: AbortSignal): Promise<RuntimeCniDirs> {
    const asked = await askRuntimeCniDirs(this.#o.runtime, signal);
    const flag = this.#o.settings.runtimeConfDir;
    return flag ? { ...asked, confDir: flag, source: '--cni-runtime-conf-dir' } : asked;
  }

  /** Writes 00-tskube.conflist into the runtime's folder when it is missing or not what it should be. */
  async #installShimConfig(): Promise<void> {
    const dirs = this.#runtimeDirs;
    if (!dirs) return;
    const file = join(dirs.confDir, shimConfigFileName);
    const want = shimConflist(this.socketPath);
    if ((await readFile(file, 'utf8').catch(() => '')) === want) return;
    await mkdir(dirs.confDir, { recursive: true, mode: 0o755 });
    await writeFileAtomic(file, want, 0o644);
    this.#o.log.info({ file, socket: this.socketPath }, "pod network: wrote the shim's config for the runtime");
  }

  async #runtimeProblem(): Promise<string | undefined> {
    const dirs = this.#runtimeDirs;
    if (!dirs) return 'the runtime has not been asked where its CNI config is yet';
    await this.#installShimConfig().catch((err: unknown) => this.#o.log.warn({ err: TskubeError.from(err).message }, 'writing the shim config failed'));
    const file = join(dirs.confDir, shimConfigFileName);
    const placement = runtimePlacementProblem(await scanConfigDir(dirs.confDir), file);
    if (placement) return placement;
    if (dirs.binDirs.length && !(await anyExists(dirs.binDirs.map((d) => join(d, shimPluginType))))) {
      return `${shimPluginType} is not installed in the runtime's CNI plugin folder ${dirs.binDirs.join(':')} (scripts/setup installs it into /usr/lib/cni)`;
    }
    return undefined;
  }

  /** Re-reads the config, checks the runtime side and asks STATUS; logs when the condition changes. */
  async check(signal: AbortSignal): Promise<void> {
    const before = this.condition();
    await this.#refreshConfig();
    const network = this.#network;
    const health: NetworkHealth = {
      noNetwork: network ? undefined : (this.#configProblem ?? 'no network config'),
      runtime: await this.#runtimeProblem(),
    };
    const podCIDRs = await this.#o.podCIDRs().catch(() => undefined);
    if (network && podCIDRs) health.podCidr = podCidrProblem(network, podCIDRs);
    if (network) {
      try {
        await this.#cni.status(network, { signal: AbortSignal.any([signal, AbortSignal.timeout(15_000)]) });
      } catch (err) {
        if (signal.aborted) return;
        health.status = TskubeError.from(err).detail;
      }
    }
    this.#health = health;
    const after = this.condition();
    if (after.ok !== before.ok || after.message !== before.message) {
      if (after.ok) this.#o.log.info('pod network ready');
      else this.#o.log.warn({ reason: after.reason }, after.message);
    }
  }
}

/** Why ADD must wait: the chain takes the Node's pod CIDR (ipRanges) and the Node has none yet. */
function podCidrProblem(network: NetworkConfig, podCIDRs: readonly string[]): string | undefined {
  if (podCIDRs.length) return undefined;
  const taker = network.plugins.find((p) => p.capabilities['ipRanges']);
  return taker ? `the Node has no spec.podCIDR yet, and plugin "${taker.type}" from ${taker.source} takes its address range from it (ipRanges)` : undefined;
}

async function anyExists(paths: string[]): Promise<boolean> {
  for (const p of paths)
    if (
      await access(p).then(
        () => true,
        () => false,
      )
    )
      return true;
  return false;
}
