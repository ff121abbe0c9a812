// Turns the decoded YAML/JSON of a KubeProxyConfiguration into the typed config: each
// field checked for its type, upstream's defaults where the file is silent (or holds the
// zero value that upstream's defaulting replaces), and one warning per field tskube
// ignores. kubeadm writes every field out, mostly at zero values: those warn about nothing.
import { defaultAddresses, defaultProxyConfiguration, healthzPort, metricsPort, appendPortIfNeeded } from './defaults.js';
import * as r from '../../common/field-readers.js';
import { decodeObject, plain, type Rule, type Rules, type Warn } from '../../common/object-decoder.js';
import { type KubeProxyConfiguration, localModes, proxyModes } from './types.js';

/** Fields tskube does not act on, with the value at which ignoring them changes nothing. */
const ignoredAtDefault: Readonly<Record<string, unknown>> = {
  enableProfiling: false,
  showHiddenMetricsForVersion: '',
  windowsRunAsService: false,
  winkernel: {},
  portRange: '',
  'clientConnection.acceptContentTypes': '',
  'clientConnection.contentType': 'application/vnd.kubernetes.protobuf',
  'clientConnection.qps': 5,
  'clientConnection.burst': 10,
  'logging.flushFrequency': '5s',
  'logging.vmodule': [],
  'logging.options': {},
};

/** Fields without a rule: apiVersion and kind pass; an ignored one warns unless at its default. */
const unknownField =
  (warn: Warn) =>
  (_key: string, value: unknown, fieldPath: string): void => {
    if (fieldPath === 'apiVersion' || fieldPath === 'kind') return;
    if (!(fieldPath in ignoredAtDefault)) warn(`KubeProxyConfiguration field "${fieldPath}" is unknown to tskube; ignoring it`);
    else if (!isZeroValue(value) && JSON.stringify(value) !== JSON.stringify(ignoredAtDefault[fieldPath])) {
      warn(`KubeProxyConfiguration field "${fieldPath}" is not supported by tskube; ignoring it`);
    }
  };

function nested<T extends object>(defaults: () => T, rules: Rules<T>): Rule<T> {
  return { read: (v, p, warn) => decodeObject(v, p, defaults(), rules, warn, unknownField(warn)) };
}

const cidrText: r.Reader<string> = (v, p) => r.str(v, p).trim();
const featureGates: r.Reader<Record<string, boolean>> = (v, path) => {
  if (!r.isPlainObject(v)) throw r.invalid(path, v, 'want a map of feature names to true or false');
  const out: Record<string, boolean> = {};
  for (const [k, x] of Object.entries(v)) out[k] = r.bool(x, `${path}.${k}`);
  return out;
};

const d = defaultProxyConfiguration;

const rules: Rules<KubeProxyConfiguration> = {
  featureGates: plain(featureGates),
  clientConnection: nested(() => d().clientConnection, { kubeconfig: plain(r.str) }),
  logging: nested(() => d().logging, { format: plain(r.oneOf(['text', 'json'] as const), true), verbosity: plain(r.int(0)) }),
  hostnameOverride: plain(r.str),
  bindAddress: plain(r.str, true),
  healthzBindAddress: plain(r.str, true),
  metricsBindAddress: plain(r.str, true),
  bindAddressHardFail: plain(r.bool),
  mode: plain(r.oneOf(['', ...proxyModes] as const)),
  iptables: nested(() => d().iptables, {
    masqueradeBit: plain(r.int()),
    masqueradeAll: plain(r.bool),
    localhostNodePorts: plain(r.bool),
    syncPeriod: plain(r.duration(true), true),
    minSyncPeriod: plain(r.duration(true), true),
  }),
  ipvs: nested(() => d().ipvs, {
    syncPeriod: plain(r.duration(true), true),
    minSyncPeriod: plain(r.duration(true)),
    scheduler: plain(r.str),
    excludeCIDRs: plain(r.list(cidrText)),
    strictARP: plain(r.bool),
    tcpTimeout: plain(r.duration(true)),
    tcpFinTimeout: plain(r.duration(true)),
    udpTimeout: plain(r.duration(true)),
  }),
  nftables: nested(() => d().nftables, {
    masqueradeBit: plain(r.int()),
    masqueradeAll: plain(r.bool),
    syncPeriod: plain(r.duration(true), true),
    minSyncPeriod: plain(r.duration(true), true),
  }),
  detectLocalMode: plain(r.oneOf(['', ...localModes] as const)),
  detectLocal: nested(() => d().detectLocal, { bridgeInterface: plain(r.str), interfaceNamePrefix: plain(r.str) }),
  clusterCIDR: plain(r.str),
  nodePortAddresses: plain(r.list(cidrText)),
  oomScoreAdj: plain(r.int()),
  conntrack: nested(() => d().conntrack, {
    maxPerCore: plain(r.int()),
    min: plain(r.int()),
    tcpEstablishedTimeout: plain(r.duration(true)),
    tcpCloseWaitTimeout: plain(r.duration(true)),
    tcpBeLiberal: plain(r.bool),
    udpTimeout: plain(r.duration(true)),
    udpStreamTimeout: plain(r.duration(true)),
  }),
  configSyncPeriod: plain(r.duration(true), true),
};

export interface DecodedProxyConfig {
  config: KubeProxyConfiguration;
  warnings: string[];
}

/**
 * Decodes a KubeProxyConfiguration document (already parsed from YAML/JSON). Throws an
 * invalid-argument TskubeError naming the first field of the wrong type; the caller
 * checks apiVersion/kind and cross-field rules.
 */
export function decodeProxyConfiguration(raw: unknown): DecodedProxyConfig {
  const warnings: string[] = [];
  const warn: Warn = (line) => warnings.push(line);
  const config = decodeObject(raw, '', defaultProxyConfiguration(), rules, warn, unknownField(warn));
  applyDependentDefaults(config, raw as Record<string, unknown>);
  return { config, warnings };
}

// The addresses default from bindAddress, and a bare IP gets the default port.
function applyDependentDefaults(config: KubeProxyConfiguration, file: Record<string, unknown>): void {
  const defaults = defaultAddresses(config.bindAddress);
  const given = (key: string) => typeof file[key] === 'string' && file[key] !== '';
  config.healthzBindAddress = given('healthzBindAddress') ? appendPortIfNeeded(config.healthzBindAddress, healthzPort) : defaults.healthz;
  config.metricsBindAddress = given('metricsBindAddress') ? appendPortIfNeeded(config.metricsBindAddress, metricsPort) : defaults.metrics;
}

/** Whether a value is its type's zero value or empty (after which upstream applies its default). */
function isZeroValue(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '' || v === '0s' || v === '0') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.values(v).every(isZeroValue);
  return false;
}
