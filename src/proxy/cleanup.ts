// `tskube proxy --cleanup` removes what any back end created, and nothing else: the
// kube-proxy nftables tables, kube-proxy's KUBE-* iptables chains and the jumps to them.
// Starting in one mode removes the other modes' leftovers, as upstream does, best effort.
import { TskubeError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { Exec } from './exec/exec.js';
import { cleanupIptables } from './iptables/iptables-proxier.js';
import { checkIpvsKernel } from './ipvs/ipvs-proxier.js';
import { dummyDevice, ipsets } from './ipvs/render-ipvs.js';
import { iptablesCommand } from './iptables/iptables.js';
import { nftCommand } from './nftables/nftables.js';
import { kubeProxyTable } from './nftables/names.js';

export type CleanupTarget = 'nftables' | 'iptables' | 'ipvs';

async function cleanupNftables(exec: Exec, signal?: AbortSignal): Promise<string[]> {
  const nft = nftCommand(exec);
  const removed: string[] = [];
  for (const family of ['ip', 'ip6'] as const) if (await nft.deleteTable(family, signal)) removed.push(`nftables table ${family} ${kubeProxyTable}`);
  return removed;
}

const cleaners: Record<CleanupTarget, (exec: Exec, signal?: AbortSignal) => Promise<string[]>> = {
  nftables: cleanupNftables,
  iptables: async (exec, signal) => {
    const ipt = iptablesCommand(exec);
    const removed: string[] = [];
    for (const family of ['IPv4', 'IPv6'] as const) {
      // A family whose iptables cannot even be listed has nothing of ours in it.
      const listed = await ipt.save(family, 'nat', signal).then(
        () => true,
        () => false,
      );
      if (listed) removed.push(...(await cleanupIptables(ipt, family, signal)));
    }
    return removed;
  },
  // Without ip_vs in the kernel, IPVS mode never started: nothing of it can be here.
  ipvs: async (exec, signal) => {
    const present = await checkIpvsKernel().then(
      () => true,
      () => false,
    );
    if (!present) return [];
    const opts = signal ? { signal } : {};
    const removed: string[] = [];
    if ((await exec.status('ip', ['link', 'del', dummyDevice], opts)).code === 0) removed.push(`link ${dummyDevice}`);
    await exec.output('ipvsadm', ['-C'], opts);
    removed.push('IPVS virtual servers');
    for (const name of Object.keys(ipsets)) if ((await exec.status('ipset', ['destroy', name], opts)).code === 0) removed.push(`ipset ${name}`);
    return removed;
  },
};

/** Removes the rules of every back end; returns what it removed and what failed. */
export async function cleanupAll(exec: Exec, signal?: AbortSignal): Promise<{ removed: string[]; failed: string[] }> {
  const removed: string[] = [];
  const failed: string[] = [];
  for (const [target, clean] of Object.entries(cleaners)) {
    try {
      removed.push(...(await clean(exec, signal)));
    } catch (err) {
      failed.push(`${target}: ${TskubeError.from(err).message}`);
    }
  }
  return { removed, failed };
}

/** At start: the leftovers of the modes not chosen go. */
export async function cleanupOtherModes(mode: CleanupTarget, exec: Exec, log: Logger, signal?: AbortSignal): Promise<void> {
  for (const [target, clean] of Object.entries(cleaners)) {
    if (target === mode) continue;
    try {
      const removed = await clean(exec, signal);
      if (removed.length > 0) log.info({ removed }, `removed the rules of ${target} mode`);
    } catch (err) {
      log.warn({ err: TskubeError.from(err).message }, `could not remove the rules of ${target} mode`);
    }
  }
}
