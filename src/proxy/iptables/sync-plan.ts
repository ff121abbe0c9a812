// The iptables-restore script of a sync, from what the tables hold (IptState, in memory)
// and the ports' rendered rules. Pure; `commit` updates the state after the restore.
//
//   full     every kube-proxy chain declared (so flushed) and rewritten, as upstream does;
//            chains no port wants any more deleted; missing jumps from built-in chains added
//   partial  only the changed ports: their chains flushed and rewritten (or deleted), their
//            rules in the shared chains deleted by spec and added again. Upstream rewrites
//            all of KUBE-SERVICES on every sync; here a partial sync costs the change only.
//            New KUBE-SERVICES rules go in at the top, so the NodePort rule stays last.
import type { ProxyNodeConfig } from '../plan/node-config.js';
import { chains, type IptTable, isIptServiceChain, jumpRules, jumpRuleText } from './names.js';
import { type IptRenderedPort, localMatchIpt, masqueradeMark } from './render-service.js';
import { RestoreScript } from './restore-script.js';

export interface IptState {
  ports: Map<string, IptRenderedPort>;
  /** Per-port nat chains in the kernel. */
  chains: Set<string>;
  /** The fixed rules last written, as text: a change means a full sync. */
  baseText: string;
  large: boolean;
}

export function emptyIptState(): IptState {
  return { ports: new Map(), chains: new Set(), baseText: '', large: false };
}

export interface IptInventory {
  /** Chains found in the nat table. */
  natChains: ReadonlySet<string>;
  /** Jumps (by "table from to") already in the built-in chains. */
  jumps: ReadonlySet<string>;
}

export const jumpKey = (j: { table: string; from: string; to: string }) => `${j.table} ${j.from} ${j.to}`;

export interface IptSyncPlan {
  script: RestoreScript;
  full: boolean;
  commit(): void;
}

/** The fixed rules, by table and chain (nat and filter), in order. */
export function baseRules(config: ProxyNodeConfig): { filter: [string, string][]; nat: [string, string][]; filterChains: string[] } {
  const mark = masqueradeMark(config.masqueradeBit);
  const v4 = config.family === 'IPv4';
  const filter: [string, string][] = [];
  const filterChains: string[] = [chains.services, chains.externalServices, chains.forward, chains.nodePorts, chains.proxyFirewall];
  if (v4 && config.localhostNodePorts) {
    filterChains.push(chains.kubeletFirewall);
    filter.push([
      chains.kubeletFirewall,
      '-m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
    ]);
  }
  const nat: [string, string][] = [
    [chains.postrouting, `-m mark ! --mark ${mark}/${mark} -j RETURN`],
    [chains.postrouting, `-j MARK --xor-mark ${mark}`],
    [chains.postrouting, '-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully'],
    [chains.markMasq, `-j MARK --or-mark ${mark}`],
  ];
  return { filter, nat, filterChains };
}

/** The last rules: KUBE-SERVICES hands NodePort traffic on; KUBE-FORWARD accepts marked and established traffic. */
function tailRules(config: ProxyNodeConfig): { filter: [string, string][]; nat: [string, string][] } {
  const mark = masqueradeMark(config.masqueradeBit);
  const nat: [string, string][] = [];
  const note = '-m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain"';
  if (config.nodePortAddresses.matchAll) {
    const exclude = config.family === 'IPv6' ? ' ! -d ::1/128' : config.localhostNodePorts ? '' : ' ! -d 127.0.0.0/8';
    nat.push([chains.services, `${note} -m addrtype --dst-type LOCAL${exclude} -j ${chains.nodePorts}`]);
  } else {
    for (const ip of config.nodePortAddresses.ips) nat.push([chains.services, `${note} -d ${ip} -j ${chains.nodePorts}`]);
  }
  const filter: [string, string][] = [
    [chains.forward, '-m conntrack --ctstate INVALID -j DROP'],
    [chains.forward, `-m comment --comment "kubernetes forwarding rules" -m mark --mark ${mark}/${mark} -j ACCEPT`],
    [chains.forward, '-m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT'],
  ];
  return { filter, nat };
}

export function baseText(config: ProxyNodeConfig): string {
  return JSON.stringify([baseRules(config), tailRules(config), localMatchIpt(config.localDetector, true) ?? '', config.masqueradeAll]);
}

const natChainsOf = (p: IptRenderedPort) => p.nat.chains.keys();

function writePortShared(script: RestoreScript, p: IptRenderedPort): void {
  for (const r of p.nat.services) script.append('nat', chains.services, r);
  for (const r of p.nat.nodePorts) script.append('nat', chains.nodePorts, r);
  for (const r of p.filter.services) script.append('filter', chains.services, r);
  for (const r of p.filter.externalServices) script.append('filter', chains.externalServices, r);
  for (const r of p.filter.nodePorts) script.append('filter', chains.nodePorts, r);
  for (const r of p.filter.firewall) script.append('filter', chains.proxyFirewall, r);
}

export interface IptFullSyncInput {
  config: ProxyNodeConfig;
  state: IptState;
  ports: ReadonlyMap<string, IptRenderedPort>;
  large: boolean;
  /** What iptables-save showed at the first sync. */
  inventory?: IptInventory;
}

export function planIptFullSync(input: IptFullSyncInput): IptSyncPlan {
  const { config, state, ports, inventory } = input;
  const script = new RestoreScript();
  const base = baseRules(config);
  const tail = tailRules(config);
  for (const c of base.filterChains) script.declare('filter', c);
  for (const c of [chains.services, chains.nodePorts, chains.postrouting, chains.markMasq]) script.declare('nat', c);
  const wanted = new Set<string>();
  for (const p of ports.values()) for (const c of natChainsOf(p)) wanted.add(c);
  for (const c of wanted) script.declare('nat', c);
  const stale = new Set([...state.chains, ...[...(inventory?.natChains ?? [])].filter(isIptServiceChain)].filter((c) => !wanted.has(c)));
  for (const c of stale) script.declare('nat', c);
  for (const [chain, rule] of base.filter) script.append('filter', chain, rule);
  for (const [chain, rule] of base.nat) script.append('nat', chain, rule);
  for (const p of ports.values()) {
    writePortShared(script, p);
    for (const [chain, rules] of p.nat.chains) for (const r of rules) script.append('nat', chain, r);
  }
  for (const [chain, rule] of tail.nat) script.append('nat', chain, rule);
  for (const [chain, rule] of tail.filter) script.append('filter', chain, rule);
  for (const c of stale) script.line('nat', `-X ${c}`);
  if (inventory) {
    // Jumps from the built-in chains, at their top, unless a previous run left them.
    for (const j of [...jumpRules].reverse()) if (!inventory.jumps.has(jumpKey(j))) script.line(j.table, `-I ${j.from} 1 ${jumpRuleText(j)}`);
    if (config.family === 'IPv4' && config.localhostNodePorts) {
      for (const from of ['INPUT', 'OUTPUT']) {
        if (!inventory.jumps.has(`filter ${from} ${chains.kubeletFirewall}`)) script.line('filter', `-I ${from} 1 -j ${chains.kubeletFirewall}`);
      }
    }
  }
  return {
    script,
    full: true,
    commit() {
      state.ports = new Map(ports);
      state.chains = wanted;
      state.baseText = baseText(config);
      state.large = input.large;
    },
  };
}

/** The shared-chain rules of a port, as (table, chain, rule) lines. */
function sharedLines(p: IptRenderedPort | undefined): [IptTable, string, string][] {
  if (!p) return [];
  return [
    ...p.nat.services.map((r) => ['nat', chains.services, r] as [IptTable, string, string]),
    ...p.nat.nodePorts.map((r) => ['nat', chains.nodePorts, r] as [IptTable, string, string]),
    ...p.filter.services.map((r) => ['filter', chains.services, r] as [IptTable, string, string]),
    ...p.filter.externalServices.map((r) => ['filter', chains.externalServices, r] as [IptTable, string, string]),
    ...p.filter.nodePorts.map((r) => ['filter', chains.nodePorts, r] as [IptTable, string, string]),
    ...p.filter.firewall.map((r) => ['filter', chains.proxyFirewall, r] as [IptTable, string, string]),
  ];
}

export function planIptPartialSync(state: IptState, changes: ReadonlyMap<string, IptRenderedPort | undefined>): IptSyncPlan {
  const script = new RestoreScript();
  const rewritten = new Map<string, string[]>();
  const removed = new Set<string>();
  const additions: [IptTable, string, string][] = [];
  for (const [key, next] of changes) {
    const prev = state.ports.get(key);
    // Shared chains: delete what went away by its spec, add what is new; leave the rest.
    const before = sharedLines(prev).map((l) => l.join('\u0000'));
    const after = sharedLines(next).map((l) => l.join('\u0000'));
    for (const l of before) if (!after.includes(l)) script.line(l.split('\u0000')[0] as IptTable, `-D ${l.split('\u0000')[1]} ${l.split('\u0000')[2]}`);
    for (const l of after) if (!before.includes(l)) additions.push(l.split('\u0000') as [IptTable, string, string]);
    for (const c of prev ? natChainsOf(prev) : []) if (!next?.nat.chains.has(c)) removed.add(c);
    for (const [c, rules] of next?.nat.chains ?? []) {
      const before = prev?.nat.chains.get(c);
      if (before && before.length === rules.length && before.every((r, i) => r === rules[i])) continue;
      rewritten.set(c, rules);
    }
  }
  for (const c of rewritten.keys()) removed.delete(c);
  for (const c of [...rewritten.keys(), ...removed]) script.declare('nat', c);
  for (const [c, rules] of rewritten) for (const r of rules) script.append('nat', c, r);
  for (const [table, chain, rule] of additions) {
    // At the top of KUBE-SERVICES, so its NodePort rule stays the last.
    script.line(table, table === 'nat' && chain === chains.services ? `-I ${chain} 1 ${rule}` : `-A ${chain} ${rule}`);
  }
  for (const c of removed) script.line('nat', `-X ${c}`);
  return {
    script,
    full: false,
    commit() {
      for (const [key, next] of changes) {
        if (next) state.ports.set(key, next);
        else state.ports.delete(key);
      }
      for (const c of rewritten.keys()) state.chains.add(c);
      for (const c of removed) state.chains.delete(c);
    },
  };
}
