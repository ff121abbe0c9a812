// Which sysctls a pod may set (upstream's sysctl allowlist admit handler): the safe
// set, plus the node's allowedUnsafeSysctls; a namespaced sysctl is refused for a pod
// that shares that namespace with the host.
import { normalizeSysctlName, sysctlNamespace, type SysctlNamespace } from '../options/sysctl-names.js';

/** Sysctls upstream deems safe (all namespaced; the kernel here is newer than any of their minimums). */
export const safeSysctls = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
] as const;

export interface SysctlAllowlist {
  names: ReadonlyMap<string, SysctlNamespace>;
  prefixes: ReadonlyMap<string, SysctlNamespace>;
}

/** The allowlist from the safe set and allowedUnsafeSysctls (already validated by the config). */
export function sysctlAllowlist(allowedUnsafe: readonly string[]): SysctlAllowlist {
  const names = new Map<string, SysctlNamespace>();
  const prefixes = new Map<string, SysctlNamespace>();
  for (const pattern of [...safeSysctls, ...allowedUnsafe]) {
    const name = normalizeSysctlName(pattern);
    const star = name.indexOf('*');
    const key = star < 0 ? name : name.slice(0, star);
    const ns = sysctlNamespace(key);
    if (!ns) continue;
    (star < 0 ? names : prefixes).set(key, ns);
  }
  return { names, prefixes };
}

const hostNamespaceName: Record<SysctlNamespace, string> = { ipc: 'IPC', net: 'Net' };

/** Why the pod may not set this sysctl, in upstream's words; undefined when it may. */
export function sysctlAllowed(list: SysctlAllowlist, sysctl: string, hostNet: boolean, hostIPC: boolean): string | undefined {
  const name = normalizeSysctlName(sysctl);
  let ns = list.names.get(name);
  if (ns === undefined) for (const [prefix, pns] of list.prefixes) if (name.startsWith(prefix)) ns = pns;
  if (ns === undefined) return `"${name}" not allowlisted`;
  if ((ns === 'ipc' && hostIPC) || (ns === 'net' && hostNet)) return `"${name}" not allowed with host ${hostNamespaceName[ns]} enabled`;
  return undefined;
}
