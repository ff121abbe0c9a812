import { defaultEvictionHard, defaultKubeletConfiguration } from './defaults.js';
import { decodeObject, plain, type Rule, type Rules, type Warn } from '../../common/object-decoder.js';
import * as r from './field-readers.js';
import { goCipherSuites, goTlsVersionNames } from './tls-settings.js';
import { isUnsupportedAtDefault, readButIgnoredFields, removedFields, unsupportedFields } from './unsupported-fields.js';
import {
  authorizationModes,
  cgroupDrivers,
  type KubeletAuthentication,
  type KubeletAuthorization,
  type KubeletConfiguration,
  type LoggingConfiguration,
} from './types.js';

// Turns the decoded YAML/JSON of a KubeletConfiguration into the typed config: each
// field checked for its type, upstream defaults where the file is silent, and one
// warning line per field tskube ignores.

const unknownNested =
  (warn: Warn) =>
  (_key: string, _value: unknown, fieldPath: string): void =>
    warn(`KubeletConfiguration field "${fieldPath}" is unknown to tskube; ignoring it`);

function nested<T extends object>(defaults: () => T, rules: Rules<T>): Rule<T> {
  return { read: (v, p, warn) => decodeObject(v, p, defaults(), rules, warn, unknownNested(warn)) };
}

const authentication = nested<KubeletAuthentication>(() => defaultKubeletConfiguration().authentication, {
  x509: nested<KubeletAuthentication['x509']>(() => ({ clientCAFile: '' }), { clientCAFile: plain(r.str) }),
  webhook: nested<KubeletAuthentication['webhook']>(() => ({ enabled: true, cacheTTL: 120_000 }), {
    enabled: plain(r.bool),
    cacheTTL: plain(r.duration(), true),
  }),
  anonymous: nested<KubeletAuthentication['anonymous']>(() => ({ enabled: false }), { enabled: plain(r.bool) }),
});

const authorization = nested<KubeletAuthorization>(() => defaultKubeletConfiguration().authorization, {
  mode: plain(r.oneOf(authorizationModes), true),
  webhook: nested<KubeletAuthorization['webhook']>(() => ({ cacheAuthorizedTTL: 300_000, cacheUnauthorizedTTL: 30_000 }), {
    cacheAuthorizedTTL: plain(r.duration(), true),
    cacheUnauthorizedTTL: plain(r.duration(), true),
  }),
});

// logging.flushFrequency is a TimeOrMetaDuration: a Go duration or a number of nanoseconds.
const flushFrequency: r.Reader<number> = (v, p) => {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw r.invalid(p, v, 'want a positive duration');
    return v / 1e6;
  }
  return r.duration()(v, p);
};

const logging: Rule<LoggingConfiguration> = {
  read: (v, p, warn) =>
    decodeObject(
      v,
      p,
      defaultKubeletConfiguration().logging,
      { format: plain(r.oneOf(['text', 'json'] as const), true), flushFrequency: plain(flushFrequency, true), verbosity: plain(r.int(0)) },
      warn,
      (key, value, fieldPath) => {
        // vmodule and per-format options tune klog output; pino has no equivalent yet.
        if (!((key === 'options' || key === 'vmodule') && isUnsupportedAtDefault(key, value))) {
          warn(`KubeletConfiguration field "${fieldPath}" is not supported by tskube yet; ignoring it`);
        }
      },
    ),
};

const port = r.int(0, 65535);
const nonNegative = r.int(0);

const rules: Rules<KubeletConfiguration> = {
  enableServer: plain(r.bool),
  staticPodPath: plain(r.str),
  podLogsDir: plain(r.str, true),
  syncFrequency: plain(r.duration(), true),
  fileCheckFrequency: plain(r.duration(), true),
  httpCheckFrequency: plain(r.duration(), true),
  address: plain(r.ip, true),
  port: plain(port, true),
  readOnlyPort: plain(port),
  tlsCertFile: plain(r.str),
  tlsPrivateKeyFile: plain(r.str),
  tlsCipherSuites: plain(r.list(r.oneOf(Object.keys(goCipherSuites)))),
  tlsMinVersion: plain(r.oneOf(goTlsVersionNames), true),
  rotateCertificates: plain(r.bool),
  serverTLSBootstrap: plain(r.bool),
  authentication,
  authorization,
  registryPullQPS: plain(nonNegative),
  registryBurst: plain(nonNegative, true),
  eventRecordQPS: plain(nonNegative),
  eventBurst: plain(nonNegative, true),
  enableDebuggingHandlers: plain(r.bool),
  healthzPort: plain(port),
  healthzBindAddress: plain(r.ip, true),
  oomScoreAdj: plain(r.int(-1000, 1000)),
  clusterDomain: plain(r.str),
  clusterDNS: plain(r.list(r.ip)),
  streamingConnectionIdleTimeout: plain(r.duration(), true),
  nodeStatusUpdateFrequency: plain(r.duration(), true),
  nodeStatusReportFrequency: plain(r.duration(), true),
  nodeLeaseDurationSeconds: plain(r.int(), true),
  imageMinimumGCAge: plain(r.duration(), true),
  imageMaximumGCAge: plain(r.duration()),
  imageGCHighThresholdPercent: plain(r.int(0, 100)),
  imageGCLowThresholdPercent: plain(r.int(0, 100)),
  volumeStatsAggPeriod: plain(r.duration(), true),
  cgroupRoot: plain(r.str),
  cgroupsPerQOS: plain(r.bool),
  cgroupDriver: plain(r.oneOf(cgroupDrivers), true),
  runtimeRequestTimeout: plain(r.duration(), true),
  maxPods: plain(r.int(), true),
  podPidsLimit: plain(r.int(-(2 ** 53), 2 ** 53)),
  cpuCFSQuota: plain(r.bool),
  seccompDefault: plain(r.bool),
  singleProcessOOMKill: plain(r.bool),
  resolvConf: plain(r.str),
  kubeAPIQPS: plain(nonNegative),
  kubeAPIBurst: plain(nonNegative, true),
  serializeImagePulls: plain(r.bool),
  maxParallelImagePulls: plain(r.int()),
  nodeStatusMaxImages: plain(r.int(-1)),
  evictionHard: plain(r.evictionThresholds),
  evictionSoft: plain(r.evictionThresholds),
  evictionSoftGracePeriod: plain(r.evictionGracePeriods),
  evictionMaxPodGracePeriod: plain(r.int(0)),
  evictionMinimumReclaim: plain(r.evictionThresholds),
  evictionPressureTransitionPeriod: plain(r.duration(), true),
  mergeDefaultEvictionSettings: plain(r.bool),
  failSwapOn: plain(r.bool),
  containerLogMaxSize: plain(r.str, true),
  containerLogMaxFiles: plain(r.int(), true),
  containerLogMaxWorkers: plain(r.int(), true),
  containerLogMonitorInterval: plain(r.duration(), true),
  allowedUnsafeSysctls: plain(r.list(r.str)),
  systemReserved: plain(r.reservedResources),
  kubeReserved: plain(r.reservedResources),
  systemReservedCgroup: plain(r.str),
  kubeReservedCgroup: plain(r.str),
  enforceNodeAllocatable: plain(r.list(r.str)),
  providerID: plain(r.str),
  logging,
  shutdownGracePeriod: plain(r.duration()),
  shutdownGracePeriodCriticalPods: plain(r.duration()),
  crashLoopBackOff: nested(() => ({}), { maxContainerRestartPeriod: plain(r.duration()) }),
  registerWithTaints: plain(r.list(r.taint)),
  registerNode: plain(r.bool),
  containerRuntimeEndpoint: plain(r.str, true),
  imageServiceEndpoint: plain(r.str),
};

/** Fields of the document itself, not of the configuration. */
const typeMetaFields = new Set(['apiVersion', 'kind']);

export interface DecodedKubeletConfig {
  config: KubeletConfiguration;
  warnings: string[];
}

/**
 * Decodes a KubeletConfiguration document (already parsed from YAML/JSON). Throws an
 * invalid-argument TskubeError naming the first bad field; the caller checks
 * apiVersion/kind and cross-field rules.
 */
export function decodeKubeletConfiguration(raw: unknown): DecodedKubeletConfig {
  const warnings: string[] = [];
  const warn: Warn = (line) => warnings.push(line);
  const config = decodeObject(raw, '', defaultKubeletConfiguration(), rules, warn, (key, value) => {
    if (typeMetaFields.has(key)) return;
    if (key in removedFields) warn(`KubeletConfiguration field "${key}" was ${removedFields[key]}; ignoring it`);
    else if (key in unsupportedFields) {
      if (!isUnsupportedAtDefault(key, value)) warn(`KubeletConfiguration field "${key}" is not supported by tskube yet; ignoring it`);
    } else warn(`KubeletConfiguration field "${key}" is unknown to tskube; ignoring it`);
  });
  const file = raw as Record<string, unknown>;
  const defaults = defaultKubeletConfiguration();
  for (const key of readButIgnoredFields) {
    if (config[key] !== defaults[key]) warn(`KubeletConfiguration field "${key}" is not supported by tskube yet; ignoring it`);
  }
  applyDependentDefaults(config, file);
  return { config, warnings };
}

const isSet = (v: unknown) => v !== undefined && v !== null && v !== '' && v !== 0 && v !== '0s';

// Defaults that depend on other fields, as upstream's SetDefaults_KubeletConfiguration does.
function applyDependentDefaults(config: KubeletConfiguration, file: Record<string, unknown>): void {
  // Backward compatibility: an explicit update frequency also sets the report frequency.
  if (!isSet(file['nodeStatusReportFrequency']) && isSet(file['nodeStatusUpdateFrequency'])) {
    config.nodeStatusReportFrequency = config.nodeStatusUpdateFrequency;
  }
  if (config.podPidsLimit < 0) config.podPidsLimit = -1;
  if (file['serializeImagePulls'] === undefined || file['serializeImagePulls'] === null) {
    config.serializeImagePulls = config.maxParallelImagePulls === undefined || config.maxParallelImagePulls < 2;
  }
  // A file's evictionHard replaces the defaults unless it asks for them to be merged in.
  if (file['evictionHard'] !== undefined && file['evictionHard'] !== null && config.mergeDefaultEvictionSettings) {
    config.evictionHard = { ...defaultEvictionHard, ...config.evictionHard };
  }
}
