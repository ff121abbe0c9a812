// Upstream's defaults (pkg/proxy/apis/config/v1alpha1/defaults.go), so a sparse config
// file or a bare command line behaves as it would under kube-proxy v1.36.
import { ipFamily } from '../net/ip.js';
import type { KubeProxyConfiguration } from './types.js';

export const healthzPort = 10256;
export const metricsPort = 10249;

export function defaultProxyConfiguration(): KubeProxyConfiguration {
  return {
    featureGates: {},
    clientConnection: { kubeconfig: '', acceptContentTypes: '', contentType: 'application/vnd.kubernetes.protobuf', qps: 5, burst: 10 },
    logging: { format: 'text', verbosity: 0 },
    hostnameOverride: '',
    bindAddress: '0.0.0.0',
    healthzBindAddress: `0.0.0.0:${healthzPort}`,
    metricsBindAddress: `127.0.0.1:${metricsPort}`,
    bindAddressHardFail: false,
    mode: '',
    iptables: { masqueradeBit: 14, masqueradeAll: false, localhostNodePorts: true, syncPeriod: 30_000, minSyncPeriod: 1000 },
    ipvs: { syncPeriod: 30_000, minSyncPeriod: 0, scheduler: '', excludeCIDRs: [], strictARP: false, tcpTimeout: 0, tcpFinTimeout: 0, udpTimeout: 0 },
    nftables: { masqueradeBit: 14, masqueradeAll: false, syncPeriod: 30_000, minSyncPeriod: 1000 },
    detectLocalMode: '',
    detectLocal: { bridgeInterface: '', interfaceNamePrefix: '' },
    clusterCIDR: '',
    nodePortAddresses: [],
    // pkg/kubelet/qos.KubeProxyOOMScoreAdj
    oomScoreAdj: -999,
    conntrack: {
      maxPerCore: 32 * 1024,
      min: 128 * 1024,
      tcpEstablishedTimeout: 24 * 3_600_000,
      tcpCloseWaitTimeout: 3_600_000,
      tcpBeLiberal: false,
      udpTimeout: 0,
      udpStreamTimeout: 0,
    },
    configSyncPeriod: 15 * 60_000,
  };
}

/** The health and metrics addresses upstream derives from bindAddress when they are not set. */
export function defaultAddresses(bindAddress: string): { healthz: string; metrics: string } {
  return ipFamily(bindAddress) === 'IPv6'
    ? { healthz: `[::]:${healthzPort}`, metrics: `[::1]:${metricsPort}` }
    : { healthz: `0.0.0.0:${healthzPort}`, metrics: `127.0.0.1:${metricsPort}` };
}

/** proxyutil.AppendPortIfNeeded: "1.2.3.4" → "1.2.3.4:port", "::1" → "[::1]:port"; anything else unchanged. */
export function appendPortIfNeeded(address: string, port: number): string {
  const family = ipFamily(address);
  if (family === 'IPv4') return `${address}:${port}`;
  if (family === 'IPv6') return `[${address}]:${port}`;
  return address;
}
