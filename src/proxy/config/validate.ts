// Upstream's ValidateKubeProxyConfiguration for the fields tskube reads, run after flags
// are applied. Throws for the first rule broken, naming the field and the value.
import { TskubeError } from '../../common/errors.js';
import { ipFamily, parseCidr } from '../net/ip.js';
import { show } from '../../common/field-readers.js';
import { formatGoDuration } from '../../common/go-duration.js';
import type { KubeProxyConfiguration } from './types.js';
import { effectiveSyncPeriods } from './sync-periods.js';

const fail = (field: string, value: unknown, why: string) => new TskubeError('invalid-argument', `${field}: invalid value ${show(value)}: ${why}`);

export function validateProxyConfiguration(c: KubeProxyConfiguration): void {
  for (const [field, bit] of [
    ['iptables.masqueradeBit', c.iptables.masqueradeBit],
    ['nftables.masqueradeBit', c.nftables.masqueradeBit],
  ] as const) {
    if (bit < 0 || bit > 31) throw fail(field, bit, 'must be within the range [0, 31]');
  }
  const periods = effectiveSyncPeriods(c);
  if (periods.syncPeriod <= 0) throw fail(`${periods.section}.syncPeriod`, formatGoDuration(periods.syncPeriod), 'must be greater than 0');
  if (periods.minSyncPeriod < 0) throw fail(`${periods.section}.minSyncPeriod`, formatGoDuration(periods.minSyncPeriod), 'must be greater than or equal to 0');
  if (periods.minSyncPeriod > periods.syncPeriod) {
    throw fail(
      `${periods.section}.syncPeriod`,
      formatGoDuration(periods.syncPeriod),
      `must be greater than or equal to minSyncPeriod (${formatGoDuration(periods.minSyncPeriod)})`,
    );
  }
  if (c.configSyncPeriod <= 0) throw fail('configSyncPeriod', formatGoDuration(c.configSyncPeriod), 'must be greater than 0');
  if (c.oomScoreAdj < -1000 || c.oomScoreAdj > 1000) throw fail('oomScoreAdj', c.oomScoreAdj, 'must be within the range [-1000, 1000]');
  const ct = c.conntrack;
  if (ct.maxPerCore < 0) throw fail('conntrack.maxPerCore', ct.maxPerCore, 'must be greater than or equal to 0');
  if (ct.min < 0) throw fail('conntrack.min', ct.min, 'must be greater than or equal to 0');
  for (const key of ['tcpEstablishedTimeout', 'tcpCloseWaitTimeout', 'udpTimeout', 'udpStreamTimeout'] as const) {
    if (ct[key] < 0) throw fail(`conntrack.${key}`, formatGoDuration(ct[key]), 'must be greater than or equal to 0');
  }
  for (const key of ['tcpTimeout', 'tcpFinTimeout', 'udpTimeout'] as const) {
    if (c.ipvs[key] < 0) throw fail(`ipvs.${key}`, formatGoDuration(c.ipvs[key]), 'must be greater than or equal to 0');
  }
  c.ipvs.excludeCIDRs.forEach((cidr, i) => {
    if (!parseCidr(cidr)) throw fail(`ipvs.excludeCIDRs[${i}]`, cidr, 'must be a valid CIDR');
  });
  if (ipFamily(c.bindAddress) === undefined) throw fail('bindAddress', c.bindAddress, 'not a valid textual representation of an IP address');
  if (c.healthzBindAddress !== '') validateHostPort('healthzBindAddress', c.healthzBindAddress);
  validateHostPort('metricsBindAddress', c.metricsBindAddress);
  c.nodePortAddresses.forEach((address, i) => {
    if (address === 'primary') {
      if (i !== 0 || c.nodePortAddresses.length !== 1) throw fail(`nodePortAddresses[${i}]`, address, "can't use both 'primary' and CIDRs");
      return;
    }
    if (!parseCidr(address)) throw fail(`nodePortAddresses[${i}]`, address, 'must be a valid CIDR');
  });
  if (c.detectLocalMode === 'BridgeInterface' && c.detectLocal.bridgeInterface === '') throw fail('detectLocal.bridgeInterface', '', 'must not be empty');
  if (c.detectLocalMode === 'InterfaceNamePrefix' && c.detectLocal.interfaceNamePrefix === '') {
    throw fail('detectLocal.interfaceNamePrefix', '', 'must not be empty');
  }
  validateClusterCIDR(c.clusterCIDR);
}

/** "ip:port" with a real IP and a port from 1 to 65535; an IPv6 host in brackets. */
export function validateHostPort(field: string, input: string): void {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(input);
  if (!m) throw fail(field, input, 'must be IP:port');
  const host = m[1] ?? m[2] ?? '';
  if (ipFamily(host) === undefined) throw fail(field, host, 'must be a valid IP');
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw fail(field, m[3], 'must be a valid port');
}

function validateClusterCIDR(text: string): void {
  if (text.trim() === '') return;
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length > 2) throw fail('clusterCIDR', text, 'must be a either a single CIDR or dual-stack pair of CIDRs (e.g. 10.100.0.0/16,fde4:8dba:82e1::/48)');
  const cidrs = parts.map((p, i) => {
    const cidr = parseCidr(p);
    if (!cidr) throw fail(`clusterCIDR[${i}]`, p, 'must be a valid CIDR block (e.g. 10.100.0.0/16 or fde4:8dba:82e1::/48)');
    return cidr;
  });
  if (cidrs.length === 2 && cidrs[0]!.family === cidrs[1]!.family) throw fail('clusterCIDR', text, 'two CIDRs must be one IPv4 and one IPv6');
}
