// A call the runtime made to tskube-cni-shim, read and checked: the command, the
// attachment's environment, the version the runtime speaks and the capability arguments it
// passed (runtimeConfig). What goes back is in shim-reply.ts. Pure.
import { TskubeError } from '../../common/errors.js';
import { parseCniArgs } from '../../cni/request.js';
import type { ShimRequest } from '../../cni/shim-protocol.js';
import { isKnownVersion, specVersions } from '../../cni/version.js';

export type ShimCommand = 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC' | 'VERSION';
const commands: readonly ShimCommand[] = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION'];

export interface ShimCall {
  command: ShimCommand;
  /** The version the runtime's config speaks: results and errors go back in it. */
  version: string;
  containerId: string;
  netns: string;
  ifName: string;
  /** CNI_ARGS as the runtime passed them (K8S_POD_* from containerd). */
  args: [string, string][];
  /** The capability arguments the runtime passed (portMappings, bandwidth, dns, ...). */
  runtimeConfig: Record<string, unknown>;
  /** GC: the attachments the runtime still considers valid. */
  validAttachments?: { containerId: string; ifName: string }[];
}

/** A call that cannot be served, with the spec's error code to answer it with. */
export class ShimCallError extends TskubeError {
  readonly cniCode: number;
  constructor(cniCode: number, detail: string) {
    super(cniCode === 11 ? 'unavailable' : 'invalid-argument', detail);
    this.cniCode = cniCode;
  }
}

export function readShimCall(request: ShimRequest): ShimCall {
  const { env } = request;
  const command = env['CNI_COMMAND'] ?? '';
  if (!(commands as readonly string[]).includes(command)) {
    throw new ShimCallError(4, `CNI_COMMAND ${JSON.stringify(command)} is not one of ${commands.join(', ')}`);
  }
  let conf: unknown;
  try {
    conf = JSON.parse(request.stdin);
  } catch (err) {
    throw new ShimCallError(6, `the network config on stdin is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof conf !== 'object' || conf === null || Array.isArray(conf)) throw new ShimCallError(6, 'the network config on stdin is not a JSON object');
  const o = conf as Record<string, unknown>;
  const version = typeof o['cniVersion'] === 'string' ? o['cniVersion'] : '0.1.0';
  if (!isKnownVersion(version)) throw new ShimCallError(1, `cniVersion ${JSON.stringify(version)} is not one this kubelet speaks (${specVersions.join(', ')})`);
  const call: ShimCall = {
    command: command as ShimCommand,
    version,
    containerId: env['CNI_CONTAINERID'] ?? '',
    netns: env['CNI_NETNS'] ?? '',
    ifName: env['CNI_IFNAME'] ?? '',
    args: [],
    runtimeConfig: isObject(o['runtimeConfig']) ? o['runtimeConfig'] : {},
  };
  if (command === 'ADD' || command === 'DEL' || command === 'CHECK') {
    if (!call.containerId) throw new ShimCallError(4, `${command}: CNI_CONTAINERID is not set`);
    if (!call.ifName) throw new ShimCallError(4, `${command}: CNI_IFNAME is not set`);
    if (command !== 'DEL' && !call.netns) throw new ShimCallError(4, `${command}: CNI_NETNS is not set`);
    try {
      call.args = parseCniArgs(env['CNI_ARGS'] ?? '');
    } catch (err) {
      throw new ShimCallError(4, TskubeError.from(err).detail);
    }
  }
  if (command === 'GC') {
    const list = o['cni.dev/valid-attachments'] ?? o['cni.dev/attachments'];
    call.validAttachments = Array.isArray(list)
      ? list.flatMap((a) =>
          isObject(a) && typeof a['containerID'] === 'string' && typeof a['ifname'] === 'string'
            ? [{ containerId: a['containerID'], ifName: a['ifname'] }]
            : [],
        )
      : [];
  }
  return call;
}

/** A CNI_ARGS value by key (K8S_POD_UID, ...). */
export function cniArg(call: ShimCall, key: string): string | undefined {
  return call.args.find(([k]) => k === key)?.[1];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
