import { readFileSync } from 'node:fs';

/** Resident memory (MiB) and CPU time (s, user + system) of a process, from /proc. */
export function processUsage(pid: number): { rssMiB: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKiB = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
  const { fields } = procStat(pid);
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssMiB: rssKiB / 1024, cpuSeconds: ticks / clockTicksPerSecond };
}

/** USER_HZ: the unit of /proc's CPU times. */
export const clockTicksPerSecond = 100;

/**
 * /proc/<pid>/stat: the command (between the parens; it may hold spaces) and the fields after
 * it, from 0: state 0, ppid 1, utime 11, stime 12, cutime 13, cstime 14, starttime 19.
 */
export function procStat(pid: number | string): { comm: string; fields: string[] } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const close = stat.lastIndexOf(')');
  return { comm: stat.slice(stat.indexOf('(') + 1, close), fields: stat.slice(close + 2).split(' ') };
}

/** Resident memory (MiB) of a process split as the kernel counts it: anonymous (heap, stacks) and file-backed (the binary, libraries). */
export function residentParts(pid: number): { anonMiB: number; fileMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { anonMiB: kib('RssAnon') / 1024, fileMiB: (kib('RssFile') + kib('RssShmem')) / 1024 };
}
