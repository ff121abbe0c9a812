// The spec's error object (SPEC section 5, "Error") as a TskubeError: the plugin's own
// code, msg and details travel with it, the project code follows from the CNI code, and
// the message names the command, plugin, binary and network file in one line.
import { type ErrorCode, TskubeError } from '../common/errors.js';

/** What a plugin prints on failure. */
export interface CniErrorObject {
  cniVersion?: string;
  code: number;
  msg: string;
  details?: string;
}

/** The well-known codes (0-99 reserved by the spec; 999 is libcni's "internal"). */
export const cniErrorNames: Readonly<Record<number, string>> = {
  1: 'incompatible CNI version',
  2: 'unsupported field in network configuration',
  3: 'container unknown or does not exist',
  4: 'invalid environment variables',
  5: 'I/O failure',
  6: 'failed to decode content',
  7: 'invalid network config',
  8: 'invalid network namespace',
  11: 'try again later',
  50: 'plugin not available',
  51: 'plugin not available, existing containers may have limited connectivity',
  999: 'internal plugin error',
};

const projectCodes: Readonly<Record<number, ErrorCode>> = {
  1: 'failed-precondition',
  2: 'invalid-argument',
  3: 'not-found',
  4: 'invalid-argument',
  5: 'internal',
  6: 'invalid-argument',
  7: 'invalid-argument',
  8: 'invalid-argument',
  11: 'unavailable',
  50: 'unavailable',
  51: 'unavailable',
  999: 'internal',
};

/** Which invocation failed: enough to find the plugin, the binary and the file it came from. */
export interface InvocationContext {
  command: string;
  /** The plugin's type (its binary name). */
  plugin: string;
  /** The binary that ran, when one was found. */
  binary?: string;
  network: string;
  /** Where the plugin's config was written (the network file, `plugins[i]`). */
  source: string;
}

export class CniError extends TskubeError {
  /** The plugin's error object, when it printed one. */
  readonly cni: CniErrorObject | undefined;
  readonly invocation: InvocationContext;
  /** What went wrong, without the invocation in front. */
  readonly problem: string;

  constructor(code: ErrorCode, invocation: InvocationContext, problem: string, options?: { cni?: CniErrorObject | undefined; cause?: unknown }) {
    super(code, `${describeInvocation(invocation)}: ${problem}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.cni = options?.cni;
    this.invocation = invocation;
    this.problem = problem;
  }

  /** The same error with a note after the problem ("; the attachment was deleted again"). */
  withNote(note: string): CniError {
    return new CniError(this.code, this.invocation, `${this.problem}${note}`, { cni: this.cni, cause: this });
  }

  /** From the error object a plugin printed. */
  static fromObject(invocation: InvocationContext, object: CniErrorObject): CniError {
    const name = cniErrorNames[object.code];
    const text = object.details ? `${object.msg}; ${object.details}` : object.msg;
    const code = projectCodes[object.code] ?? (object.code >= 100 ? 'unknown' : 'internal');
    return new CniError(code, invocation, `CNI error ${object.code}${name ? ` (${name})` : ''}: ${text}`, { cni: object });
  }
}

export function describeInvocation(i: InvocationContext): string {
  const binary = i.binary ? ` (${i.binary})` : '';
  return `${i.command} plugin "${i.plugin}"${binary} of network "${i.network}" from ${i.source}`;
}

/** Reads an error object a plugin printed; undefined when the text is not one. */
export function parseErrorObject(value: unknown): CniErrorObject | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const o = value as Record<string, unknown>;
  if (typeof o['code'] !== 'number' || !Number.isInteger(o['code'])) return undefined;
  if (o['msg'] !== undefined && typeof o['msg'] !== 'string') return undefined;
  const out: CniErrorObject = { code: o['code'], msg: typeof o['msg'] === 'string' ? o['msg'] : '' };
  if (typeof o['details'] === 'string' && o['details']) out.details = o['details'];
  if (typeof o['cniVersion'] === 'string') out.cniVersion = o['cniVersion'];
  return out;
}
