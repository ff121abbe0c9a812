// Where the container runtime reads its CNI network config and runs plugins from: the
// shim's config goes into the first, and the shim must be installed in one of the second.
// containerd says so in its verbose CRI Status (go-cni's `cniconfig`, 1.6 and 2.x; the CRI
// plugin's `config.cni` as well); other runtimes do not, and the defaults apply.
import { errorMessage } from '../../common/errors.js';
import type { CriRuntime } from '../runtime/cri-runtime.js';

export interface RuntimeCniDirs {
  confDir: string;
  binDirs: string[];
  /** How many config files the runtime loads (containerd: 1, the first in lexical order). */
  maxConfNum: number;
  /** Where this came from, for messages. */
  source: string;
}

/** No plugin folder: where a runtime that does not say runs plugins from is not guessed (the shim's presence is not checked). */
export const defaultRuntimeCniDirs: RuntimeCniDirs = { confDir: '/etc/cni/net.d', binDirs: [], maxConfNum: 1, source: 'the defaults' };

/** From the `info` map of a verbose Status reply; undefined when the runtime says nothing about CNI. */
export function runtimeCniDirsFromInfo(info: Readonly<Record<string, string>>): RuntimeCniDirs | undefined {
  const parse = (key: string): Record<string, unknown> | undefined => {
    try {
      const v: unknown = JSON.parse(info[key] ?? 'null');
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  };
  const goCni = parse('cniconfig');
  const confDir = goCni?.['PluginConfDir'];
  const dirs = goCni?.['PluginDirs'];
  if (typeof confDir === 'string' && confDir && Array.isArray(dirs)) {
    const max = goCni?.['PluginMaxConfNum'];
    return {
      confDir,
      binDirs: dirs.filter((d): d is string => typeof d === 'string'),
      maxConfNum: typeof max === 'number' ? max : 1,
      source: "the runtime's CRI status (cniconfig)",
    };
  }
  const cni = parse('config')?.['cni'];
  if (typeof cni === 'object' && cni !== null) {
    const c = cni as Record<string, unknown>;
    if (typeof c['confDir'] === 'string' && c['confDir']) {
      return {
        confDir: c['confDir'],
        binDirs: typeof c['binDir'] === 'string' ? [c['binDir']] : [],
        maxConfNum: typeof c['maxConfNum'] === 'number' ? c['maxConfNum'] : 1,
        source: "the runtime's CRI status (config.cni)",
      };
    }
  }
  return undefined;
}

/** Asks the runtime; falls back to the defaults (and says why) when it does not tell. */
export async function askRuntimeCniDirs(cri: CriRuntime, signal: AbortSignal): Promise<RuntimeCniDirs> {
  try {
    const reply = await cri.runtime.call('Status', { verbose: true }, { timeoutMs: 10_000, signal });
    return runtimeCniDirsFromInfo(reply.info) ?? { ...defaultRuntimeCniDirs, source: 'the defaults (the runtime did not say)' };
  } catch (err) {
    return { ...defaultRuntimeCniDirs, source: `the defaults (asking the runtime failed: ${errorMessage(err)})` };
  }
}
