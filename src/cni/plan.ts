// The decisions of executing a network configuration (SPEC section 3), pure: which
// plugins run for a command and in which order, whether the command applies at this
// version at all, which version the chain speaks, and which cached attachments GC
// must delete.
import { TskubeError } from '../common/errors.js';
import type { AttachmentKey, NetworkConfig, PluginConfig } from './network-config.js';
import type { CniCommand } from './request.js';
import { atLeast } from './version.js';

export interface PluginStep {
  /** Position in the network's plugin list. */
  index: number;
  plugin: PluginConfig;
}

/** ADD, CHECK, GC and STATUS run the list in order; DEL in reverse. */
export function chainOrder(command: CniCommand, network: NetworkConfig): PluginStep[] {
  const steps = network.plugins.map((plugin, index) => ({ index, plugin }));
  return command === 'DEL' ? steps.reverse() : steps;
}

/** Whether a command runs the plugins at `version`, or why it does not. */
export type Gate = { run: true } | { run: false; reason: string };

export function commandGate(command: CniCommand, network: NetworkConfig, version: string): Gate {
  switch (command) {
    case 'CHECK':
      if (!atLeast(version, '0.4.0')) {
        throw new TskubeError(
          'failed-precondition',
          `network "${network.name}" (${network.file}) speaks CNI ${version}, which has no CHECK (it came in 0.4.0)`,
        );
      }
      return network.disableCheck ? { run: false, reason: 'disableCheck is set' } : { run: true };
    case 'GC':
      if (network.disableGC) return { run: false, reason: 'disableGC is set' };
      return atLeast(version, '1.1.0') ? { run: true } : { run: false, reason: `CNI ${version} has no GC command (it came in 1.1.0)` };
    case 'STATUS':
      return atLeast(version, '1.1.0') ? { run: true } : { run: false, reason: `CNI ${version} has no STATUS command (it came in 1.1.0)` };
    default:
      return { run: true };
  }
}

/** DEL passes the cached ADD result from 0.4.0 on; before that, DEL had no prevResult. */
export function delUsesPrevResult(version: string): boolean {
  return atLeast(version, '0.4.0');
}

export interface PluginVersions {
  plugin: PluginConfig;
  supported: readonly string[];
}

/**
 * The highest version the config offers (`cniVersion` and `cniVersions`) that every
 * plugin of the chain says it supports; with only one offered, that one, or an
 * error naming the plugin that cannot speak it.
 */
export function negotiateVersion(network: NetworkConfig, plugins: readonly PluginVersions[]): string {
  for (const version of network.offeredVersions) {
    if (plugins.every((p) => p.supported.includes(version))) return version;
  }
  const offered = network.offeredVersions.join(', ');
  const refusing = plugins.filter((p) => !network.offeredVersions.some((v) => p.supported.includes(v)));
  const detail = (refusing.length ? refusing : plugins).map((p) => `"${p.plugin.type}" speaks ${p.supported.join(', ') || 'nothing'}`).join('; ');
  throw new TskubeError(
    'failed-precondition',
    `network "${network.name}" (${network.file}) offers CNI ${offered}, but no one of them is spoken by every plugin: ${detail}`,
  );
}

/** Cached attachments of this network that are not in the valid set: GC deletes them. */
export function staleAttachments<T extends AttachmentKey & { networkName: string }>(
  cached: readonly T[],
  networkName: string,
  valid: readonly AttachmentKey[],
): T[] {
  const keep = new Set(valid.map((a) => `${a.containerId}\0${a.ifName}`));
  return cached.filter((a) => a.networkName === networkName && !keep.has(`${a.containerId}\0${a.ifName}`));
}
