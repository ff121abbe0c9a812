// PluginExec through tskube-cni-exec (src/cni/native/tskube-cni-exec.c): one small helper
// process starts every plugin with posix_spawn, where Node's own child_process forks the
// whole Node process each time (docs/cni.md has the numbers). Same contract as
// processPluginExec: its own process group per plugin, the timeout and the caller's signal
// kill the group, 4 MiB of output at most, "text file busy" retried. The helper is started
// on first use and again after it died; a run in flight when it dies fails as a plugin that
// could not be started.
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { constants } from 'node:os';
import { findPlugin, type PluginExec, type PluginRequest, type PluginRun, processPluginExec, retryBusy } from './plugin-exec.js';

const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));
const signalNames = new Map<number, string>(Object.entries(constants.signals).map(([name, n]) => [n, name]));

interface Pending {
  resolve: (run: PluginRun) => void;
  timedOut: boolean;
  aborted: boolean;
}

export class HelperPluginExec implements PluginExec {
  readonly helperPath: string;
  readonly #prefix: readonly string[];
  #child: ChildProcess | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  #received: Buffer = Buffer.alloc(0);

  /** `prefix` runs each plugin as `prefix... binary`, as prefixedPluginExec does (tests: `ip netns exec HOST`). */
  constructor(helperPath: string, options: { prefix?: readonly string[] } = {}) {
    this.helperPath = helperPath;
    this.#prefix = options.prefix ?? [];
  }

  find(type: string, dirs: readonly string[]) {
    return findPlugin(type, dirs);
  }

  run(binary: string, request: PluginRequest): Promise<PluginRun> {
    return retryBusy(() => this.#runOnce(binary, request));
  }

  /** Ends the helper (runs in flight fail); the next run starts a new one. */
  close(): void {
    this.#child?.kill('SIGKILL');
  }

  #runOnce(binary: string, request: PluginRequest): Promise<PluginRun> {
    const child = this.#helper();
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const pending: Pending = { resolve, timedOut: false, aborted: false };
      const kill = () => child.stdin?.write(frame(id, 2, []));
      const timer = setTimeout(() => {
        pending.timedOut = true;
        kill();
      }, request.timeoutMs);
      const onAbort = () => {
        pending.aborted = true;
        kill();
      };
      pending.resolve = (run) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        this.#hold();
        request.signal?.removeEventListener('abort', onAbort);
        resolve(run);
      };
      this.#pending.set(id, pending);
      this.#hold();
      const env = Object.entries(request.env).map(([k, v]) => `${k}=${v}`);
      child.stdin?.write(frame(id, 1, [strings([...this.#prefix, binary]), strings(env), bytes(Buffer.from(request.stdin, 'utf8'))]));
      if (request.signal?.aborted) onAbort();
      else request.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #helper(): ChildProcess {
    if (this.#child && this.#child.exitCode === null && this.#child.signalCode === null) return this.#child;
    const child = spawn(this.helperPath, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.#child = child;
    this.#received = Buffer.alloc(0);
    child.stdout?.on('data', (chunk: Buffer) => this.#read(chunk));
    child.stdin?.on('error', () => undefined);
    const gone = (why: string) => {
      if (this.#child === child) this.#child = undefined;
      for (const [id, p] of this.#pending) {
        this.#pending.delete(id);
        const e: NodeJS.ErrnoException = Object.assign(new Error(`the plugin starter ${this.helperPath} ${why}`), { code: 'EHELPER' });
        p.resolve({ ...emptyRun(p), spawnError: e });
      }
    };
    child.on('error', (err) => gone(`could not run: ${err.message}`));
    child.on('exit', (code, signal) => gone(`exited (${signal ?? code}) during the run`));
    return child;
  }

  /** The helper keeps the process alive only while a run is in flight (a CLI exits when it is done). */
  #hold(): void {
    const child = this.#child;
    if (!child) return;
    const streams = [child.stdout, child.stdin] as unknown as ({ ref?: () => void; unref?: () => void } | null)[];
    if (this.#pending.size > 0) {
      child.ref();
      for (const s of streams) s?.ref?.();
    } else {
      child.unref();
      for (const s of streams) s?.unref?.();
    }
  }

  #read(chunk: Buffer): void {
    this.#received = this.#received.length ? Buffer.concat([this.#received, chunk]) : chunk;
    while (this.#received.length >= 4) {
      const len = this.#received.readUInt32LE(0);
      if (this.#received.length < 4 + len) return;
      const body = this.#received.subarray(4, 4 + len);
      this.#received = this.#received.subarray(4 + len);
      this.#done(body);
    }
  }

  #done(body: Buffer): void {
    const id = body.readUInt32LE(0);
    const p = this.#pending.get(id);
    if (!p || body[4] !== 3) return;
    this.#pending.delete(id);
    const how = body[5];
    const value = body.readInt32LE(6);
    const overflowed = body[10] === 1;
    const outLen = body.readUInt32LE(11);
    const stdout = Buffer.from(body.subarray(15, 15 + outLen));
    const errLen = body.readUInt32LE(15 + outLen);
    const stderr = Buffer.from(body.subarray(19 + outLen, 19 + outLen + errLen));
    const base = { stdout, stderr, timedOut: p.timedOut, aborted: p.aborted, overflowed };
    if (how === 2) {
      const code = errnoNames.get(value) ?? `errno ${value}`;
      p.resolve({ ...base, exitCode: null, signal: null, spawnError: Object.assign(new Error(`spawn: ${code}`), { code, errno: value }) });
    } else if (how === 1) {
      p.resolve({ ...base, exitCode: null, signal: signalNames.get(value) ?? String(value) });
    } else {
      p.resolve({ ...base, exitCode: value, signal: null });
    }
  }
}

function emptyRun(p: Pending): PluginRun {
  return { exitCode: null, signal: null, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), timedOut: p.timedOut, aborted: p.aborted, overflowed: false };
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

function bytes(b: Buffer): Buffer {
  return Buffer.concat([u32(b.length), b]);
}

function strings(list: string[]): Buffer {
  return Buffer.concat([u32(list.length), ...list.map((s) => bytes(Buffer.from(s, 'utf8')))]);
}

function frame(id: number, type: number, parts: Buffer[]): Buffer {
  const body = Buffer.concat([u32(id), Buffer.from([type]), ...parts]);
  return Buffer.concat([u32(body.length), body]);
}

/** Where scripts/setup installs the helper. */
export const installedHelperPath = '/usr/local/lib/tskube/tskube-cni-exec';
let shared: PluginExec | undefined;

/**
 * How this process runs plugins unless told otherwise: through the helper when it is
 * installed (TSKUBE_CNI_EXEC names another one; empty turns it off), else with Node's own
 * spawn. One per process, so one helper.
 */
export function defaultPluginExec(): PluginExec {
  if (shared) return shared;
  const path = process.env['TSKUBE_CNI_EXEC'] ?? installedHelperPath;
  let usable = false;
  try {
    accessSync(path, fsConstants.X_OK);
    usable = path !== '';
  } catch {
    // not installed: Node's spawn
  }
  shared = usable ? new HelperPluginExec(path) : processPluginExec;
  return shared;
}
