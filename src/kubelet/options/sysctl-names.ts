// Which sysctls live in a kernel namespace a pod can own (upstream's
// component-helpers sysctl namespace table), and the slash form of their names.

export type SysctlNamespace = 'ipc' | 'net';

const ipcNames = new Set([
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
  'kernel.shm',
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.msg',
]);

/**
 * Sysctl names in the dot form: a name whose first separator is '/' is in the slash
 * form, where '.' stands for a '/' inside a component.
 */
export function normalizeSysctlName(name: string): string {
  const slash = name.indexOf('/');
  const dot = name.indexOf('.');
  if (slash < 0 || (dot >= 0 && dot < slash)) return name;
  return name.replace(/[./]/g, (c) => (c === '/' ? '.' : '/'));
}

/** The namespace a sysctl (or a prefix of one) belongs to, if any. */
export function sysctlNamespace(name: string): SysctlNamespace | undefined {
  if (ipcNames.has(name)) return 'ipc';
  if (name.startsWith('net.')) return 'net';
  if (name.startsWith('fs.mqueue.')) return 'ipc';
  return undefined;
}

const sysctlPattern = /^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*(\*|[a-z0-9]([-_a-z0-9]*[a-z0-9])?\*?)$/;

/** Why an allowedUnsafeSysctls entry is refused, as upstream's NewAllowlist refuses it; undefined when fine. */
export function sysctlPatternProblem(pattern: string): string | undefined {
  if (pattern.length > 253 || !sysctlPattern.test(pattern)) return 'want a sysctl name or a prefix ending in "*", e.g. net.core.somaxconn or kernel.msg*';
  const name = normalizeSysctlName(pattern);
  const star = name.indexOf('*');
  const prefix = star < 0 ? name : name.slice(0, star);
  if (sysctlNamespace(prefix) === undefined) return `the sysctls "${prefix}" are not known to be namespaced`;
  return undefined;
}
