// The conntrack sysctls kube-proxy sets at start (conntrack.* in the configuration), as
// upstream decides them: nf_conntrack_max from maxPerCore × CPUs (at least min, at most
// 2^20) with the hash table a quarter of it, and each timeout that is not 0. A value
// already in place is not written again. Failures are logged and the proxy goes on.
import { readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { TskubeError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { ConntrackConfiguration } from '../config/types.js';

export interface SysctlWrite {
  path: string;
  value: number;
  /** Only raise it (the hash table size). */
  raiseOnly?: boolean;
}

const netfilter = (name: string) => `/proc/sys/net/netfilter/${name}`;

export function conntrackSysctls(c: ConntrackConfiguration, cpus: number): SysctlWrite[] {
  const writes: SysctlWrite[] = [];
  if (c.maxPerCore > 0) {
    const max = Math.min(1_048_576, Math.max(c.maxPerCore * cpus, c.min));
    writes.push({ path: netfilter('nf_conntrack_max'), value: max });
    writes.push({ path: '/sys/module/nf_conntrack/parameters/hashsize', value: Math.floor(max / 4), raiseOnly: true });
  }
  const seconds = (ms: number) => Math.floor(ms / 1000);
  if (c.tcpEstablishedTimeout > 0) writes.push({ path: netfilter('nf_conntrack_tcp_timeout_established'), value: seconds(c.tcpEstablishedTimeout) });
  if (c.tcpCloseWaitTimeout > 0) writes.push({ path: netfilter('nf_conntrack_tcp_timeout_close_wait'), value: seconds(c.tcpCloseWaitTimeout) });
  if (c.tcpBeLiberal) writes.push({ path: netfilter('nf_conntrack_tcp_be_liberal'), value: 1 });
  if (c.udpTimeout > 0) writes.push({ path: netfilter('nf_conntrack_udp_timeout'), value: seconds(c.udpTimeout) });
  if (c.udpStreamTimeout > 0) writes.push({ path: netfilter('nf_conntrack_udp_timeout_stream'), value: seconds(c.udpStreamTimeout) });
  return writes;
}

export async function applyConntrackSettings(c: ConntrackConfiguration, log: Logger): Promise<void> {
  for (const w of conntrackSysctls(c, availableParallelism())) {
    try {
      const current = Number((await readFile(w.path, 'utf8')).trim());
      if (current === w.value || (w.raiseOnly && current >= w.value)) continue;
      await writeFile(w.path, String(w.value));
      log.info({ sysctl: w.path, value: w.value, was: current }, 'set conntrack sysctl');
    } catch (err) {
      log.warn({ sysctl: w.path, value: w.value, err: TskubeError.from(err).detail }, 'cannot set conntrack sysctl; going on');
    }
  }
}
