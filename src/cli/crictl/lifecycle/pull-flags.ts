import { TskubeError } from '../../../common/errors.js';
import { parseDuration } from '../../args.js';
import type { CommandIo } from '../../io.js';
import { authConfig } from './auth.js';
import type { PullRequestOptions } from './pull-image.js';
import { readPassword } from './read-password.js';

/** The registry flags of pull, create and run (crictl's pullFlags). */
export const pullFlagSpec = {
  creds: { type: 'string' },
  auth: { type: 'string' },
  username: { type: 'string', short: 'u' },
  'pull-timeout': { type: 'string' },
  pt: { type: 'string' },
} as const;

/** The image-pull choices of create and run. */
export const containerPullFlagSpec = {
  ...pullFlagSpec,
  'no-pull': { type: 'boolean' },
  'with-pull': { type: 'boolean' },
  'cancel-timeout': { type: 'string', short: 'T' },
} as const;

export interface PullFlagValues {
  creds?: string | undefined;
  auth?: string | undefined;
  username?: string | undefined;
  'pull-timeout'?: string | undefined;
  pt?: string | undefined;
}

/** Auth and deadline for a pull from the flags, with crictl's CRICTL_CREDS / CRICTL_AUTH / CRICTL_PULL_TIMEOUT fallbacks. */
export async function pullOptionsFromFlags(values: PullFlagValues, io: CommandIo): Promise<PullRequestOptions> {
  const auth = await authConfig({ creds: values.creds ?? io.env['CRICTL_CREDS'], auth: values.auth ?? io.env['CRICTL_AUTH'], username: values.username }, () =>
    readPassword(io),
  );
  const timeoutText = values['pull-timeout'] ?? values.pt ?? io.env['CRICTL_PULL_TIMEOUT'];
  const timeoutMs = timeoutText === undefined || timeoutText === '' ? 0 : parseDuration(timeoutText, '--pull-timeout');
  return { auth, timeoutMs };
}

/** Whether create/run pull first: an explicit flag wins over the config file's default. */
export function choosePull(flags: { 'no-pull'?: boolean | undefined; 'with-pull'?: boolean | undefined }, pullByDefault: boolean): boolean {
  if (flags['no-pull'] && flags['with-pull']) throw new TskubeError('invalid-argument', '--no-pull and --with-pull are both set; use one');
  if (flags['with-pull']) return true;
  if (flags['no-pull']) return false;
  return pullByDefault;
}

/** --cancel-timeout as milliseconds, or undefined for the client's default deadline. */
export function cancelTimeoutMs(text: string | undefined, flag = '--cancel-timeout'): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text, flag);
  return ms > 0 ? ms : undefined;
}
