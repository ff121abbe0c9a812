// Running a plugin binary: the only seam between the library and processes. The
// library's decisions (what to run, in which order, what the output means) are pure;
// this interface only finds binaries and runs them, so unit tests swap in a fake and
// integration tests can wrap the real one (say, to run plugins in a test namespace).
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface PluginBinary {
  path: string;
  /** Modification time and size: a changed binary gets its VERSION asked again. */
  mtimeMs: number;
  size: number;
}

export interface PluginRequest {
  stdin: string;
  env: Readonly<Record<string, string>>;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** How a run ended; interpreting it is `plugin-output.ts`'s job. */
export interface PluginRun {
  exitCode: number | null;
  signal: string | null;
  stdout: Buffer;
  stderr: Buffer;
  /** Killed because it outran `timeoutMs`. */
  timedOut: boolean;
  /** Killed because the caller's signal aborted. */
  aborted: boolean;
  /** Killed because it printed more than the library reads. */
  overflowed: boolean;
  /** It could not be started at all (ENOENT, EACCES, ...). */
  spawnError?: NodeJS.ErrnoException;
}

export interface PluginExec {
  /** The first regular file named `type` in `dirs`, in order (libcni's FindInPath). */
  find(type: string, dirs: readonly string[]): Promise<PluginBinary | undefined>;
  /** Runs one binary to completion, or kills it (with anything it started) at the timeout. */
  run(binary: string, request: PluginRequest): Promise<PluginRun>;
}

/** Plugins print a result of a few KiB; a plugin printing megabytes is broken. */
const maxOutputBytes = 4 * 1024 * 1024;
/** libcni retries "text file busy" (a plugin being replaced) five times, a second apart. */
const busyRetries = 5;
const busyDelayMs = 1000;

/** Runs plugin binaries as child processes of this one, in its network namespace (SPEC: the runtime's). */
export const processPluginExec: PluginExec = prefixedPluginExec([]);

/**
 * Runs each plugin as `prefix... binary`: `['ip', 'netns', 'exec', NS]` runs them in
 * another namespace, which is how tests give plugins a host of their own.
 */
export function prefixedPluginExec(prefix: readonly string[]): PluginExec {
  return {
    find: findPlugin,
    run(binary, request) {
      const file = prefix[0] ?? binary;
      const args = prefix.length ? [...prefix.slice(1), binary] : [];
      return retryBusy(() => runOnce(file, args, request));
    },
  };
}

/** Runs again while the binary is "text file busy" (being replaced), as libcni does. */
export async function retryBusy(runOnce: () => Promise<PluginRun>): Promise<PluginRun> {
  for (let attempt = 0; ; attempt++) {
    const run = await runOnce();
    if (run.spawnError?.code !== 'ETXTBSY' || attempt >= busyRetries) return run;
    await new Promise((r) => setTimeout(r, busyDelayMs));
  }
}

export async function findPlugin(type: string, dirs: readonly string[]): Promise<PluginBinary | undefined> {
  for (const dir of dirs) {
    const path = join(dir, type);
    try {
      const st = await stat(path);
      if (st.isFile()) return { path, mtimeMs: st.mtimeMs, size: st.size };
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function runOnce(file: string, args: readonly string[], request: PluginRequest): Promise<PluginRun> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let timedOut = false;
    let aborted = false;
    let overflowed = false;
    let settled = false;
    let exitGrace: NodeJS.Timeout | undefined;
    // Its own process group, so a timeout also ends what it started (an IPAM plugin it delegated to).
    const child = spawn(file, args, { env: { ...request.env }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const finish = (run: Omit<PluginRun, 'stdout' | 'stderr' | 'timedOut' | 'aborted' | 'overflowed'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(exitGrace);
      request.signal?.removeEventListener('abort', onAbort);
      resolve({ ...run, stdout: Buffer.concat(out), stderr: Buffer.concat(err), timedOut, aborted, overflowed });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, request.timeoutMs);
    const onAbort = () => {
      aborted = true;
      killGroup();
    };
    if (request.signal?.aborted) onAbort();
    request.signal?.addEventListener('abort', onAbort, { once: true });
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > maxOutputBytes) {
        overflowed = true;
        killGroup();
        return;
      }
      into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    child.on('error', (e: NodeJS.ErrnoException) => finish({ exitCode: null, signal: null, spawnError: e }));
    child.on('close', (exitCode, signal) => finish({ exitCode, signal }));
    // A plugin that left a daemon holding its stdout open has still answered.
    child.on('exit', (exitCode, signal) => {
      exitGrace = setTimeout(() => finish({ exitCode, signal }), 2000);
    });
    child.stdin.on('error', () => undefined); // a plugin that exits without reading stdin
    child.stdin.end(request.stdin);
  });
}
