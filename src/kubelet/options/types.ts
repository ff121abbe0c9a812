// The part of KubeletConfiguration (kubelet.config.k8s.io/v1beta1) tskube reads.
// Field names are upstream's, so a kubeadm-written config.yaml works unchanged.
// Durations are carried as milliseconds; on the wire they are Go durations ("10s").

export const kubeletConfigApiVersion = 'kubelet.config.k8s.io/v1beta1';
export const kubeletConfigKind = 'KubeletConfiguration';

export type Millis = number;

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
export const taintEffects: readonly TaintEffect[] = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

export interface Taint {
  key: string;
  value?: string;
  effect: TaintEffect;
}

export type CgroupDriver = 'cgroupfs' | 'systemd';
export const cgroupDrivers: readonly CgroupDriver[] = ['cgroupfs', 'systemd'];

export type AuthorizationMode = 'AlwaysAllow' | 'Webhook';
export const authorizationModes: readonly AuthorizationMode[] = ['AlwaysAllow', 'Webhook'];

export interface KubeletAuthentication {
  x509: { clientCAFile: string };
  webhook: { enabled: boolean; cacheTTL: Millis };
  anonymous: { enabled: boolean };
}

export interface KubeletAuthorization {
  mode: AuthorizationMode;
  webhook: { cacheAuthorizedTTL: Millis; cacheUnauthorizedTTL: Millis };
}

export type LogFormat = 'text' | 'json';

export interface LoggingConfiguration {
  format: LogFormat;
  flushFrequency: Millis;
  verbosity: number;
}

export interface CrashLoopBackOffConfig {
  /** Unset means upstream's fixed 300 s cap. */
  maxContainerRestartPeriod?: Millis;
}

/** Signals the eviction manager knows (evictionHard keys). */
export const evictionSignals = [
  'memory.available',
  'nodefs.available',
  'nodefs.inodesFree',
  'imagefs.available',
  'imagefs.inodesFree',
  'containerfs.available',
  'containerfs.inodesFree',
  'allocatableMemory.available',
  'pid.available',
] as const;

export const nodeAllocatableEnforcements = [
  'pods',
  'system-reserved',
  'system-reserved-compressible',
  'kube-reserved',
  'kube-reserved-compressible',
  'none',
] as const;

export interface KubeletConfiguration {
  enableServer: boolean;
  staticPodPath: string;
  podLogsDir: string;
  syncFrequency: Millis;
  fileCheckFrequency: Millis;
  httpCheckFrequency: Millis;
  address: string;
  port: number;
  readOnlyPort: number;
  tlsCertFile: string;
  tlsPrivateKeyFile: string;
  /** Go cipher suite names (tls-settings.ts); empty: Node's defaults. */
  tlsCipherSuites: string[];
  /** "" (Node's default, TLS 1.2) or VersionTLS10..VersionTLS13. */
  tlsMinVersion: string;
  rotateCertificates: boolean;
  serverTLSBootstrap: boolean;
  authentication: KubeletAuthentication;
  authorization: KubeletAuthorization;
  registryPullQPS: number;
  registryBurst: number;
  eventRecordQPS: number;
  eventBurst: number;
  enableDebuggingHandlers: boolean;
  healthzPort: number;
  healthzBindAddress: string;
  oomScoreAdj: number;
  clusterDomain: string;
  clusterDNS: string[];
  streamingConnectionIdleTimeout: Millis;
  nodeStatusUpdateFrequency: Millis;
  nodeStatusReportFrequency: Millis;
  nodeLeaseDurationSeconds: number;
  imageMinimumGCAge: Millis;
  imageMaximumGCAge: Millis;
  imageGCHighThresholdPercent: number;
  imageGCLowThresholdPercent: number;
  volumeStatsAggPeriod: Millis;
  cgroupRoot: string;
  cgroupsPerQOS: boolean;
  cgroupDriver: CgroupDriver;
  runtimeRequestTimeout: Millis;
  maxPods: number;
  /** -1: no per-pod limit (node allocatable only). */
  podPidsLimit: number;
  /** CPU limits become CFS quotas (containers' and pods' cgroups). */
  cpuCFSQuota: boolean;
  /** RuntimeDefault instead of Unconfined for a container whose pod names no seccomp profile. */
  seccompDefault: boolean;
  /** Unset: true on cgroup v1, false on v2 (where a container's OOM kill takes its whole cgroup, memory.oom.group). */
  singleProcessOOMKill?: boolean;
  /** "" disables inheriting the host's resolver configuration. */
  resolvConf: string;
  kubeAPIQPS: number;
  kubeAPIBurst: number;
  serializeImagePulls: boolean;
  maxParallelImagePulls?: number;
  nodeStatusMaxImages: number;
  evictionHard: Record<string, string>;
  /** Signal → threshold, acted on only after the signal's evictionSoftGracePeriod. */
  evictionSoft: Record<string, string>;
  /** Signal → Go duration text ("1m30s"), one per evictionSoft signal. */
  evictionSoftGracePeriod: Record<string, string>;
  /** Cap on a pod's grace period when a soft threshold evicts it (seconds; 0: the pod's own). */
  evictionMaxPodGracePeriod: number;
  /** Signal → how much beyond the threshold to reclaim before pressure ends. */
  evictionMinimumReclaim: Record<string, string>;
  evictionPressureTransitionPeriod: Millis;
  mergeDefaultEvictionSettings: boolean;
  failSwapOn: boolean;
  containerLogMaxSize: string;
  containerLogMaxFiles: number;
  /** How many containers' logs are rotated at once. */
  containerLogMaxWorkers: number;
  /** How often log sizes are checked (at least 3 s). */
  containerLogMonitorInterval: Millis;
  /** Unsafe sysctls (or patterns ending in "*") pods may set beyond the safe set. */
  allowedUnsafeSysctls: string[];
  /** Resource name → quantity text ("cpu": "100m"); parse with parseQuantity. */
  systemReserved: Record<string, string>;
  kubeReserved: Record<string, string>;
  systemReservedCgroup: string;
  kubeReservedCgroup: string;
  enforceNodeAllocatable: string[];
  providerID: string;
  logging: LoggingConfiguration;
  shutdownGracePeriod: Millis;
  shutdownGracePeriodCriticalPods: Millis;
  crashLoopBackOff: CrashLoopBackOffConfig;
  registerWithTaints: Taint[];
  registerNode: boolean;
  containerRuntimeEndpoint: string;
  /** "" means: the same as containerRuntimeEndpoint. */
  imageServiceEndpoint: string;
}
