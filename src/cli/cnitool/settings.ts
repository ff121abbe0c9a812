// What `tskube cnitool` takes from its environment, as upstream cnitool does: CNI_PATH,
// NETCONFPATH, CAP_ARGS, CNI_ARGS, CNI_IFNAME (the -i flag wins). Pure.
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { defaultConfigDir } from '../../cni/config/config-dir.js';
import { parseCniArgs } from '../../cni/request.js';
import { defaultCacheDir } from '../../cni/result-cache.js';
import { TskubeError } from '../../common/errors.js';

/** Where plugins are looked for when CNI_PATH is unset (upstream cnitool has no default and fails). */
export const defaultPluginDirs = ['/opt/cni/bin', '/usr/lib/cni'];

export interface CnitoolFlags {
  ifname?: string | undefined;
  'cache-dir'?: string | undefined;
}

export interface CnitoolSettings {
  pluginDirs: string[];
  /** Where pluginDirs came from, for messages. */
  pluginDirsSource: 'CNI_PATH' | 'default';
  confDir: string;
  cacheDir: string;
  ifName: string;
  /** Unset when CAP_ARGS is: DEL then reuses what ADD cached. */
  capabilityArgs: Record<string, unknown> | undefined;
  /** Unset when CNI_ARGS is: DEL then reuses what ADD cached. */
  cniArgs: [string, string][] | undefined;
}

export function resolveCnitoolSettings(env: Readonly<Record<string, string | undefined>>, flags: CnitoolFlags): CnitoolSettings {
  const path = (env['CNI_PATH'] ?? '').split(':').filter((d) => d !== '');
  return {
    pluginDirs: path.length ? path : defaultPluginDirs,
    pluginDirsSource: path.length ? 'CNI_PATH' : 'default',
    confDir: env['NETCONFPATH'] || defaultConfigDir,
    cacheDir: flags['cache-dir'] || defaultCacheDir,
    ifName: flags.ifname || env['CNI_IFNAME'] || 'eth0',
    capabilityArgs: env['CAP_ARGS'] ? parseCapArgs(env['CAP_ARGS']) : undefined,
    cniArgs: env['CNI_ARGS'] ? parseCniArgs(env['CNI_ARGS']) : undefined,
  };
}

function parseCapArgs(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new TskubeError('invalid-argument', `CAP_ARGS: not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TskubeError('invalid-argument', 'CAP_ARGS: want a JSON object of capability arguments, e.g. {"portMappings":[...]}');
  }
  return value as Record<string, unknown>;
}

/**
 * The container ID cnitool uses for a namespace: "cnitool-" and the first 10 bytes of
 * the SHA-512 of its absolute path, so upstream cnitool and this one find each other's
 * cache entries.
 */
export function cnitoolContainerId(netnsPath: string): string {
  return `cnitool-${createHash('sha512').update(resolve(netnsPath)).digest('hex').slice(0, 20)}`;
}

export const cnitoolIdPrefix = 'cnitool-';
