// Where the machine's CPU went over a window, per group of processes, from /proc: each
// process's own user+system time and the times of the children it reaped (cutime/cstime),
// so short-lived helpers are counted with the process that ran them: the CNI plugins and
// `containerd-shim start` under containerd, runc under the shims. Against the machine's
// busy time from /proc/stat, whatever no snapshot saw (processes reaped by one not
// tracked, interrupts) is left as the difference.
import { readdirSync, readFileSync } from 'node:fs';
import { clockTicksPerSecond, procStat } from './proc.js';

interface ProcSample {
  pid: number;
  ppid: number;
  /** Start time in clock ticks since boot: pid and start time name one process. */
  start: string;
  comm: string;
  args: string[];
  ownTicks: number;
  childTicks: number;
}

export interface CpuSnapshot {
  /** performance.now() when taken. */
  at: number;
  /** The machine's busy ticks (all CPUs), from /proc/stat: everything but idle and iowait. */
  busyTicks: number;
  /** Its idle and iowait ticks. */
  idleTicks: number;
  /** Its interrupt ticks (irq and softirq, inside busy): time no process is charged with. */
  irqTicks: number;
  /** Its steal ticks (inside busy): time the hypervisor gave to others. */
  stealTicks: number;
  procs: Map<string, ProcSample>;
}

function readProc(pid: string): ProcSample | undefined {
  try {
    const { comm, fields: f } = procStat(pid);
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return {
      pid: Number(pid),
      ppid: Number(f[1]),
      start: f[19] ?? '',
      comm,
      args,
      ownTicks: Number(f[11]) + Number(f[12]),
      childTicks: Number(f[13]) + Number(f[14]),
    };
  } catch {
    return undefined; // gone meanwhile
  }
}

export function cpuSnapshot(): CpuSnapshot {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  // user nice system idle iowait irq softirq steal (guest time is inside user).
  const idleTicks = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  const irqTicks = (cpu[5] ?? 0) + (cpu[6] ?? 0);
  const stealTicks = cpu[7] ?? 0;
  const busyTicks = cpu.slice(0, 8).reduce((a, b) => a + b, 0) - idleTicks;
  const procs = new Map<string, ProcSample>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const p = readProc(e);
    if (p) procs.set(`${p.pid}@${p.start}`, p);
  }
  return { at: performance.now(), busyTicks, idleTicks, irqTicks, stealTicks, procs };
}

/** Which group a process's own time goes to, and which its reaped children's; undefined: "other processes". */
export type Classify = (
  p: { pid: number; ppid: number; comm: string; args: string[] },
  parent: (pid: number) => ProcSample | undefined,
) => { own: string; children: string } | undefined;

export const otherGroup = 'other processes';
export const unseenGroup = 'not seen in any process (interrupts, reaped elsewhere)';
export const machineGroup = 'machine, busy';
export const idleGroup = 'machine, idle or iowait';
export const irqGroup = '  of which interrupts (irq, softirq)';
export const stealGroup = '  of which steal (the hypervisor)';
export const windowGroup = 'window (wall s)';

/**
 * CPU seconds per group between two snapshots; a process that started in between counts
 * from zero. A child reaped in between brings its whole life into its parent's children's
 * time: what it had used before the window (its first snapshot) is taken off again. Also the
 * machine's busy and idle seconds, "other processes", what no process showed, and the window.
 */
export function cpuSplit(before: CpuSnapshot, after: CpuSnapshot, classify: Classify): Map<string, number> {
  const out = new Map<string, number>();
  const add = (group: string, ticks: number) => out.set(group, (out.get(group) ?? 0) + ticks / clockTicksPerSecond);
  const byPid = new Map([...after.procs.values()].map((p) => [p.pid, p]));
  const parentOf = (pid: number) => byPid.get(pid);
  let seen = 0;
  for (const [key, p] of after.procs) {
    const b = before.procs.get(key);
    const own = p.ownTicks - (b?.ownTicks ?? 0);
    const children = p.childTicks - (b?.childTicks ?? 0);
    const g = classify(p, parentOf);
    add(g?.own ?? otherGroup, own);
    add(g?.children ?? otherGroup, children);
    seen += own + children;
  }
  for (const [key, gone] of before.procs) {
    if (after.procs.has(key)) continue;
    const parent = byPid.get(gone.ppid);
    if (!parent || !before.procs.has(`${parent.pid}@${parent.start}`)) continue;
    const earlier = gone.ownTicks + gone.childTicks;
    add(classify(parent, parentOf)?.children ?? otherGroup, -earlier);
    seen -= earlier;
  }
  const busy = after.busyTicks - before.busyTicks;
  add(unseenGroup, busy - seen);
  add(irqGroup, after.irqTicks - before.irqTicks);
  add(stealGroup, after.stealTicks - before.stealTicks);
  add(machineGroup, busy);
  add(idleGroup, after.idleTicks - before.idleTicks);
  out.set(windowGroup, (after.at - before.at) / 1000);
  return out;
}
