// The IPVS back end (deprecated upstream, still asked for). Each sync computes the whole
// desired state (render-ipvs.ts) and writes only its difference from the last one: an
// `ipset restore` script, an `ipvsadm-restore` script, the addresses of kube-ipvs0, and
// the mode's iptables rules. Where the kernel has no ip_vs (as on the machines tskube is
// developed on) it refuses to start with one line; the scripts are tested as text.
import { access } from 'node:fs/promises';
import { TskubeError } from '../../common/errors.js';
import type { BackendFailureCounters, ProxyBackend, SyncRequest, SyncResult } from '../backend.js';
import type { Exec } from '../exec/exec.js';
import type { IPFamily } from '../net/ip.js';
import type { ServicePortPlan } from '../plan/service-port-plan.js';
import { dummyDevice, type IpvsDesired, ipsets, ipvsIptablesRules, renderIpvs, type VirtualServer } from './render-ipvs.js';

export interface IpvsCommands {
  /** `ipset restore -exist` input. */
  ipset: string;
  /** `ipvsadm-restore` input. */
  ipvsadm: string;
  /** `ip` commands (argument lists) for kube-ipvs0. */
  link: string[][];
  /** `iptables-restore --noflush` input. */
  iptables: string;
}

const hostPort = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
const protoFlag = (p: string) => (p === 'tcp' ? '-t' : p === 'udp' ? '-u' : '--sctp-service');
const vsKey = (v: VirtualServer) => `${v.protocol} ${hostPort(v.address, v.port)}`;
const vsArgs = (v: VirtualServer) => `${protoFlag(v.protocol)} ${hostPort(v.address, v.port)}`;
const vsOptions = (v: VirtualServer) => `-s ${v.scheduler}${v.persistence !== undefined ? ` -p ${v.persistence}` : ''}`;

/** The commands that take the kernel from `current` (undefined: nothing known) to `desired`. Pure. */
export function ipvsCommands(current: IpvsDesired | undefined, desired: IpvsDesired, family: IPFamily, iptables: string): IpvsCommands {
  const ipset: string[] = [];
  const inet = family === 'IPv4' ? 'inet' : 'inet6';
  for (const [name, spec] of Object.entries(ipsets)) {
    const size = spec.type === 'bitmap:port' ? 'range 0-65535' : `family ${inet} hashsize 1024 maxelem 65536`;
    ipset.push(`create ${name} ${spec.type} ${size} comment`);
    const want = desired.sets.get(name) ?? new Set();
    const have = current?.sets.get(name);
    if (!have) ipset.push(`flush ${name}`);
    for (const e of have ?? []) if (!want.has(e)) ipset.push(`del ${name} ${e}`);
    for (const e of want) if (!have?.has(e)) ipset.push(`add ${name} ${e}`);
  }
  const ipvs: string[] = [];
  const before = new Map((current?.virtualServers ?? []).map((v) => [vsKey(v), v]));
  const after = new Map(desired.virtualServers.map((v) => [vsKey(v), v]));
  for (const [key, v] of before) if (!after.has(key)) ipvs.push(`-D ${vsArgs(v)}`);
  for (const [key, v] of after) {
    const old = before.get(key);
    if (!old) ipvs.push(`-A ${vsArgs(v)} ${vsOptions(v)}`);
    else if (vsOptions(old) !== vsOptions(v)) ipvs.push(`-E ${vsArgs(v)} ${vsOptions(v)}`);
    const oldReals = new Set((old?.reals ?? []).map((r) => hostPort(r.ip, r.port)));
    const newReals = new Set(v.reals.map((r) => hostPort(r.ip, r.port)));
    for (const r of oldReals) if (!newReals.has(r)) ipvs.push(`-d ${vsArgs(v)} -r ${r}`);
    for (const r of v.reals) if (!oldReals.has(hostPort(r.ip, r.port))) ipvs.push(`-a ${vsArgs(v)} -r ${hostPort(r.ip, r.port)} -m -w ${r.weight}`);
  }
  const link: string[][] = [];
  if (!current) link.push(['link', 'add', dummyDevice, 'type', 'dummy']);
  const bits = family === 'IPv4' ? 32 : 128;
  const had = new Set(current?.addresses ?? []);
  const want = new Set(desired.addresses);
  for (const a of had) if (!want.has(a)) link.push(['addr', 'del', `${a}/${bits}`, 'dev', dummyDevice]);
  for (const a of want) if (!had.has(a)) link.push(['addr', 'add', `${a}/${bits}`, 'dev', dummyDevice]);
  return { ipset: `${ipset.join('\n')}\n`, ipvsadm: ipvs.length > 0 ? `${ipvs.join('\n')}\n` : '', link, iptables };
}

/** Whether this kernel has IPVS; an error that says what is missing when not. */
export async function checkIpvsKernel(procNetIpVs = '/proc/net/ip_vs'): Promise<void> {
  try {
    await access(procNetIpVs);
  } catch {
    throw new TskubeError(
      'failed-precondition',
      `IPVS mode needs the kernel's ip_vs module, and this kernel has none (no ${procNetIpVs}); use --proxy-mode=nftables or --proxy-mode=iptables`,
    );
  }
}

export interface IpvsProxierOptions {
  exec: Exec;
  family: IPFamily;
  scheduler?: string;
  counters?: BackendFailureCounters;
  /** For tests: where the kernel says IPVS is there. */
  procNetIpVs?: string;
}

export class IpvsProxier implements ProxyBackend {
  readonly mode = 'ipvs' as const;
  readonly #o: IpvsProxierOptions;
  readonly #plans = new Map<string, ServicePortPlan>();
  #current: IpvsDesired | undefined;

  constructor(options: IpvsProxierOptions) {
    this.#o = options;
  }

  async checkSupport(): Promise<void> {
    await checkIpvsKernel(this.#o.procNetIpVs);
    await this.#o.exec.output('ipvsadm', ['--version']).catch((err: unknown) => {
      throw TskubeError.from(err).wrap('IPVS mode needs ipvsadm');
    });
  }

  async sync(request: SyncRequest, signal?: AbortSignal): Promise<SyncResult> {
    if (request.full) this.#plans.clear();
    for (const [key, plan] of request.plans) {
      if (plan) this.#plans.set(key, plan);
      else this.#plans.delete(key);
    }
    const desired = renderIpvs(this.#plans.values(), request.config, this.#o.scheduler || undefined);
    const commands = ipvsCommands(request.full ? undefined : this.#current, desired, this.#o.family, ipvsIptablesRules(desired, request.config));
    const opts = signal ? { signal } : {};
    try {
      for (const args of commands.link) {
        // Adding what is there (after a restart) is fine; anything else is not.
        const r = await this.#o.exec.status('ip', args, opts);
        if (r.code !== 0 && !/File exists|exists/.test(r.stderr)) throw new TskubeError('unknown', `ip ${args.join(' ')}: ${r.stderr.trim()}`);
      }
      await this.#o.exec.output('ipset', ['restore', '-exist'], { ...opts, input: commands.ipset });
      if (commands.ipvsadm) await this.#o.exec.output('ipvsadm-restore', [], { ...opts, input: commands.ipvsadm });
      await this.#o.exec.output(this.#o.family === 'IPv4' ? 'iptables-restore' : 'ip6tables-restore', ['-w', '5', '--noflush', '--counters'], {
        ...opts,
        input: commands.iptables,
      });
    } catch (err) {
      this.#o.counters?.syncFailed();
      this.#current = undefined;
      throw TskubeError.from(err);
    }
    this.#current = desired;
    return { detail: { full: request.full, virtualServers: desired.virtualServers.length } };
  }

  async cleanup(): Promise<string[]> {
    return [];
  }
}
