import { TskubeError } from '../../common/errors.js';
import { parseDuration } from '../args.js';

/** The sockets tried, in order, when no endpoint is configured anywhere (as crictl). */
export const defaultRuntimeEndpoints = ['unix:///run/containerd/containerd.sock', 'unix:///run/crio/crio.sock', 'unix:///var/run/cri-dockerd.sock'];
export const defaultConfigPath = '/etc/crictl.yaml';
export const defaultKubeletConfigPath = '/var/lib/kubelet/config.yaml';
export const defaultTimeoutMs = 2000;

/** Global flags as given on the command line (before the subcommand). */
export interface GlobalFlags {
  runtimeEndpoint?: string;
  imageEndpoint?: string;
  timeout?: string;
  debug?: boolean;
  config?: string;
}

/** The keys of /etc/crictl.yaml that crictl reads. */
export interface CrictlConfigFile {
  'runtime-endpoint'?: string;
  'image-endpoint'?: string;
  timeout?: number;
  debug?: boolean;
  'pull-image-on-create'?: boolean;
  'disable-pull-on-run'?: boolean;
}

export interface SettingsSources {
  flags: GlobalFlags;
  env: Readonly<Record<string, string | undefined>>;
  /** The parsed crictl config file, if one was found. */
  configFile?: { path: string; values: CrictlConfigFile };
  /** containerRuntimeEndpoint from the local kubelet's config, if any. */
  kubelet?: { path: string; endpoint: string };
}

export interface CrictlSettings {
  /** The crictl config file in force (read or not): what `crictl config --set` writes. */
  configPath: string;
  /** Endpoints to try in order; one when configured, the defaults otherwise. */
  runtimeEndpoints: string[];
  imageEndpoint?: string;
  /** Where the runtime endpoint came from, for --debug and error messages. */
  runtimeEndpointSource: string;
  timeoutMs: number;
  debug: boolean;
  pullImageOnCreate: boolean;
  disablePullOnRun: boolean;
}

/**
 * Precedence, as crictl users expect: flag, then environment variable, then the crictl
 * config file, then the local kubelet's containerRuntimeEndpoint, then the default sockets.
 */
export function resolveSettings(s: SettingsSources): CrictlSettings {
  const file = s.configFile?.values ?? {};
  const pick = (...candidates: [string | undefined, string][]) => {
    for (const [value, source] of candidates) if (value !== undefined && value !== '') return { value, source };
    return undefined;
  };
  const runtime = pick(
    [s.flags.runtimeEndpoint, '--runtime-endpoint'],
    [s.env['CONTAINER_RUNTIME_ENDPOINT'], 'CONTAINER_RUNTIME_ENDPOINT'],
    [file['runtime-endpoint'], s.configFile?.path ?? 'config file'],
    [s.kubelet?.endpoint, `containerRuntimeEndpoint in ${s.kubelet?.path ?? 'kubelet config'}`],
  );
  const image = pick(
    [s.flags.imageEndpoint, '--image-endpoint'],
    [s.env['IMAGE_SERVICE_ENDPOINT'], 'IMAGE_SERVICE_ENDPOINT'],
    [file['image-endpoint'], s.configFile?.path ?? 'config file'],
  );
  let timeoutMs = defaultTimeoutMs;
  if (s.flags.timeout !== undefined) timeoutMs = parseDuration(s.flags.timeout, '--timeout');
  else if (file.timeout !== undefined && file.timeout > 0) timeoutMs = file.timeout * 1000;
  const settings: CrictlSettings = {
    configPath: s.flags.config || s.env['CRI_CONFIG_FILE'] || s.configFile?.path || defaultConfigPath,
    runtimeEndpoints: runtime ? [runtime.value] : [...defaultRuntimeEndpoints],
    runtimeEndpointSource: runtime?.source ?? 'default endpoints',
    timeoutMs,
    debug: s.flags.debug ?? file.debug ?? false,
    pullImageOnCreate: file['pull-image-on-create'] ?? false,
    disablePullOnRun: file['disable-pull-on-run'] ?? false,
  };
  if (image) settings.imageEndpoint = image.value;
  return settings;
}

/** Checks the shape of a parsed crictl config file; names the key and value that are wrong. */
export function validateConfigFile(path: string, parsed: unknown): CrictlConfigFile {
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed))
    throw new TskubeError('invalid-argument', `${path}: want a mapping of options, got ${JSON.stringify(parsed)}`);
  const out: CrictlConfigFile = {};
  const types: Record<keyof CrictlConfigFile, 'string' | 'number' | 'boolean'> = {
    'runtime-endpoint': 'string',
    'image-endpoint': 'string',
    timeout: 'number',
    debug: 'boolean',
    'pull-image-on-create': 'boolean',
    'disable-pull-on-run': 'boolean',
  };
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    const want = types[key as keyof CrictlConfigFile];
    if (!want) continue; // crictl ignores keys it does not know
    if (typeof value !== want) throw new TskubeError('invalid-argument', `${path}: ${key}: want a ${want}, got ${JSON.stringify(value)}`);
    (out as Record<string, unknown>)[key] = value;
  }
  return out;
}
