// The iptables back end for one IP family: one `iptables-restore --noflush --counters`
// per sync. What the tables hold is kept in memory (iptables-save is read once, at start,
// for a previous run's chains and jumps: begun by checkSupport, so it runs while the
// informers list); a failed restore changes nothing, is counted, and makes the next sync
// a full one.
import { TskubeError } from '../../common/errors.js';
import type { BackendFailureCounters, ProxyBackend, SyncRequest, SyncResult } from '../backend.js';
import type { Exec } from '../exec/exec.js';
import type { ServicePort } from '../model/service-port.js';
import type { IPFamily } from '../net/ip.js';
import { hasJump, type Iptables, savedChains } from './iptables.js';
import { chains, iptPortChainNames, isIptServiceChain, jumpRules, largeClusterEndpointsThreshold } from './names.js';
import { type IptRenderedPort, renderIptServicePort } from './render-service.js';
import { baseText, emptyIptState, type IptInventory, type IptState, type IptSyncPlan, jumpKey, planIptFullSync, planIptPartialSync } from './sync-plan.js';

export interface IptablesProxierOptions {
  iptables: Iptables;
  family: IPFamily;
  /** For the sysctl localhost NodePorts need (route_localnet). */
  exec?: Exec;
  /**
   * Set net.ipv4.conf.all.route_localnet=1 at start (checkSupport), so NodePorts on 127.0.0.1
   * can be DNATed elsewhere: as upstream's NewProxier does with localhostNodePorts, before
   * and outside any sync. Best effort, as upstream.
   */
  routeLocalnet?: boolean;
  counters?: BackendFailureCounters & { partialFailed?(): void; rules?(table: 'filter' | 'nat', written: number): void };
}

export class IptablesProxier implements ProxyBackend {
  readonly mode = 'iptables' as const;
  readonly #o: IptablesProxierOptions;
  #state: IptState = emptyIptState();
  #started = false;
  #needFull = false;
  /** The tables as read at start, for the first full sync (taken once). */
  #startInventory: Promise<IptInventory> | undefined;

  constructor(options: IptablesProxierOptions) {
    this.#o = options;
  }

  get state(): IptState {
    return this.#state;
  }

  async checkSupport(signal?: AbortSignal): Promise<void> {
    await this.#o.iptables.save(this.#o.family, 'nat', signal);
    this.#startInventory = this.#inventory(signal);
    this.#startInventory.catch(() => undefined);
    if (this.#o.routeLocalnet && this.#o.exec) {
      await this.#o.exec.output('sysctl', ['-qw', 'net.ipv4.conf.all.route_localnet=1'], signal ? { signal } : {}).catch(() => undefined);
    }
  }

  /** Names the ports' chains as their Service arrives, as upstream's newServiceInfo: each sync then looks the names up. */
  portsRead(ports: readonly ServicePort[]): void {
    for (const p of ports) iptPortChainNames(p);
  }

  async sync(request: SyncRequest, signal?: AbortSignal): Promise<SyncResult> {
    const { config } = request;
    const full = request.full || !this.#started || this.#needFull || this.#state.baseText !== baseText(config);
    let plan: IptSyncPlan;
    if (full) {
      let endpoints = 0;
      for (const p of request.plans.values()) endpoints += p?.categorized.reachable.length ?? 0;
      const large = endpoints > largeClusterEndpointsThreshold;
      const ports = new Map<string, IptRenderedPort>();
      for (const [key, p] of request.plans) if (p) ports.set(key, renderIptServicePort(p, config, { large }));
      const inventory = this.#started ? undefined : await this.#takeStartInventory(signal);
      plan = planIptFullSync({ config, state: this.#state, ports, large, ...(inventory && { inventory }) });
    } else {
      const changes = new Map<string, IptRenderedPort | undefined>();
      for (const [key, p] of request.plans) changes.set(key, p ? renderIptServicePort(p, config, { large: this.#state.large }) : undefined);
      plan = planIptPartialSync(this.#state, changes);
    }
    const text = plan.script.toString();
    const started = performance.now();
    if (text !== '') {
      try {
        await this.#o.iptables.restore(this.#o.family, text, signal);
      } catch (err) {
        this.#o.counters?.syncFailed();
        if (!full) this.#o.counters?.partialFailed?.();
        this.#needFull = true;
        throw TskubeError.from(err);
      }
    }
    const kernelMs = Math.round(performance.now() - started);
    plan.commit();
    this.#started = true;
    if (full) this.#needFull = false;
    this.#o.counters?.rules?.('filter', plan.script.ruleCount('filter'));
    this.#o.counters?.rules?.('nat', plan.script.ruleCount('nat'));
    return { detail: { full, lines: plan.script.size, bytes: text.length, kernelMs } };
  }

  /** What checkSupport began reading, once; a fresh read after that (a failed first sync). */
  #takeStartInventory(signal?: AbortSignal): Promise<IptInventory> {
    const reading = this.#startInventory ?? this.#inventory(signal);
    this.#startInventory = undefined;
    return reading;
  }

  async #inventory(signal?: AbortSignal): Promise<IptInventory> {
    const [nat, filter] = await Promise.all([this.#o.iptables.save(this.#o.family, 'nat', signal), this.#o.iptables.save(this.#o.family, 'filter', signal)]);
    const jumps = new Set<string>();
    for (const j of jumpRules) if (hasJump(j.table === 'nat' ? nat : filter, j.from, j.to)) jumps.add(jumpKey(j));
    for (const from of ['INPUT', 'OUTPUT']) if (hasJump(filter, from, chains.kubeletFirewall)) jumps.add(`filter ${from} ${chains.kubeletFirewall}`);
    return { natChains: savedChains(nat), jumps };
  }

  async cleanup(signal?: AbortSignal): Promise<string[]> {
    return cleanupIptables(this.#o.iptables, this.#o.family, signal);
  }
}

/**
 * Removes kube-proxy's iptables chains and the jumps to them from the built-in chains,
 * as upstream's CleanupLeftovers: the jumps by their exact rule, then the chains kube-proxy
 * makes (flushed, then deleted). Unlike upstream, KUBE-FIREWALL goes too: upstream leaves it
 * to the kubelet, which makes it as well, but tskube's kubelet does not.
 * KUBE-KUBELET-CANARY stays.
 */
export async function cleanupIptables(iptables: Iptables, family: IPFamily, signal?: AbortSignal): Promise<string[]> {
  const removed: string[] = [];
  for (const table of ['nat', 'filter'] as const) {
    const saved = await iptables.save(family, table, signal);
    const fixed: string[] = [
      chains.services,
      chains.externalServices,
      chains.nodePorts,
      chains.postrouting,
      chains.markMasq,
      chains.forward,
      chains.proxyFirewall,
      chains.proxyCanary,
      chains.kubeletFirewall,
    ];
    const ours = [...savedChains(saved)].filter((c) => fixed.includes(c) || isIptServiceChain(c));
    if (ours.length === 0) continue;
    const lines = saved.split('\n').filter((l) => /^-A (PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) /.test(l) && ours.some((c) => l.endsWith(`-j ${c}`)));
    const script = [`*${table}`, ...ours.map((c) => `:${c} - [0:0]`), ...lines.map((l) => `-D${l.slice(2)}`), ...ours.map((c) => `-X ${c}`), 'COMMIT', ''].join(
      '\n',
    );
    await iptables.restore(family, script, signal);
    removed.push(...ours.map((c) => `${family === 'IPv4' ? 'iptables' : 'ip6tables'} ${table} chain ${c}`));
  }
  return removed;
}
