// v1alpha1 keeps syncPeriod, minSyncPeriod, masqueradeBit and masqueradeAll per back
// end; upstream's conversion takes the ones of the chosen mode (iptables' for iptables,
// ipvs' sync periods with iptables' masquerade settings for IPVS).
import type { KubeProxyConfiguration, Millis, ProxyMode } from './types.js';

/** tskube's default where upstream's blank mode means iptables. */
export const defaultProxyMode: ProxyMode = 'nftables';

export function effectiveMode(c: KubeProxyConfiguration): ProxyMode {
  return c.mode === '' ? defaultProxyMode : c.mode;
}

export interface EffectivePeriods {
  section: 'iptables' | 'ipvs' | 'nftables';
  syncPeriod: Millis;
  minSyncPeriod: Millis;
}

export function effectiveSyncPeriods(c: KubeProxyConfiguration): EffectivePeriods {
  const mode = effectiveMode(c);
  const section = c[mode];
  return { section: mode, syncPeriod: section.syncPeriod, minSyncPeriod: section.minSyncPeriod };
}

export function effectiveMasquerade(c: KubeProxyConfiguration): { bit: number; all: boolean } {
  return effectiveMode(c) === 'nftables'
    ? { bit: c.nftables.masqueradeBit, all: c.nftables.masqueradeAll }
    : { bit: c.iptables.masqueradeBit, all: c.iptables.masqueradeAll };
}
