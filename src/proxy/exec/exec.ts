// The proxy's one seam to processes (nft, iptables-restore, conntrack, ipvsadm): run a
// command with optional stdin, get its output, or a TskubeError naming the command, the
// exit status and the first lines of its stderr. `inNetns` wraps an Exec so every command
// runs in a network namespace: the tests' way of keeping netfilter work off the host.
import { spawn } from 'node:child_process';
import { closeSync, openSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TskubeError } from '../../common/errors.js';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  input?: string;
  signal?: AbortSignal;
}

export interface Exec {
  /** Runs to the end whatever the exit status. */
  status(command: string, args: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Runs and returns stdout; a non-zero exit is an error carrying stderr. */
  output(command: string, args: readonly string[], options?: ExecOptions): Promise<string>;
}

/** The error for a failed command: "nft -f -: exit 1: Error: No such file or directory ...". */
export function commandError(command: string, args: readonly string[], result: ExecResult): TskubeError {
  const stderr = result.stderr.trim().split('\n').slice(0, 6).join(' | ');
  const shown = [command, ...args.filter((a) => a.length < 80)].join(' ');
  return new TskubeError(result.code === 127 ? 'not-found' : 'unknown', `${shown}: exit ${result.code}${stderr ? `: ${stderr}` : ''}`);
}

/** Inputs above a pipe's capacity go through a file (see inputFile). */
const pipeCapacity = 65_536;
let inputFiles = 0;

/**
 * The input as an open file that is already unlinked (nothing is left behind, even if the
 * proxy is killed), for the command's stdin. Through a pipe, a big script reaches the command
 * only as fast as this process's event loop refills the pipe, and a garbage collection pause
 * here then stalls iptables-restore or nft mid-parse. Undefined when no file can be made.
 */
function inputFile(input: string): number | undefined {
  const path = join(tmpdir(), `tskube-input-${process.pid}-${++inputFiles}`);
  try {
    writeFileSync(path, input, { mode: 0o600 });
    const fd = openSync(path, 'r');
    unlinkSync(path);
    return fd;
  } catch {
    rmSync(path, { force: true });
    return undefined;
  }
}

function statusOf(command: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const input = options.input ?? '';
  const fd = input.length > pipeCapacity ? inputFile(input) : undefined;
  try {
    return run(command, args, options, fd);
  } finally {
    // The child has its own copy of the descriptor once spawned.
    if (fd !== undefined) closeSync(fd);
  }
}

function run(command: string, args: readonly string[], options: ExecOptions, stdinFd: number | undefined): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: [stdinFd ?? 'pipe', 'pipe', 'pipe'], ...(options.signal && { signal: options.signal }) });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') resolve({ code: 127, stdout: '', stderr: `${command}: command not found` });
      else reject(TskubeError.from(e).wrap(`running ${command}`));
    });
    child.on('close', (code, signal) => {
      resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    if (child.stdin) {
      // A command that exits before reading all of stdin closes the pipe; its status says why.
      child.stdin.on('error', () => {});
      child.stdin.end(options.input ?? '');
    }
  });
}

export const processExec: Exec = {
  status: statusOf,
  async output(command, args, options) {
    const result = await statusOf(command, args, options);
    if (result.code !== 0) throw commandError(command, args, result);
    return result.stdout;
  },
};

/** Every command of `exec` runs inside the named network namespace (`ip netns exec NAME ...`). */
export function inNetns(exec: Exec, netns: string): Exec {
  const wrap = (command: string, args: readonly string[]) => ['netns', 'exec', netns, command, ...args];
  return {
    status: (command, args, options) => exec.status('ip', wrap(command, args), options),
    async output(command, args, options) {
      const result = await exec.status('ip', wrap(command, args), options);
      if (result.code !== 0) throw commandError(command, args, result);
      return result.stdout;
    },
  };
}
