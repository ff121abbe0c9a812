// The positional arguments and flags ADD, CHECK and DEL share: `NETWORK NETNS`, -i, and
// the attachment they name (cnitool's container ID for the namespace, or --container-id
// for a runtime's own attachment: a sandbox ID).
import { resolve } from 'node:path';
import type { Attachment, NetworkConfig } from '../../../cni/network-config.js';
import { TskubeError } from '../../../common/errors.js';
import { parseFlags } from '../../args.js';
import { loadNetwork } from '../context.js';
import { cnitoolContainerId, type CnitoolSettings, resolveCnitoolSettings } from '../settings.js';

export const attachmentFlags = {
  ifname: { type: 'string', short: 'i' },
  'container-id': { type: 'string' },
  'cache-dir': { type: 'string' },
} as const;

export interface AttachmentCall {
  settings: CnitoolSettings;
  network: NetworkConfig;
  attachment: Attachment;
}

export async function attachmentCall(
  command: string,
  argv: string[],
  env: Readonly<Record<string, string | undefined>>,
  netnsRequired: boolean,
): Promise<AttachmentCall> {
  const { values, positionals } = parseFlags(argv, attachmentFlags);
  const [name, netnsArg] = positionals;
  const containerId = values['container-id'];
  if (!name || (netnsArg === undefined && (netnsRequired || !containerId))) {
    throw new TskubeError('invalid-argument', `usage: tskube cnitool ${command} NETWORK NETNS${netnsRequired ? '' : ' (or NETWORK --container-id ID)'}`);
  }
  const settings = resolveCnitoolSettings(env, values);
  const netns = netnsArg === undefined ? '' : resolve(netnsArg);
  const attachment: Attachment = {
    containerId: containerId ?? cnitoolContainerId(netns),
    ifName: settings.ifName,
    netns,
    ...(settings.cniArgs ? { args: settings.cniArgs } : {}),
    ...(settings.capabilityArgs ? { capabilityArgs: settings.capabilityArgs } : {}),
  };
  return { settings, network: await loadNetwork(settings, name), attachment };
}
