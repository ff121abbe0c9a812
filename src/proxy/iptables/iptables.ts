// The iptables back end's seam to the kernel: one iptables-restore per sync, and
// iptables-save to see what a previous run left. The fake (fake-iptables.ts) models it.
import type { Exec } from '../exec/exec.js';
import type { IPFamily } from '../net/ip.js';
import type { IptTable } from './names.js';

export interface Iptables {
  /** `iptables-restore --noflush --counters` (ip6tables-… for IPv6) of the script. */
  restore(family: IPFamily, script: string, signal?: AbortSignal): Promise<void>;
  save(family: IPFamily, table: IptTable, signal?: AbortSignal): Promise<string>;
}

export function iptablesCommand(exec: Exec): Iptables {
  const prefix = (family: IPFamily) => (family === 'IPv4' ? 'iptables' : 'ip6tables');
  return {
    async restore(family, script, signal) {
      await exec.output(`${prefix(family)}-restore`, ['-w', '5', '--noflush', '--counters'], { input: script, ...(signal && { signal }) });
    },
    save: (family, table, signal) => exec.output(`${prefix(family)}-save`, ['-t', table], signal ? { signal } : {}),
  };
}

/** Chain names of an iptables-save table section. */
export function savedChains(text: string): Set<string> {
  return new Set([...text.matchAll(/^:(\S+) /gm)].map((m) => m[1]!));
}

/** Whether an iptables-save text has a rule in `from` that jumps to `to`. */
export function hasJump(text: string, from: string, to: string): boolean {
  return text.split('\n').some((l) => l.startsWith(`-A ${from} `) && l.endsWith(`-j ${to}`));
}
