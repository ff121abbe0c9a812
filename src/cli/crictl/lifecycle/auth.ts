import { TskubeError } from '../../../common/errors.js';
import type { AuthConfig } from '../../../gen/cri/runtime/v1/AuthConfig.js';

/** The registry credentials flags crictl's pull, create and run share. */
export interface AuthFlags {
  /** --creds USERNAME[:PASSWORD] */
  creds?: string | undefined;
  /** --auth base64("USERNAME[:PASSWORD]") */
  auth?: string | undefined;
  /** --username USERNAME; the password is asked for. */
  username?: string | undefined;
}

/** Splits --creds USERNAME[:PASSWORD]; the password may itself contain colons. */
export function parseCreds(creds: string): { username: string; password: string } {
  if (creds === '') throw new TskubeError('invalid-argument', '--creds: credentials are empty (want USERNAME[:PASSWORD])');
  const colon = creds.indexOf(':');
  if (colon < 0) return { username: creds, password: '' };
  const username = creds.slice(0, colon);
  if (username === '') throw new TskubeError('invalid-argument', '--creds: the username is empty (want USERNAME[:PASSWORD])');
  return { username, password: creds.slice(colon + 1) };
}

/** Checks --auth is base64 text; the runtime decodes it, we only catch the obvious typo early. */
function checkAuth(auth: string): string {
  const compact = auth.trim();
  if (compact === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 === 1) {
    throw new TskubeError(
      'invalid-argument',
      `--auth: ${JSON.stringify(auth.length > 20 ? `${auth.slice(0, 17)}...` : auth)} is not base64 (want base64 of USERNAME[:PASSWORD])`,
    );
  }
  return compact;
}

/**
 * Turns the credentials flags into a CRI AuthConfig, or undefined when none is given.
 * --username wins and asks for the password, as crictl does; --creds with --auth is
 * an error because it is not clear which one the user meant.
 */
export async function authConfig(flags: AuthFlags, readPassword: () => Promise<string>): Promise<AuthConfig | undefined> {
  if (flags.username) return { username: flags.username, password: await readPassword() };
  if (flags.creds && flags.auth) throw new TskubeError('invalid-argument', 'both --creds and --auth are given; use one');
  if (flags.creds !== undefined && flags.creds !== '') return parseCreds(flags.creds);
  if (flags.auth) return { auth: checkAuth(flags.auth) };
  return undefined;
}
