// systemd-logind through systemd's command-line tools: read InhibitDelayMaxUSec, write the
// drop-in and reload logind, hold the delay inhibitor lock in a systemd-inhibit child, and
// follow PrepareForShutdown with `busctl monitor`. Commands and parsing are logind-plan.ts's.
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { TskubeError } from '../../common/errors.js';
import { sleep } from '../../common/sleep.js';
import {
  inhibitCommand,
  inhibitDelayCommand,
  kubeletInhibitorPids,
  listInhibitorsCommand,
  logindOverridePath,
  monitorCommand,
  parseInhibitDelayUs,
  parseShutdownSignal,
  reloadLogindCommand,
} from './logind-plan.js';

export interface InhibitLock {
  /** Lets the lock go (logind may then proceed with the shutdown). */
  release(): void;
}

/** What the shutdown watcher needs from logind; a fake in unit tests. */
export interface LogindBus {
  /** logind's InhibitDelayMaxUSec; throws when logind does not answer. */
  inhibitDelayUs(): Promise<number>;
  /** Writes the drop-in that raises InhibitDelayMaxSec and makes logind read it. */
  raiseInhibitDelay(override: string): Promise<void>;
  /** Takes the delay lock; resolves once logind lists it. */
  inhibit(): Promise<InhibitLock>;
  /** Calls onSignal for each PrepareForShutdown until the monitor ends or the signal aborts. */
  monitor(onSignal: (shuttingDown: boolean) => void, signal: AbortSignal): Promise<void>;
}

function run(argv: readonly string[], timeoutMs = 10_000): Promise<string> {
  const [file, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(file ?? '', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => reject(new TskubeError('unavailable', `${argv.join(' ')}: ${e.message}`)));
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new TskubeError('unavailable', `${argv.slice(0, 4).join(' ')}: exit ${code}: ${err.trim() || out.trim()}`)),
    );
  });
}

export function busctlLogind(): LogindBus {
  return {
    async inhibitDelayUs() {
      const out = await run(inhibitDelayCommand);
      const us = parseInhibitDelayUs(out);
      if (us === undefined) throw new TskubeError('unavailable', `InhibitDelayMaxUSec from logind is not a uint64 as expected: ${out.trim()}`);
      return us;
    },
    async raiseInhibitDelay(override) {
      await mkdir(dirname(logindOverridePath), { recursive: true, mode: 0o755 });
      await writeFile(logindOverridePath, override, { mode: 0o644 });
      await run(reloadLogindCommand);
    },
    async inhibit() {
      const [file, ...args] = inhibitCommand;
      const child = spawn(file ?? '', args, { stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      child.on('error', () => undefined);
      const release = () => {
        child.stdin.end();
        child.kill('SIGTERM');
      };
      // Held once logind lists the child as an inhibitor; a child still there after two seconds
      // holds it too (logind answers ListInhibitors only to some callers).
      for (let i = 0; i < 20 && child.exitCode === null; i++) {
        const pids: number[] = await run(listInhibitorsCommand).then(kubeletInhibitorPids, () => []);
        if (child.pid !== undefined && pids.includes(child.pid)) return { release };
        await sleep(100);
      }
      if (child.exitCode === null) return { release };
      const code = await exited;
      throw new TskubeError('unavailable', `failed creating systemd inhibitor: systemd-inhibit exit ${code}: ${err.trim()}`);
    },
    async monitor(onSignal, signal) {
      const [file, ...args] = monitorCommand;
      const child = spawn(file ?? '', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const stop = () => child.kill('SIGTERM');
      signal.addEventListener('abort', stop, { once: true });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const lines = createInterface({ input: child.stdout });
      lines.on('line', (line) => {
        const s = parseShutdownSignal(line);
        if (s !== undefined) onSignal(s);
      });
      const code = await new Promise<number | null>((resolve) => {
        child.on('close', resolve);
        child.on('error', () => resolve(-1));
      });
      signal.removeEventListener('abort', stop);
      if (!signal.aborted)
        throw new TskubeError('unavailable', `watching logind for shutdown ended (busctl monitor exit ${code}): ${err.trim().split('\n').at(-1) ?? ''}`);
    },
  };
}
