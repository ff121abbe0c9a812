// Starting the control plane's processes so they outlive `testbed up`, and
// stopping exactly those processes again later, from another process.
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';

export interface ProcessRecord {
  name: string;
  pid: number;
  // The kernel's start time of the process (clock ticks since boot). A pid
  // alone may have been reused by the time `down` runs; pid plus start time
  // names one process.
  startTime: string;
  log: string;
}

export function startProcess(name: string, file: string, args: string[], log: string, netns?: string): ProcessRecord {
  const fd = openSync(log, 'a');
  try {
    // detached: its own session and process group, so it survives the
    // terminal or test runner that started it and can be signalled as a group.
    // `ip netns exec` execs the binary after entering the namespace: same pid.
    const [command, argv] = netns ? ['ip', ['netns', 'exec', netns, file, ...args]] : [file, args];
    const child = spawn(command, argv, { detached: true, stdio: ['ignore', fd, fd] });
    // A failed exec shows as a missing pid below; without a listener the
    // later 'error' event would crash the caller.
    child.on('error', () => {});
    if (child.pid === undefined) throw new Error(`could not start ${name} (${file})`);
    child.unref();
    const startTime = processStartTime(child.pid);
    if (startTime === undefined) throw new Error(`${name} exited at once; see ${log}`);
    return { name, pid: child.pid, startTime, log };
  } finally {
    closeSync(fd);
  }
}

function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; fields after it are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

// A zombie counts as gone: it holds no ports or files, and whoever should
// reap it (possibly a PID 1 that never does) is not ours to wait for.
export function isRunning(p: Pick<ProcessRecord, 'pid' | 'startTime'>): boolean {
  return processStartTime(p.pid) === p.startTime;
}

// SIGTERM to the process group, then SIGKILL after the grace period.
export async function stopProcess(p: ProcessRecord, graceMs: number): Promise<void> {
  if (!signal(p, 'SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isRunning(p)) return;
    await sleep(50);
  }
  signal(p, 'SIGKILL');
  const killDeadline = Date.now() + 5_000;
  while (isRunning(p)) {
    if (Date.now() > killDeadline) throw new Error(`${p.name} (pid ${p.pid}) survived SIGKILL for 5s`);
    await sleep(50);
  }
}

// For exit hooks, where nothing asynchronous runs any more.
export function killNow(p: ProcessRecord): void {
  signal(p, 'SIGKILL');
}

function signal(p: ProcessRecord, sig: NodeJS.Signals): boolean {
  if (!isRunning(p)) return false;
  try {
    process.kill(-p.pid, sig);
  } catch {
    try {
      process.kill(p.pid, sig);
    } catch {
      return false;
    }
  }
  return true;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
