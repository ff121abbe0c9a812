import { join } from 'node:path';
import { TskubeError } from '../../common/errors.js';
import { defaultKubeletConfiguration } from './defaults.js';
import { requireGoDuration } from '../../common/go-duration.js';
import { parseBool, parseGoFlags, type FlagDef, parseIntFlag } from '../../common/go-flags.js';
import { forbiddenNodeLabels, parseIPList, parseKeyValueList, parseNodeIPs, parseTaintList } from './flag-values.js';
import { isIP } from 'node:net';
import { loadKubeletConfig, type ReadTextFile } from './load.js';
import { cgroupDrivers, type CgroupDriver, type KubeletConfiguration } from './types.js';
import { validateKubeletConfiguration } from './validate.js';
import type { PodNetworkSettings } from '../network/pod-network.js';

/** Everything the kubelet needs to start, from the flags, the --config file and upstream defaults. */
export interface KubeletOptions {
  /** --hostname-override, else the host name; trimmed and lowercased as upstream does. */
  nodeName: string;
  hostnameOverride?: string;
  /** --node-ip: none (auto-detect), one, or one IPv4 plus one IPv6. */
  nodeIPs: string[];
  /** --node-labels, checked against what the kubelet may set on its own Node. */
  nodeLabels: Record<string, string>;
  /** --kubeconfig; absent means standalone mode (static pods only). */
  kubeconfig?: string;
  /** --bootstrap-kubeconfig: used to get a client certificate when --kubeconfig is missing or invalid. */
  bootstrapKubeconfig?: string;
  /** --config, when given. */
  configFile?: string;
  /** --root-dir (default /var/lib/kubelet). */
  rootDir: string;
  /** --cert-dir (default <root-dir>/pki). */
  certDir: string;
  /** --pod-infra-container-image (deprecated upstream: the sandbox image comes from the runtime). */
  podInfraContainerImage?: string;
  /** --v, else logging.verbosity. */
  verbosity: number;
  /** The KubeletConfiguration with flags applied over the file and defaults. */
  config: KubeletConfiguration;
  /** Where the per-container log links go (upstream fixes it at /var/log/containers; tests move it). */
  containerLogLinksDir: string;
  /** How often dead containers and the logs of gone pods are collected (upstream: every minute). */
  containerGcPeriodMs: number;
  /** How often unused images are collected (upstream: every 5 minutes). */
  imageGcPeriodMs: number;
  /** When in its life a projected service-account token is renewed (upstream: 0.8; tests shorten it to see a renewal). */
  tokenRefreshFraction?: number;
  /** --network-plugin=cni: the kubelet runs the pod network's CNI plugins (docs/cni.md); absent: the runtime's own CNI config does. */
  cni?: PodNetworkSettings;
}

export interface ResolvedKubeletOptions {
  options: KubeletOptions;
  /** One line per ignored field, deprecated flag or similar; print them, then go on. */
  warnings: string[];
}

/** What resolution needs to know about the host. */
export interface KubeletHost {
  hostname: string;
}

export const defaultRootDir = '/var/lib/kubelet';
export const defaultCniConfDir = '/etc/tskube/cni/net.d';
export const defaultCniBinDirs = ['/opt/cni/bin', '/usr/lib/cni'];
export const defaultCniCacheDir = '/var/lib/cni';

type Apply = (value: string, config: KubeletConfiguration, flag: string) => void;

interface KubeletFlag extends FlagDef {
  /** Flags that set a KubeletConfiguration field; applied over the --config file. */
  toConfig?: Apply;
  deprecated?: string;
  help: string;
}

const str =
  (set: (c: KubeletConfiguration, v: string) => void): Apply =>
  (v, c) =>
    set(c, v);

export const kubeletFlags: readonly KubeletFlag[] = [
  { name: 'config', kind: 'string', help: 'KubeletConfiguration file; flags override it' },
  { name: 'kubeconfig', kind: 'string', help: 'kubeconfig for the API server; without it the kubelet runs standalone' },
  { name: 'bootstrap-kubeconfig', kind: 'string', help: 'kubeconfig used to request a client certificate when --kubeconfig has none' },
  { name: 'hostname-override', kind: 'string', help: 'node name to use instead of the host name' },
  { name: 'node-ip', kind: 'string', help: "the node's IP address(es), comma-separated for dual stack" },
  { name: 'node-labels', kind: 'string', repeatable: true, help: 'labels to add when registering the node, key=value,...' },
  { name: 'root-dir', kind: 'string', help: `directory for kubelet files (default ${defaultRootDir})` },
  { name: 'cert-dir', kind: 'string', help: 'directory for TLS certificates (default <root-dir>/pki)' },
  {
    name: 'pod-infra-container-image',
    kind: 'string',
    deprecated: "the sandbox image comes from the container runtime's configuration",
    help: 'pause image, kept out of image garbage collection',
  },
  { name: 'v', shorthand: 'v', kind: 'string', help: 'log verbosity (logging.verbosity)' },
  {
    name: 'register-with-taints',
    kind: 'string',
    repeatable: true,
    help: 'taints to register the node with, key=value:Effect,...',
    toConfig: (v, c, f) => c.registerWithTaints.push(...parseTaintList(v, f)),
  },
  { name: 'container-runtime-endpoint', kind: 'string', help: 'CRI socket', toConfig: str((c, v) => (c.containerRuntimeEndpoint = v)) },
  { name: 'image-service-endpoint', kind: 'string', help: 'CRI image service socket', toConfig: str((c, v) => (c.imageServiceEndpoint = v)) },
  { name: 'fail-swap-on', kind: 'bool', help: 'refuse to start with swap on', toConfig: (v, c, f) => (c.failSwapOn = parseBool(v, f)) },
  {
    name: 'pod-manifest-path',
    kind: 'string',
    deprecated: 'use staticPodPath in the --config file',
    help: 'static pod directory (staticPodPath)',
    toConfig: str((c, v) => (c.staticPodPath = v)),
  },
  { name: 'cluster-dns', kind: 'string', help: 'DNS server IPs for pods, comma-separated', toConfig: (v, c, f) => (c.clusterDNS = parseIPList(v, f)) },
  { name: 'cluster-domain', kind: 'string', help: 'cluster DNS domain', toConfig: str((c, v) => (c.clusterDomain = v)) },
  {
    name: 'cgroup-driver',
    kind: 'string',
    help: 'cgroupfs or systemd',
    toConfig: (v, c, f) => {
      if (!(cgroupDrivers as readonly string[]).includes(v))
        throw new TskubeError('invalid-argument', `${f}: invalid value "${v}": want one of ${cgroupDrivers.join(', ')}`);
      c.cgroupDriver = v as CgroupDriver;
    },
  },
  { name: 'cgroup-root', kind: 'string', help: 'root cgroup for pods', toConfig: str((c, v) => (c.cgroupRoot = v)) },
  { name: 'resolv-conf', kind: 'string', help: 'resolver configuration pods inherit', toConfig: str((c, v) => (c.resolvConf = v)) },
  { name: 'max-pods', kind: 'string', help: 'maximum pods on this node', toConfig: (v, c, f) => (c.maxPods = parseIntFlag(v, f, 0)) },
  {
    name: 'rotate-certificates',
    kind: 'bool',
    help: 'renew the client certificate before it expires',
    toConfig: (v, c, f) => (c.rotateCertificates = parseBool(v, f)),
  },
  {
    name: 'runtime-request-timeout',
    kind: 'string',
    help: 'timeout for CRI calls except long-running ones',
    toConfig: (v, c, f) => {
      const ms = requireGoDuration(v, f);
      if (ms <= 0) throw new TskubeError('invalid-argument', `${f}: invalid value "${v}": must be positive`);
      c.runtimeRequestTimeout = ms;
    },
  },
  { name: 'provider-id', kind: 'string', help: 'cloud provider ID of the node', toConfig: str((c, v) => (c.providerID = v)) },
  { name: 'register-node', kind: 'bool', help: 'register the node with the API server', toConfig: (v, c, f) => (c.registerNode = parseBool(v, f)) },
  {
    name: 'address',
    kind: 'string',
    help: 'IP address to serve on',
    toConfig: (v, c, f) => {
      if (isIP(v) === 0) throw new TskubeError('invalid-argument', `${f}: invalid value "${v}": want an IP address`);
      c.address = v;
    },
  },
  { name: 'port', kind: 'string', help: 'HTTPS port', toConfig: (v, c, f) => (c.port = parseIntFlag(v, f, 1, 65535)) },
  { name: 'healthz-port', kind: 'string', help: 'healthz port, 0 to disable', toConfig: (v, c, f) => (c.healthzPort = parseIntFlag(v, f, 0, 65535)) },
  {
    name: 'network-plugin',
    kind: 'string',
    help: 'cni: the kubelet runs the CNI plugins of --cni-conf-dir, the runtime calls it through tskube-cni-shim; empty (default): the runtime runs its own CNI config',
  },
  { name: 'cni-conf-dir', kind: 'string', help: `with --network-plugin=cni: the pod network's CNI config folder (default ${defaultCniConfDir})` },
  { name: 'cni-bin-dir', kind: 'string', help: `with --network-plugin=cni: CNI plugin folders, comma-separated (default ${defaultCniBinDirs.join(',')})` },
  {
    name: 'cni-cache-dir',
    kind: 'string',
    help: `with --network-plugin=cni: the CNI result cache root, shared with the runtime (default ${defaultCniCacheDir})`,
  },
  {
    name: 'cni-runtime-conf-dir',
    kind: 'string',
    help: "with --network-plugin=cni: where the runtime reads its CNI config, for the shim's 00-tskube.conflist (default: what the runtime reports, else /etc/cni/net.d)",
  },
  { name: 'help', shorthand: 'h', kind: 'bool', help: 'show this help' },
];

const cniFlags = ['cni-conf-dir', 'cni-bin-dir', 'cni-cache-dir', 'cni-runtime-conf-dir'];

/** --network-plugin and the --cni-* flags: the settings of kubelet-managed pod networking, or undefined for the runtime's own. */
function podNetworkSettings(values: Map<string, string[]>, warnings: string[]): PodNetworkSettings | undefined {
  const plugin = last(values, 'network-plugin') ?? '';
  if (plugin === '') {
    const given = cniFlags.filter((f) => values.has(f));
    if (given.length) warnings.push(`${given.map((f) => `--${f}`).join(', ')} ignored without --network-plugin=cni`);
    return undefined;
  }
  if (plugin !== 'cni') {
    throw new TskubeError(
      'invalid-argument',
      `--network-plugin: invalid value "${plugin}": want "cni" (the kubelet runs the CNI plugins) or "" (the runtime does)`,
    );
  }
  const binDirs = (last(values, 'cni-bin-dir') ?? defaultCniBinDirs.join(','))
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean);
  if (binDirs.length === 0) throw new TskubeError('invalid-argument', '--cni-bin-dir: no folder given');
  return {
    confDir: nonEmpty(last(values, 'cni-conf-dir')) ?? defaultCniConfDir,
    binDirs,
    cacheDir: nonEmpty(last(values, 'cni-cache-dir')) ?? defaultCniCacheDir,
    runtimeConfDir: last(values, 'cni-runtime-conf-dir') ?? '',
  };
}

/** Usage text for `tskube kubelet --help`. */
export function kubeletUsage(): string {
  const lines = ['Usage: tskube kubelet [flags]', '', 'Flags:'];
  for (const f of kubeletFlags) {
    const name = `${f.shorthand ? `-${f.shorthand}, ` : '    '}--${f.name}${f.kind === 'bool' ? '' : ' value'}`;
    lines.push(`  ${name.padEnd(40)} ${f.help}${f.deprecated ? ' (DEPRECATED)' : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

const last = (values: Map<string, string[]>, name: string) => values.get(name)?.at(-1);

/** Whether argv asks for help (then nothing else is resolved). */
export function wantsHelp(argv: readonly string[]): boolean {
  const { values } = parseGoFlags(argv, kubeletFlags);
  return last(values, 'help') === 'true';
}

/**
 * Resolves the kubelet's flags and --config file into KubeletOptions. Reads only the
 * --config file (through `readFile`); touches nothing. Throws an invalid-argument
 * TskubeError naming the flag or field and the value.
 */
export async function resolveKubeletOptions(argv: readonly string[], host: KubeletHost, readFile?: ReadTextFile): Promise<ResolvedKubeletOptions> {
  const { values, positionals } = parseGoFlags(argv, kubeletFlags);
  if (positionals.length > 0) throw new TskubeError('invalid-argument', `the kubelet takes no arguments, got "${positionals.join(' ')}"`);
  const warnings: string[] = [];

  const configFile = nonEmpty(last(values, 'config'));
  let config = defaultKubeletConfiguration();
  if (configFile !== undefined) {
    const loaded = await loadKubeletConfig(configFile, readFile);
    config = loaded.config;
    warnings.push(...loaded.warnings);
  }

  for (const flag of kubeletFlags) {
    const given = values.get(flag.name);
    if (!given) continue;
    if (flag.deprecated) warnings.push(`flag --${flag.name} is deprecated: ${flag.deprecated}`);
    if (!flag.toConfig) continue;
    // A taint list given on the command line replaces the file's, as upstream's flag precedence does.
    if (flag.name === 'register-with-taints') config.registerWithTaints = [];
    for (const v of given) flag.toConfig(v, config, `--${flag.name}`);
  }

  const v = last(values, 'v');
  if (v !== undefined) config.logging.verbosity = parseIntFlag(v, '--v', 0);

  // Upstream puts pods under the root cgroup when --cgroups-per-qos has no --cgroup-root.
  if (config.cgroupsPerQOS && config.cgroupRoot === '') config.cgroupRoot = '/';
  try {
    validateKubeletConfiguration(config);
  } catch (err) {
    throw configFile === undefined ? err : TskubeError.from(err).wrap(`${configFile} with flags applied`);
  }

  const hostnameOverride = nonEmpty(last(values, 'hostname-override')?.trim());
  const nodeName = (hostnameOverride ?? host.hostname).trim().toLowerCase();
  if (nodeName === '') throw new TskubeError('invalid-argument', 'node name: the host name is empty; set --hostname-override');
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(nodeName) || nodeName.length > 253) {
    throw new TskubeError('invalid-argument', `node name: invalid value "${nodeName}": want a DNS subdomain (lowercase letters, digits, "-" and ".")`);
  }

  const nodeLabels: Record<string, string> = {};
  for (const text of values.get('node-labels') ?? []) Object.assign(nodeLabels, parseKeyValueList(text, '--node-labels'));
  const forbidden = forbiddenNodeLabels(nodeLabels);
  if (forbidden.length > 0) {
    throw new TskubeError(
      'invalid-argument',
      `--node-labels: unknown 'kubernetes.io' or 'k8s.io' labels: ${forbidden.join(', ')} (only kubelet.kubernetes.io/*, node.kubernetes.io/* and the well-known topology labels are allowed)`,
    );
  }

  const kubeconfig = nonEmpty(last(values, 'kubeconfig'));
  const bootstrapKubeconfig = nonEmpty(last(values, 'bootstrap-kubeconfig'));
  if (bootstrapKubeconfig !== undefined && kubeconfig === undefined) {
    throw new TskubeError('invalid-argument', '--bootstrap-kubeconfig needs --kubeconfig: the path where the bootstrapped kubeconfig is written');
  }
  const rootDir = nonEmpty(last(values, 'root-dir')) ?? defaultRootDir;
  const podInfraContainerImage = nonEmpty(last(values, 'pod-infra-container-image'));
  const cni = podNetworkSettings(values, warnings);

  const options: KubeletOptions = {
    nodeName,
    nodeIPs: parseNodeIPs(last(values, 'node-ip') ?? '', '--node-ip'),
    nodeLabels,
    rootDir,
    certDir: nonEmpty(last(values, 'cert-dir')) ?? join(rootDir, 'pki'),
    verbosity: config.logging.verbosity,
    config,
    containerLogLinksDir: '/var/log/containers',
    containerGcPeriodMs: 60_000,
    imageGcPeriodMs: 300_000,
    ...(hostnameOverride !== undefined && { hostnameOverride }),
    ...(kubeconfig !== undefined && { kubeconfig }),
    ...(bootstrapKubeconfig !== undefined && { bootstrapKubeconfig }),
    ...(configFile !== undefined && { configFile }),
    ...(podInfraContainerImage !== undefined && { podInfraContainerImage }),
    ...(cni !== undefined && { cni }),
  };
  return { options, warnings };
}

const nonEmpty = (s: string | undefined) => (s === undefined || s === '' ? undefined : s);
