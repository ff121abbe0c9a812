// The part of KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) tskube reads.
// Field names are upstream's, so a kubeadm-written kube-proxy ConfigMap works unchanged.
// Durations are carried as milliseconds; on the wire they are Go durations ("30s").

export const proxyConfigApiVersion = 'kubeproxy.config.k8s.io/v1alpha1';
export const proxyConfigKind = 'KubeProxyConfiguration';

export type Millis = number;

export const proxyModes = ['nftables', 'iptables', 'ipvs'] as const;
export type ProxyMode = (typeof proxyModes)[number];

export const localModes = ['ClusterCIDR', 'NodeCIDR', 'BridgeInterface', 'InterfaceNamePrefix'] as const;
export type LocalMode = (typeof localModes)[number];

export interface ClientConnectionConfiguration {
  kubeconfig: string;
  acceptContentTypes: string;
  contentType: string;
  qps: number;
  burst: number;
}

export interface IPTablesConfiguration {
  masqueradeBit: number;
  masqueradeAll: boolean;
  localhostNodePorts: boolean;
  syncPeriod: Millis;
  minSyncPeriod: Millis;
}

export interface IPVSConfiguration {
  syncPeriod: Millis;
  minSyncPeriod: Millis;
  scheduler: string;
  excludeCIDRs: string[];
  strictARP: boolean;
  tcpTimeout: Millis;
  tcpFinTimeout: Millis;
  udpTimeout: Millis;
}

export interface NFTablesConfiguration {
  masqueradeBit: number;
  masqueradeAll: boolean;
  syncPeriod: Millis;
  minSyncPeriod: Millis;
}

export interface ConntrackConfiguration {
  /** 0 leaves nf_conntrack_max as it is. */
  maxPerCore: number;
  min: number;
  /** 0 leaves the kernel's value as it is (for every timeout here). */
  tcpEstablishedTimeout: Millis;
  tcpCloseWaitTimeout: Millis;
  tcpBeLiberal: boolean;
  udpTimeout: Millis;
  udpStreamTimeout: Millis;
}

export interface DetectLocalConfiguration {
  bridgeInterface: string;
  interfaceNamePrefix: string;
}

export interface ProxyLogging {
  format: 'text' | 'json';
  verbosity: number;
}

export interface KubeProxyConfiguration {
  featureGates: Record<string, boolean>;
  clientConnection: ClientConnectionConfiguration;
  logging: ProxyLogging;
  hostnameOverride: string;
  bindAddress: string;
  /** "host:port"; "" disables the server. */
  healthzBindAddress: string;
  metricsBindAddress: string;
  bindAddressHardFail: boolean;
  /** "" means tskube's default, nftables (upstream's blank means iptables). */
  mode: ProxyMode | '';
  iptables: IPTablesConfiguration;
  ipvs: IPVSConfiguration;
  nftables: NFTablesConfiguration;
  /** "" means ClusterCIDR. */
  detectLocalMode: LocalMode | '';
  detectLocal: DetectLocalConfiguration;
  /** Comma-separated, one per family. */
  clusterCIDR: string;
  /** CIDRs, or the single word "primary"; empty accepts NodePorts on every local address. */
  nodePortAddresses: string[];
  oomScoreAdj: number;
  conntrack: ConntrackConfiguration;
  configSyncPeriod: Millis;
}
