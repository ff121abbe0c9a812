// What a finished plugin run means: its stdout on success, or a CniError that says
// what went wrong in one line (the plugin's error object, a timeout, garbage on stdout).
import { TskubeError } from '../common/errors.js';
import { CniError, type InvocationContext, parseErrorObject } from './cni-error.js';
import type { PluginRun } from './plugin-exec.js';
import { type CniResult, parseResult } from './result.js';

/** Returns stdout of a successful run; throws a CniError for any failure. */
export function successOutput(run: PluginRun, ctx: InvocationContext, timeoutMs: number): string {
  if (run.spawnError) {
    const e = run.spawnError;
    const code = e.code === 'ENOENT' ? 'not-found' : e.code === 'EACCES' ? 'permission-denied' : 'unavailable';
    throw new CniError(code, ctx, `cannot run it: ${e.code ?? ''} ${e.message}`.replace(/\s+/g, ' ').trim(), { cause: e });
  }
  const stderr = tail(run.stderr);
  const withStderr = (text: string) => (stderr ? `${text}; stderr: ${stderr}` : text);
  if (run.timedOut) throw new CniError('deadline-exceeded', ctx, withStderr(`no answer within ${timeoutMs} ms; killed it and what it started`));
  if (run.aborted) throw new CniError('canceled', ctx, 'canceled; killed it and what it started');
  if (run.overflowed) throw new CniError('internal', ctx, 'printed more than 4 MiB; killed it');
  const stdout = run.stdout.toString('utf8');
  if (run.exitCode === 0) return stdout;
  if (run.exitCode === null) throw new CniError('internal', ctx, withStderr(`killed by ${run.signal ?? 'a signal'}`));
  const object = parseErrorObject(tryJson(stdout));
  if (object) throw CniError.fromObject(ctx, object);
  if (stdout.trim()) {
    throw new CniError(
      'internal',
      ctx,
      withStderr(`exited with status ${run.exitCode} and printed something that is not a CNI error object: ${excerpt(stdout)}`),
    );
  }
  throw new CniError('internal', ctx, stderr ? `exited with status ${run.exitCode}: ${stderr}` : `exited with status ${run.exitCode} and no message`);
}

/** An ADD's stdout read as a result (in the config's version when it names none). */
export function readAddResult(stdout: string, ctx: InvocationContext, configVersion: string): CniResult {
  const json = tryJson(stdout);
  if (json === undefined) {
    throw new CniError('internal', ctx, stdout.trim() ? `printed something that is not a CNI result: ${excerpt(stdout)}` : 'succeeded but printed no result');
  }
  try {
    return parseResult(json, configVersion, 'result');
  } catch (err) {
    throw new CniError('internal', ctx, `printed an invalid result: ${TskubeError.from(err).detail}`, { cause: err });
  }
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The start of a text, quoted with control characters escaped, for an error message. */
export function excerpt(text: string, max = 120): string {
  const t = text.trim();
  return JSON.stringify(t.length > max ? `${t.slice(0, max)}…` : t);
}

/** The last lines of stderr, on one line: plugins log there, and the end says why they stopped. */
function tail(stderr: Buffer, max = 300): string {
  const t = stderr
    .toString('utf8')
    .trim()
    .replace(/\s*\n\s*/g, ' | ');
  return t.length > max ? `…${t.slice(-max)}` : t;
}
