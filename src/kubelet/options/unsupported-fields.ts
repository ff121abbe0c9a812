// Upstream KubeletConfiguration fields tskube does not act on yet, with the value
// upstream defaults them to. A field left at that value (or at its zero value, which
// upstream also defaults) changes nothing, so it gets no warning: kubeadm writes many
// of them out explicitly.
export const unsupportedFields: Readonly<Record<string, unknown>> = {
  staticPodURL: '',
  staticPodURLHeader: {},
  imagePullCredentialsVerificationPolicy: '',
  preloadedImagesVerificationAllowlist: [],
  enableContentionProfiling: false,
  kubeletCgroups: '',
  systemCgroups: '',
  cpuManagerPolicy: 'none',
  cpuManagerPolicyOptions: {},
  cpuManagerReconcilePeriod: '10s',
  memoryManagerPolicy: 'None',
  topologyManagerPolicy: 'none',
  topologyManagerScope: 'container',
  topologyManagerPolicyOptions: {},
  qosReserved: {},
  hairpinMode: 'promiscuous-bridge',
  podCIDR: '',
  runOnce: false,
  cpuCFSQuotaPeriod: '100ms',
  maxOpenFiles: 1000000,
  contentType: 'application/vnd.kubernetes.protobuf',
  podsPerCore: 0,
  enableControllerAttachDetach: true,
  protectKernelDefaults: false,
  makeIPTablesUtilChains: true,
  iptablesMasqueradeBit: 14,
  iptablesDropBit: 15,
  featureGates: {},
  memorySwap: {},
  configMapAndSecretChangeDetectionStrategy: 'Watch',
  reservedSystemCPUs: '',
  showHiddenMetricsForVersion: '',
  volumePluginDir: '/usr/libexec/kubernetes/kubelet-plugins/volume/exec/',
  kernelMemcgNotification: false,
  enableSystemLogHandler: true,
  enableSystemLogQuery: false,
  shutdownGracePeriodByPodPriority: [],
  reservedMemory: [],
  enableProfilingHandler: true,
  enableDebugFlagsHandler: true,
  memoryThrottlingFactor: 0.9,
  memoryReservationPolicy: 'None',
  tracing: {},
  localStorageCapacityIsolation: true,
  failCgroupV1: false,
  userNamespaces: {},
  podHousekeepingPeriod: '2s',
  draManagerReconcilePeriod: '',
};

/**
 * Fields tskube reads (they are checked, and /configz shows them) but does not act on yet:
 * a value other than upstream's default gets the same warning as an unsupported field.
 * (staticPodURL is unsupported, so its httpCheckFrequency does nothing either.)
 */
export const readButIgnoredFields = [
  'registryPullQPS',
  'registryBurst',
  'eventRecordQPS',
  'eventBurst',
  'kubeAPIQPS',
  'kubeAPIBurst',
  'httpCheckFrequency',
] as const;

/** Fields that no longer exist upstream but still appear in old configs. */
export const removedFields: Readonly<Record<string, string>> = {
  imagePullProgressDeadline: 'removed upstream with dockershim',
};

/** Whether a value is its type's zero value or empty (after which upstream applies its default). */
export function isZeroValue(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '' || v === '0s' || v === '0') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.values(v).every(isZeroValue);
  return false;
}

export function isUnsupportedAtDefault(name: string, v: unknown): boolean {
  return isZeroValue(v) || JSON.stringify(v) === JSON.stringify(unsupportedFields[name]);
}
