import { readFile } from 'node:fs/promises';
import { errorMessage, TskubeError } from '../../common/errors.js';
import { loadYaml } from '../../common/yaml.js';
import { defaultConfigPath, defaultKubeletConfigPath, validateConfigFile, type CrictlConfigFile, type GlobalFlags } from './settings.js';

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TskubeError('permission-denied', `reading ${path}: ${errorMessage(err)}`);
  }
}

async function parseYaml(path: string, text: string): Promise<unknown> {
  const { parse } = await loadYaml();
  try {
    return parse(text);
  } catch (err) {
    throw new TskubeError('invalid-argument', `${path}: not valid YAML: ${errorMessage(err).split('\n')[0]}`);
  }
}

/** Reads the crictl config file: --config, else CRI_CONFIG_FILE, else /etc/crictl.yaml. */
export async function loadConfigFile(
  flags: GlobalFlags,
  env: Readonly<Record<string, string | undefined>>,
): Promise<{ path: string; values: CrictlConfigFile } | undefined> {
  const explicit = flags.config ?? env['CRI_CONFIG_FILE'];
  const path = explicit || defaultConfigPath;
  const text = await readIfPresent(path);
  if (text === undefined) {
    if (explicit) throw new TskubeError('not-found', `config file ${path} does not exist`);
    return undefined;
  }
  return { path, values: validateConfigFile(path, await parseYaml(path, text)) };
}

/** containerRuntimeEndpoint from the local kubelet's KubeletConfiguration, if it has one. */
export async function loadKubeletEndpoint(path = defaultKubeletConfigPath): Promise<{ path: string; endpoint: string } | undefined> {
  const text = await readIfPresent(path);
  if (text === undefined) return undefined;
  try {
    const parsed = (await parseYaml(path, text)) as { containerRuntimeEndpoint?: unknown } | null;
    const endpoint = parsed?.containerRuntimeEndpoint;
    return typeof endpoint === 'string' && endpoint ? { path, endpoint } : undefined;
  } catch {
    return undefined; // a broken kubelet config is the kubelet's problem, not crictl's
  }
}
