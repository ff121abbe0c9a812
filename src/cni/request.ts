// What one plugin invocation is given (SPEC sections 2 and 3): the request
// configuration on stdin and the CNI_* environment. Pure.
import { TskubeError } from '../common/errors.js';
import type { Attachment, AttachmentKey, NetworkConfig, PluginConfig } from './network-config.js';
import { currentSpecVersion } from './version.js';

export type CniCommand = 'ADD' | 'CHECK' | 'DEL' | 'GC' | 'STATUS' | 'VERSION';

export interface StdinInput {
  network: NetworkConfig;
  plugin: PluginConfig;
  /** The negotiated version every plugin of the chain is called with. */
  version: string;
  /** ADD: the previous plugin's result; CHECK and DEL: the cached ADD result. In `version`'s shape. */
  prevResult?: Record<string, unknown> | undefined;
  /** ADD, CHECK, DEL: the runtime's capability arguments. */
  capabilityArgs?: Readonly<Record<string, unknown>> | undefined;
  /** GC: the attachments that are still valid. */
  validAttachments?: readonly AttachmentKey[] | undefined;
}

/**
 * The plugin object with `name` and `cniVersion` set, `runtimeConfig` holding the
 * capability arguments it declares (only when there are any, as libcni does),
 * `prevResult` when given, and `capabilities` removed ("must not be set").
 */
export function pluginStdin(input: StdinInput): string {
  const { network, plugin } = input;
  const conf: Record<string, unknown> = { ...plugin.raw, cniVersion: input.version, name: network.name };
  delete conf['capabilities'];
  if (input.capabilityArgs) {
    const runtimeConfig: Record<string, unknown> = {};
    for (const [capability, enabled] of Object.entries(plugin.capabilities)) {
      const value = input.capabilityArgs[capability];
      if (enabled && value !== undefined && value !== null) runtimeConfig[capability] = value;
    }
    if (Object.keys(runtimeConfig).length) conf['runtimeConfig'] = runtimeConfig;
  }
  if (input.prevResult) conf['prevResult'] = input.prevResult;
  if (input.validAttachments) {
    const list = input.validAttachments.map((a) => ({ containerID: a.containerId, ifname: a.ifName }));
    conf['cni.dev/valid-attachments'] = list;
    // libcni also sends the key an early draft of the spec named (cni#1101); plugins built on it read that.
    conf['cni.dev/attachments'] = list;
  }
  return JSON.stringify(conf);
}

/** The stdin of VERSION: only the version the runtime speaks. */
export const versionStdin = JSON.stringify({ cniVersion: currentSpecVersion });

/**
 * The environment: the runtime's own (plugins need PATH for iptables and friends)
 * without any CNI_* it happens to carry, plus the CNI_* of this command. ADD, CHECK
 * and DEL get the attachment; GC and STATUS only the command and path; VERSION the
 * placeholders libcni sends for plugins built on an old skel.
 */
export function pluginEnv(
  base: Readonly<Record<string, string | undefined>>,
  command: CniCommand,
  pluginDirs: readonly string[],
  attachment?: Attachment,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && !k.startsWith('CNI_')) env[k] = v;
  env['CNI_COMMAND'] = command;
  if (command === 'VERSION') return { ...env, CNI_NETNS: 'dummy', CNI_IFNAME: 'dummy', CNI_PATH: 'dummy' };
  env['CNI_PATH'] = pluginDirs.join(':');
  if (attachment && (command === 'ADD' || command === 'CHECK' || command === 'DEL')) {
    env['CNI_CONTAINERID'] = attachment.containerId;
    env['CNI_NETNS'] = attachment.netns;
    env['CNI_IFNAME'] = attachment.ifName;
    env['CNI_ARGS'] = formatCniArgs(attachment.args ?? []);
  }
  return env;
}

/** "K1=V1;K2=V2", as libcni joins the pairs. */
export function formatCniArgs(args: readonly (readonly [string, string])[]): string {
  return args.map(([k, v]) => `${k}=${v}`).join(';');
}

/** "K1=V1;K2=V2" into pairs; every pair needs a key and a value (cnitool's parseArgs). */
export function parseCniArgs(text: string): [string, string][] {
  if (text === '') return [];
  return text.split(';').map((pair) => {
    const parts = pair.split('=');
    if (parts.length !== 2 || !parts[0] || !parts[1]) throw new TskubeError('invalid-argument', `CNI_ARGS: invalid pair "${pair}" (want KEY=VALUE;KEY=VALUE)`);
    return [parts[0], parts[1]];
  });
}
