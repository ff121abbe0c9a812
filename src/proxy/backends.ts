// The back end of each IP family for the chosen mode. The primary family (IPv4 unless
// the node is IPv6-only) must work; the other is used when the kernel and tools have it,
// as upstream runs dual-stack whenever it can.
import { TskubeError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { ProxyBackend } from './backend.js';
import type { ProxyOptions } from './config/options.js';
import type { Exec } from './exec/exec.js';
import type { IPFamily } from './net/ip.js';
import { IptablesProxier } from './iptables/iptables-proxier.js';
import { IpvsProxier } from './ipvs/ipvs-proxier.js';
import { iptablesCommand } from './iptables/iptables.js';
import { NftablesProxier } from './nftables/nftables-proxier.js';
import { nftCommand } from './nftables/nftables.js';
import type { ProxyMetrics } from './server/proxy-metrics.js';

export interface BackendDeps {
  exec: Exec;
  metrics: ProxyMetrics;
  log: Logger;
}

function backendFor(options: ProxyOptions, family: IPFamily, deps: BackendDeps): ProxyBackend {
  const mode = options.mode;
  const counters = {
    syncFailed: () => deps.metrics.nftablesSyncFailures.inc({ ip_family: family }),
    cleanupFailed: () => deps.metrics.nftablesCleanupFailures.inc({ ip_family: family }),
  };
  switch (mode) {
    case 'nftables':
      return new NftablesProxier({ nft: nftCommand(deps.exec), family, counters });
    case 'iptables':
      return new IptablesProxier({
        iptables: iptablesCommand(deps.exec),
        family,
        exec: deps.exec,
        routeLocalnet: family === 'IPv4' && options.config.iptables.localhostNodePorts,
        counters: {
          syncFailed: () => deps.metrics.iptablesRestoreFailures.inc({ ip_family: family }),
          cleanupFailed: () => {},
          partialFailed: () => deps.metrics.iptablesPartialRestoreFailures.inc({ ip_family: family }),
          rules: (table, written) => deps.metrics.iptablesLast.set({ table, ip_family: family }, written),
        },
      });
    case 'ipvs':
      return new IpvsProxier({
        exec: deps.exec,
        family,
        scheduler: options.config.ipvs.scheduler,
        counters: { syncFailed: () => deps.metrics.iptablesRestoreFailures.inc({ ip_family: family }), cleanupFailed: () => {} },
      });
  }
}

export async function createBackends(options: ProxyOptions, deps: BackendDeps, signal?: AbortSignal): Promise<Map<IPFamily, ProxyBackend>> {
  const primary: IPFamily = options.config.bindAddress.includes(':') && options.config.bindAddress !== '::' ? 'IPv6' : 'IPv4';
  const out = new Map<IPFamily, ProxyBackend>();
  for (const family of [primary, primary === 'IPv4' ? 'IPv6' : 'IPv4'] as IPFamily[]) {
    const backend = backendFor(options, family, deps);
    try {
      await backend.checkSupport(signal);
      out.set(family, backend);
    } catch (err) {
      const e = TskubeError.from(err);
      if (family === primary) throw e.wrap(`${options.mode} mode cannot run here (${family})`);
      deps.log.info({ ipFamily: family, err: e.detail }, `no ${family} support; running single-stack`);
    }
  }
  return out;
}
