// The protocol between tskube-cni-shim (src/cni/native/tskube-cni-shim.c), the plugin the
// runtime runs, and the kubelet that answers it. Version 1, one call per connection:
//
//   shim -> kubelet:  "TSKUBE-CNI-SHIM/1 <bytes of stdin>\n"
//                     one "CNI_*=value\n" line per variable of the plugin's environment
//                     "\n"
//                     the plugin's stdin, raw
//   kubelet -> shim:  "TSKUBE-CNI-SHIM/1 <exit code>\n"
//                     what the plugin prints on stdout (a result, or the spec's error object), raw
//
// The version leads both lines, so a later protocol can be told apart; a kubelet answers a
// version it does not speak with an error object in version 1's form, which every shim
// reads. Pure: no sockets here (shim-server.ts).
import { TskubeError } from '../common/errors.js';

export const shimProtocolVersion = 1;
const magic = 'TSKUBE-CNI-SHIM/';
/** Configs and results are a few KiB; the shim refuses more than this too. */
export const maxShimMessageBytes = 16 * 1024 * 1024;

/** A plugin call as the runtime made it: its CNI_* environment and its stdin. */
export interface ShimRequest {
  version: number;
  env: Record<string, string>;
  stdin: string;
}

/** What the shim prints and how it exits. */
export interface ShimReply {
  exitCode: number;
  stdout: string;
}

export type ShimParse =
  | { state: 'incomplete' }
  | { state: 'complete'; request: ShimRequest }
  /** The header says another protocol version; the rest is not read. */
  | { state: 'unsupported-version'; version: string };

/**
 * Reads a request from the bytes received so far: `incomplete` until all of stdin is
 * there. Throws an invalid-argument TskubeError for a request that is not one.
 */
export function parseShimRequest(bytes: Buffer): ShimParse {
  const headerEnd = bytes.indexOf(0x0a);
  if (headerEnd < 0) {
    if (bytes.length > 256) throw new TskubeError('invalid-argument', `shim request: no header line in the first 256 bytes`);
    return { state: 'incomplete' };
  }
  const header = bytes.subarray(0, headerEnd).toString('latin1');
  const m = /^TSKUBE-CNI-SHIM\/(\d+) (\d+)$/.exec(header);
  if (!m) {
    const other = new RegExp(`^${magic.replace('/', '\\/')}(\\S+)`).exec(header);
    if (other?.[1] && other[1] !== String(shimProtocolVersion)) return { state: 'unsupported-version', version: other[1] };
    throw new TskubeError('invalid-argument', `shim request: header ${JSON.stringify(header.slice(0, 80))} is not "${magic}${shimProtocolVersion} <bytes>"`);
  }
  if (Number(m[1]) !== shimProtocolVersion) return { state: 'unsupported-version', version: m[1] ?? '' };
  const stdinBytes = Number(m[2]);
  if (stdinBytes > maxShimMessageBytes)
    throw new TskubeError('invalid-argument', `shim request: ${stdinBytes} bytes of stdin is more than ${maxShimMessageBytes}`);
  const envEnd = bytes.indexOf('\n\n', headerEnd);
  // The environment block is empty when the blank line follows the header at once.
  const blank = bytes[headerEnd + 1] === 0x0a ? headerEnd : envEnd;
  if (blank < 0) return { state: 'incomplete' };
  const bodyStart = blank + 2;
  if (bytes.length < bodyStart + stdinBytes) return { state: 'incomplete' };
  if (bytes.length > bodyStart + stdinBytes) {
    throw new TskubeError(
      'invalid-argument',
      `shim request: ${bytes.length - bodyStart - stdinBytes} bytes after the ${stdinBytes} bytes of stdin the header announced`,
    );
  }
  const env: Record<string, string> = {};
  const envText = blank === headerEnd ? '' : bytes.subarray(headerEnd + 1, blank).toString('utf8');
  for (const line of envText ? envText.split('\n') : []) {
    const eq = line.indexOf('=');
    const key = eq > 0 ? line.slice(0, eq) : '';
    if (!key.startsWith('CNI_'))
      throw new TskubeError('invalid-argument', `shim request: environment line ${JSON.stringify(line.slice(0, 80))} is not CNI_NAME=value`);
    env[key] = line.slice(eq + 1);
  }
  return { state: 'complete', request: { version: shimProtocolVersion, env, stdin: bytes.subarray(bodyStart).toString('utf8') } };
}

/** The bytes the shim sends (tests and tools speak to a kubelet as the shim would). */
export function encodeShimRequest(env: Readonly<Record<string, string>>, stdin: string): Buffer {
  const body = Buffer.from(stdin, 'utf8');
  const lines = Object.entries(env)
    .filter(([k]) => k.startsWith('CNI_'))
    .map(([k, v]) => {
      if (v.includes('\n')) throw new TskubeError('invalid-argument', `shim request: ${k} has a newline in its value`);
      return `${k}=${v}\n`;
    });
  return Buffer.concat([Buffer.from(`${magic}${shimProtocolVersion} ${body.length}\n${lines.join('')}\n`, 'utf8'), body]);
}

export function encodeShimReply(reply: ShimReply): Buffer {
  const code = Number.isInteger(reply.exitCode) && reply.exitCode >= 0 && reply.exitCode <= 255 ? reply.exitCode : 1;
  return Buffer.concat([Buffer.from(`${magic}${shimProtocolVersion} ${code}\n`, 'latin1'), Buffer.from(reply.stdout, 'utf8')]);
}

/** The kubelet's answer as the shim reads it. */
export function parseShimReply(bytes: Buffer): ShimReply {
  const nl = bytes.indexOf(0x0a);
  const m = nl < 0 ? null : /^TSKUBE-CNI-SHIM\/1 (\d{1,3})$/.exec(bytes.subarray(0, nl).toString('latin1'));
  if (!m) throw new TskubeError('invalid-argument', `shim reply: not "${magic}1 <exit code>": ${JSON.stringify(bytes.subarray(0, 80).toString('latin1'))}`);
  return { exitCode: Number(m[1]), stdout: bytes.subarray(nl + 1).toString('utf8') };
}
