// What the shim prints for the runtime: the result in the version the runtime asked for, or
// the spec's error object. The error's msg is the kubelet's whole one-line message (it
// names the plugin, its binary and the file), so the runtime's own error, and the
// FailedCreatePodSandBox event made from it, say what failed and where. Pure.
import { TskubeError } from '../../common/errors.js';
import { CniError } from '../../cni/cni-error.js';
import { type CniResult, renderResult } from '../../cni/result.js';
import type { ShimReply } from '../../cni/shim-protocol.js';
import { ShimCallError } from './shim-call.js';

/** The spec's code for an error: the plugin's own, else one that says what kind of failure it was. */
export function cniCodeOf(err: TskubeError): number {
  if (err instanceof ShimCallError) return err.cniCode;
  if (err instanceof CniError && err.cni) return err.cni.code;
  switch (err.code) {
    case 'invalid-argument':
      return 7;
    case 'unavailable':
    case 'deadline-exceeded':
    case 'canceled':
      return 11;
    default:
      return 999;
  }
}

export function errorReply(err: unknown, version: string): ShimReply {
  const e = TskubeError.from(err);
  const object = { cniVersion: version, code: cniCodeOf(e), msg: `tskube kubelet: ${e.detail}` };
  return { exitCode: 1, stdout: `${JSON.stringify(object)}\n` };
}

export function resultReply(result: CniResult, version: string): ShimReply {
  return { exitCode: 0, stdout: `${JSON.stringify(renderResult(result, version))}\n` };
}

export const emptyReply: ShimReply = { exitCode: 0, stdout: '' };
