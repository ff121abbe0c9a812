// Reads every network configuration in a folder the way libcni finds them: files
// ending .conflist, .conf or .json, in lexical order; a .conflist's extra plugins
// from `<dir>/<network>/*.conf`. Each file is parsed on its own, so one broken file
// is reported and does not hide the others.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TskubeError } from '../../common/errors.js';
import type { NetworkConfig, PluginConfig } from '../network-config.js';
import { type ConfigFormat, formatOfFile, parseNetworkConfig, parsePluginFile, withSiblingPlugins } from './parse-network-config.js';

export const defaultConfigDir = '/etc/cni/net.d';

export interface ConfigFileEntry {
  file: string;
  format: ConfigFormat;
  /** Set when the file parsed and validated. */
  config?: NetworkConfig;
  /** Set when it did not: the message names the file and field. */
  error?: TskubeError;
}

export interface ConfigDirScan {
  dir: string;
  /** False when the folder does not exist (libcni treats that as "no configs"). */
  exists: boolean;
  files: ConfigFileEntry[];
}

export async function scanConfigDir(dir: string): Promise<ConfigDirScan> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { dir, exists: false, files: [] };
    throw TskubeError.from(err).wrap(`reading the CNI config folder ${dir}`);
  }
  const files: ConfigFileEntry[] = [];
  for (const name of names.sort()) {
    const format = formatOfFile(name);
    if (!format) continue;
    const file = join(dir, name);
    if (!(await isFile(file))) continue;
    try {
      files.push({ file, format, config: await loadFile(dir, file, format) });
    } catch (err) {
      files.push({ file, format, error: TskubeError.from(err) });
    }
  }
  return { dir, exists: true, files };
}

/** One file, with the plugins kept beside it for a .conflist. */
export async function loadConfigFile(file: string): Promise<NetworkConfig> {
  const format = formatOfFile(file);
  if (!format) throw new TskubeError('invalid-argument', `${file}: not a CNI network config (want .conflist, .conf or .json)`);
  return loadFile(join(file, '..'), file, format);
}

async function loadFile(dir: string, file: string, format: ConfigFormat): Promise<NetworkConfig> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw TskubeError.from(err).wrap(`reading ${file}`);
  }
  const config = parseNetworkConfig(bytes, file, format);
  if (format !== 'conflist') return config;
  return withSiblingPlugins(config, config.loadOnlyInlinedPlugins ? [] : await siblingPlugins(join(dir, config.name)));
}

/** `<dir>/<network>/*.conf`: plugin objects that belong to the list of that name. */
async function siblingPlugins(folder: string): Promise<PluginConfig[]> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return [];
  }
  const plugins: PluginConfig[] = [];
  for (const name of names.sort()) {
    const file = join(folder, name);
    if (!name.endsWith('.conf') || !(await isFile(file))) continue;
    plugins.push(parsePluginFile(await readFile(file), file));
  }
  return plugins;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
