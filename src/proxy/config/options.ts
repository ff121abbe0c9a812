// kube-proxy's command line, resolved with the --config file into ProxyOptions. As
// upstream: with --config the file is the whole configuration and the flags that set its
// fields are ignored (tskube says so, once per flag); --hostname-override, --v, --master
// and --cleanup apply either way.
import { hostname as osHostname } from 'node:os';
import { TskubeError } from '../../common/errors.js';
import { ipFamily, parseCidr } from '../net/ip.js';
import { appendPortIfNeeded, defaultAddresses, defaultProxyConfiguration, healthzPort, metricsPort } from './defaults.js';
import { badFlagValue as bad, type FlagDef, parseBool, parseGoFlags, parseIntFlag } from '../../common/go-flags.js';
import { formatGoDuration, parseGoDuration } from '../../common/go-duration.js';
import { loadProxyConfig, type ReadTextFile } from './load.js';
import { effectiveMasquerade, effectiveMode, effectiveSyncPeriods } from './sync-periods.js';
import { type KubeProxyConfiguration, type LocalMode, localModes, type Millis, type ProxyMode, proxyModes } from './types.js';
import { validateHostPort, validateProxyConfiguration } from './validate.js';

/** Everything `tskube proxy` needs to start. */
export interface ProxyOptions {
  /** The configuration with defaults, the file and (without a file) the flags applied. */
  config: KubeProxyConfiguration;
  mode: ProxyMode;
  /** hostnameOverride, else the host name; trimmed and lowercased as upstream does. */
  nodeName: string;
  /** clientConnection.kubeconfig; absent: in-cluster service account, as upstream. */
  kubeconfig?: string;
  /** --master overrides the kubeconfig's server. */
  master?: string;
  configFile?: string;
  cleanup: boolean;
  syncPeriodMs: Millis;
  minSyncPeriodMs: Millis;
  masqueradeBit: number;
  masqueradeAll: boolean;
  /** The cluster CIDRs, at most one per family. */
  clusterCIDRs: string[];
  verbosity: number;
}

export interface ResolvedProxyOptions {
  options: ProxyOptions;
  /** One line per ignored flag or field; print them once, then go on. */
  warnings: string[];
}

type Apply = (value: string, c: KubeProxyConfiguration, flag: string) => void;

interface ProxyFlag extends FlagDef {
  help: string;
  /** Sets a KubeProxyConfiguration field; used only without --config. */
  toConfig?: Apply;
  /** Accepted for compatibility; tskube does not act on it. */
  ignored?: string;
  deprecated?: string;
}

function durationFlag(set: (c: KubeProxyConfiguration, ms: Millis) => void): Apply {
  return (v, c, f) => {
    const ms = parseGoDuration(v);
    if (ms === undefined) throw bad(f, v, 'want a Go duration such as 30s or 1m0s');
    set(c, ms);
  };
}

function intFlag(set: (c: KubeProxyConfiguration, n: number) => void, min = -(2 ** 31), max = 2 ** 31 - 1): Apply {
  return (v, c, f) => set(c, parseIntFlag(v, f, min, max));
}

const boolFlag =
  (set: (c: KubeProxyConfiguration, b: boolean) => void): Apply =>
  (v, c, f) =>
    set(c, parseBool(v, f));

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

function ipPortFlag(set: (c: KubeProxyConfiguration, v: string) => void, port: number): Apply {
  return (v, c, f) => {
    if (v === '') return set(c, '');
    const address = appendPortIfNeeded(v, port);
    try {
      validateHostPort(f, address);
    } catch {
      throw bad(f, v, 'want IP or IP:port');
    }
    set(c, address);
  };
}

export const proxyFlags: readonly ProxyFlag[] = [
  { name: 'config', kind: 'string', help: 'KubeProxyConfiguration file; with it, the flags that set its fields are ignored (as upstream)' },
  { name: 'cleanup', kind: 'bool', help: 'remove the rules of every back end and exit' },
  { name: 'kubeconfig', kind: 'string', help: 'kubeconfig for the API server', toConfig: (v, c) => (c.clientConnection.kubeconfig = v) },
  { name: 'master', kind: 'string', help: 'API server address (overrides the kubeconfig)' },
  { name: 'hostname-override', kind: 'string', help: 'node name to use instead of the host name' },
  {
    name: 'proxy-mode',
    kind: 'string',
    help: `nftables (default), iptables or ipvs`,
    toConfig: (v, c, f) => {
      if (v !== '' && !(proxyModes as readonly string[]).includes(v)) throw bad(f, v, `want one of ${proxyModes.join(', ')}`);
      c.mode = v as ProxyMode | '';
    },
  },
  {
    name: 'bind-address',
    kind: 'string',
    help: "the node's primary IP, when not 0.0.0.0 or ::",
    toConfig: (v, c, f) => {
      if (ipFamily(v) === undefined) throw bad(f, v, 'want an IP address');
      c.bindAddress = v;
    },
  },
  {
    name: 'healthz-bind-address',
    kind: 'string',
    help: `health check server address (default 0.0.0.0:${healthzPort}); "" disables it`,
    toConfig: ipPortFlag((c, v) => (c.healthzBindAddress = v), healthzPort),
  },
  {
    name: 'metrics-bind-address',
    kind: 'string',
    help: `metrics server address (default 127.0.0.1:${metricsPort})`,
    toConfig: ipPortFlag((c, v) => (c.metricsBindAddress = v), metricsPort),
  },
  { name: 'bind-address-hard-fail', kind: 'bool', help: 'exit when a server cannot bind its port', toConfig: boolFlag((c, b) => (c.bindAddressHardFail = b)) },
  {
    name: 'cluster-cidr',
    kind: 'string',
    help: 'pod CIDR(s), comma-separated for dual stack: traffic from elsewhere to a ClusterIP is masqueraded',
    toConfig: (v, c) => (c.clusterCIDR = v),
  },
  {
    name: 'nodeport-addresses',
    kind: 'string',
    repeatable: true,
    help: "CIDRs of the node addresses that accept NodePorts, or 'primary'",
    toConfig: (v, c) => (c.nodePortAddresses = [...c.nodePortAddresses, ...list(v)]),
  },
  {
    name: 'masquerade-all',
    kind: 'bool',
    help: 'masquerade all traffic sent to ClusterIPs',
    toConfig: boolFlag((c, b) => {
      c.iptables.masqueradeAll = b;
      c.nftables.masqueradeAll = b;
    }),
  },
  {
    name: 'iptables-masquerade-bit',
    kind: 'string',
    help: 'fwmark bit for packets to masquerade (iptables and ipvs modes)',
    toConfig: intFlag((c, n) => (c.iptables.masqueradeBit = n)),
  },
  {
    name: 'iptables-localhost-nodeports',
    kind: 'bool',
    help: 'accept NodePorts on 127.0.0.1 (iptables mode, IPv4)',
    toConfig: boolFlag((c, b) => (c.iptables.localhostNodePorts = b)),
  },
  {
    name: 'iptables-sync-period',
    kind: 'string',
    help: 'full resync interval (iptables and nftables modes)',
    toConfig: durationFlag((c, ms) => {
      c.iptables.syncPeriod = ms;
      c.nftables.syncPeriod = ms;
    }),
  },
  {
    name: 'iptables-min-sync-period',
    kind: 'string',
    help: 'least time between syncs (iptables and nftables modes); 0 syncs on every change',
    toConfig: durationFlag((c, ms) => {
      c.iptables.minSyncPeriod = ms;
      c.nftables.minSyncPeriod = ms;
    }),
  },
  { name: 'ipvs-sync-period', kind: 'string', help: 'full resync interval (ipvs mode)', toConfig: durationFlag((c, ms) => (c.ipvs.syncPeriod = ms)) },
  {
    name: 'ipvs-min-sync-period',
    kind: 'string',
    help: 'least time between syncs (ipvs mode)',
    toConfig: durationFlag((c, ms) => (c.ipvs.minSyncPeriod = ms)),
  },
  { name: 'ipvs-scheduler', kind: 'string', help: 'IPVS scheduler (default rr)', toConfig: (v, c) => (c.ipvs.scheduler = v) },
  {
    name: 'ipvs-exclude-cidrs',
    kind: 'string',
    help: 'CIDRs the IPVS cleanup leaves alone',
    toConfig: (v, c, f) => {
      for (const cidr of list(v)) if (!parseCidr(cidr)) throw bad(f, cidr, 'want a CIDR');
      c.ipvs.excludeCIDRs = list(v);
    },
  },
  { name: 'ipvs-strict-arp', kind: 'bool', help: 'set arp_ignore=1 and arp_announce=2', toConfig: boolFlag((c, b) => (c.ipvs.strictARP = b)) },
  { name: 'ipvs-tcp-timeout', kind: 'string', help: 'IPVS idle TCP timeout, 0 leaves it', toConfig: durationFlag((c, ms) => (c.ipvs.tcpTimeout = ms)) },
  { name: 'ipvs-tcpfin-timeout', kind: 'string', help: 'IPVS TCP FIN timeout, 0 leaves it', toConfig: durationFlag((c, ms) => (c.ipvs.tcpFinTimeout = ms)) },
  { name: 'ipvs-udp-timeout', kind: 'string', help: 'IPVS UDP timeout, 0 leaves it', toConfig: durationFlag((c, ms) => (c.ipvs.udpTimeout = ms)) },
  {
    name: 'detect-local-mode',
    kind: 'string',
    help: `how traffic from pods is told apart: ${localModes.join(', ')}`,
    toConfig: (v, c, f) => {
      if (v !== '' && !(localModes as readonly string[]).includes(v)) throw bad(f, v, `want one of ${localModes.join(', ')}`);
      c.detectLocalMode = v as LocalMode | '';
    },
  },
  { name: 'pod-bridge-interface', kind: 'string', help: 'bridge of the pods (BridgeInterface mode)', toConfig: (v, c) => (c.detectLocal.bridgeInterface = v) },
  {
    name: 'pod-interface-name-prefix',
    kind: 'string',
    help: 'interface name prefix of the pods (InterfaceNamePrefix mode)',
    toConfig: (v, c) => (c.detectLocal.interfaceNamePrefix = v),
  },
  { name: 'oom-score-adj', kind: 'string', help: 'oom_score_adj of the process', toConfig: intFlag((c, n) => (c.oomScoreAdj = n)) },
  { name: 'conntrack-max-per-core', kind: 'string', help: 'nf_conntrack_max per CPU, 0 leaves it', toConfig: intFlag((c, n) => (c.conntrack.maxPerCore = n)) },
  { name: 'conntrack-min', kind: 'string', help: 'least nf_conntrack_max', toConfig: intFlag((c, n) => (c.conntrack.min = n)) },
  {
    name: 'conntrack-tcp-timeout-established',
    kind: 'string',
    help: 'idle timeout of established TCP connections, 0 leaves it',
    toConfig: durationFlag((c, ms) => (c.conntrack.tcpEstablishedTimeout = ms)),
  },
  {
    name: 'conntrack-tcp-timeout-close-wait',
    kind: 'string',
    help: 'timeout of TCP connections in CLOSE_WAIT',
    toConfig: durationFlag((c, ms) => (c.conntrack.tcpCloseWaitTimeout = ms)),
  },
  { name: 'conntrack-tcp-be-liberal', kind: 'bool', help: 'set nf_conntrack_tcp_be_liberal', toConfig: boolFlag((c, b) => (c.conntrack.tcpBeLiberal = b)) },
  {
    name: 'conntrack-udp-timeout',
    kind: 'string',
    help: 'UDP unreplied timeout, 0 leaves it',
    toConfig: durationFlag((c, ms) => (c.conntrack.udpTimeout = ms)),
  },
  {
    name: 'conntrack-udp-timeout-stream',
    kind: 'string',
    help: 'UDP assured timeout, 0 leaves it',
    toConfig: durationFlag((c, ms) => (c.conntrack.udpStreamTimeout = ms)),
  },
  { name: 'config-sync-period', kind: 'string', help: 'informer resync period', toConfig: durationFlag((c, ms) => (c.configSyncPeriod = ms)) },
  {
    name: 'healthz-port',
    kind: 'string',
    deprecated: 'use --healthz-bind-address',
    help: 'health check port, 0 disables',
    toConfig: intFlag((c, port) => (c.healthzBindAddress = port === 0 ? '' : withPort(c.healthzBindAddress, port)), 0, 65535),
  },
  {
    name: 'metrics-port',
    kind: 'string',
    deprecated: 'use --metrics-bind-address',
    help: 'metrics port',
    toConfig: intFlag((c, port) => (c.metricsBindAddress = withPort(c.metricsBindAddress, port)), 1, 65535),
  },
  {
    name: 'feature-gates',
    kind: 'string',
    help: 'key=true|false,... (accepted; tskube acts on none)',
    toConfig: (v, c, f) => Object.assign(c.featureGates, parseGates(v, f)),
  },
  { name: 'kube-api-content-type', kind: 'string', ignored: 'tskube always uses JSON', help: 'content type of API requests' },
  { name: 'kube-api-qps', kind: 'string', ignored: 'tskube does not rate-limit its few API calls', help: 'API QPS' },
  { name: 'kube-api-burst', kind: 'string', ignored: 'tskube does not rate-limit its few API calls', help: 'API burst' },
  { name: 'profiling', kind: 'bool', ignored: 'tskube has no pprof handlers', help: 'profiling handlers' },
  { name: 'show-hidden-metrics-for-version', kind: 'string', ignored: 'tskube has no hidden metrics', help: 'show hidden metrics' },
  { name: 'init-only', kind: 'bool', ignored: 'tskube has no separate privileged initialisation', help: 'initialise and exit' },
  { name: 'write-config-to', kind: 'string', help: 'write the default configuration to this file and exit' },
  { name: 'v', shorthand: 'v', kind: 'string', help: 'log verbosity (logging.verbosity)' },
  { name: 'logging-format', kind: 'string', help: 'text or json (tskube writes JSON lines either way)' },
  { name: 'help', shorthand: 'h', kind: 'bool', help: 'show this help' },
];

function withPort(address: string, port: number): string {
  const host = /^\[(.*)\]:\d+$/.exec(address)?.[1] ?? address.replace(/:\d+$/, '');
  return appendPortIfNeeded(host, port);
}

function parseGates(text: string, flag: string): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const item of list(text)) {
    const eq = item.indexOf('=');
    if (eq < 0) throw bad(flag, item, 'want Name=true or Name=false');
    out[item.slice(0, eq).trim()] = parseBool(item.slice(eq + 1).trim(), flag);
  }
  return out;
}

export function proxyUsage(): string {
  const lines = ['Usage: tskube proxy [flags]', '', 'Flags:'];
  for (const f of proxyFlags) {
    const name = `${f.shorthand ? `-${f.shorthand}, ` : '    '}--${f.name}${f.kind === 'bool' ? '' : ' value'}`;
    const note = f.deprecated ? ' (DEPRECATED)' : f.ignored ? ' (accepted, ignored)' : '';
    lines.push(`  ${name.padEnd(44)} ${f.help}${note}`);
  }
  return `${lines.join('\n')}\n`;
}

const last = (values: Map<string, string[]>, name: string) => values.get(name)?.at(-1);

export function wantsProxyHelp(argv: readonly string[]): boolean {
  return last(parseGoFlags(argv, proxyFlags).values, 'help') === 'true';
}

export interface ProxyHost {
  hostname: string;
}

/**
 * Resolves the flags and --config file into ProxyOptions. Reads only the --config file;
 * touches nothing. Throws an invalid-argument TskubeError naming the flag or field and value.
 */
export async function resolveProxyOptions(
  argv: readonly string[],
  host: ProxyHost = { hostname: osHostname() },
  readFile?: ReadTextFile,
): Promise<ResolvedProxyOptions> {
  const { values, positionals } = parseGoFlags(argv, proxyFlags);
  if (positionals.length > 0) throw new TskubeError('invalid-argument', `tskube proxy takes no arguments, got "${positionals.join(' ')}"`);
  const warnings: string[] = [];
  const configFile = nonEmpty(last(values, 'config'));
  let config = defaultProxyConfiguration();
  if (configFile !== undefined) {
    const loaded = await loadProxyConfig(configFile, readFile);
    config = loaded.config;
    warnings.push(...loaded.warnings);
  }
  for (const flag of proxyFlags) {
    const given = values.get(flag.name);
    if (!given) continue;
    if (flag.deprecated) warnings.push(`flag --${flag.name} is deprecated: ${flag.deprecated}`);
    if (flag.ignored) warnings.push(`flag --${flag.name} is ignored: ${flag.ignored}`);
    if (!flag.toConfig) continue;
    if (configFile !== undefined) {
      warnings.push(`flag --${flag.name} is ignored because --config is given (as upstream: the file is the whole configuration)`);
      continue;
    }
    if (flag.name === 'nodeport-addresses') config.nodePortAddresses = [];
    for (const v of given) flag.toConfig(v, config, `--${flag.name}`);
  }
  if (configFile === undefined && values.has('bind-address')) {
    // The default addresses follow the bind address's family unless given.
    const d = defaultAddresses(config.bindAddress);
    if (!values.has('healthz-bind-address') && !values.has('healthz-port')) config.healthzBindAddress = d.healthz;
    if (!values.has('metrics-bind-address') && !values.has('metrics-port')) config.metricsBindAddress = d.metrics;
  }
  const v = last(values, 'v');
  if (v !== undefined) {
    if (!/^\d+$/.test(v)) throw bad('--v', v, 'want a whole number from 0');
    config.logging.verbosity = Number(v);
  }
  const hostnameOverride = last(values, 'hostname-override');
  if (hostnameOverride !== undefined) {
    if (hostnameOverride.trim() === '') throw new TskubeError('invalid-argument', '--hostname-override: empty hostname-override is invalid');
    config.hostnameOverride = hostnameOverride.trim().toLowerCase();
  }
  try {
    validateProxyConfiguration(config);
  } catch (err) {
    throw configFile === undefined ? err : TskubeError.from(err).wrap(configFile);
  }
  const nodeName = (config.hostnameOverride || host.hostname).trim().toLowerCase();
  if (nodeName === '') throw new TskubeError('invalid-argument', 'node name: the host name is empty; set --hostname-override');
  const periods = effectiveSyncPeriods(config);
  const masq = effectiveMasquerade(config);
  const master = nonEmpty(last(values, 'master'));
  const kubeconfig = nonEmpty(config.clientConnection.kubeconfig);
  const options: ProxyOptions = {
    config,
    mode: effectiveMode(config),
    nodeName,
    cleanup: last(values, 'cleanup') === 'true',
    syncPeriodMs: periods.syncPeriod,
    minSyncPeriodMs: periods.minSyncPeriod,
    masqueradeBit: masq.bit,
    masqueradeAll: masq.all,
    clusterCIDRs: list(config.clusterCIDR).map((c) => parseCidr(c)!.text),
    verbosity: config.logging.verbosity,
    ...(kubeconfig !== undefined && { kubeconfig }),
    ...(master !== undefined && { master }),
    ...(configFile !== undefined && { configFile }),
  };
  return { options, warnings };
}

/** --write-config-to: the path, when given. */
export function writeConfigTarget(argv: readonly string[]): string | undefined {
  return nonEmpty(last(parseGoFlags(argv, proxyFlags).values, 'write-config-to'));
}

/** The default configuration as upstream's --write-config-to writes it (YAML, Go durations). */
export function defaultConfigDocument(): Record<string, unknown> {
  const c = defaultProxyConfiguration();
  const dur = formatGoDuration;
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    bindAddress: c.bindAddress,
    bindAddressHardFail: c.bindAddressHardFail,
    clientConnection: { ...c.clientConnection },
    clusterCIDR: c.clusterCIDR,
    configSyncPeriod: dur(c.configSyncPeriod),
    conntrack: {
      ...c.conntrack,
      tcpEstablishedTimeout: dur(c.conntrack.tcpEstablishedTimeout),
      tcpCloseWaitTimeout: dur(c.conntrack.tcpCloseWaitTimeout),
      udpTimeout: dur(c.conntrack.udpTimeout),
      udpStreamTimeout: dur(c.conntrack.udpStreamTimeout),
    },
    detectLocal: { ...c.detectLocal },
    detectLocalMode: c.detectLocalMode,
    healthzBindAddress: c.healthzBindAddress,
    hostnameOverride: c.hostnameOverride,
    iptables: { ...c.iptables, syncPeriod: dur(c.iptables.syncPeriod), minSyncPeriod: dur(c.iptables.minSyncPeriod) },
    ipvs: {
      ...c.ipvs,
      syncPeriod: dur(c.ipvs.syncPeriod),
      minSyncPeriod: dur(c.ipvs.minSyncPeriod),
      tcpTimeout: dur(c.ipvs.tcpTimeout),
      tcpFinTimeout: dur(c.ipvs.tcpFinTimeout),
      udpTimeout: dur(c.ipvs.udpTimeout),
    },
    logging: { ...c.logging },
    metricsBindAddress: c.metricsBindAddress,
    mode: effectiveMode(c),
    nftables: { ...c.nftables, syncPeriod: dur(c.nftables.syncPeriod), minSyncPeriod: dur(c.nftables.minSyncPeriod) },
    nodePortAddresses: c.nodePortAddresses,
    oomScoreAdj: c.oomScoreAdj,
  };
}

const nonEmpty = (s: string | undefined) => (s === undefined || s === '' ? undefined : s);
