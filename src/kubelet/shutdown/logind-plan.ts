// What the kubelet says to systemd-logind to be told of a shutdown, as upstream's node
// shutdown manager does over D-Bus, here through systemd's own tools (Node cannot receive the
// inhibitor lock's file descriptor over D-Bus): the commands, the logind.conf drop-in that
// raises InhibitDelayMaxSec to shutdownGracePeriod, and the parsing of what busctl prints.
// Pure: the executor (logind-bus.ts) runs the commands.

export const logindService = 'org.freedesktop.login1';
export const logindObject = '/org/freedesktop/login1';
export const logindInterface = 'org.freedesktop.login1.Manager';

/** Where upstream writes its drop-in; logind reads it after a SIGHUP. */
export const logindOverridePath = '/etc/systemd/logind.conf.d/99-kubelet.conf';

/** `busctl get-property …` of logind's maximum inhibitor delay (microseconds). */
export const inhibitDelayCommand = ['busctl', '--system', 'get-property', logindService, logindObject, logindInterface, 'InhibitDelayMaxUSec'];

/** SIGHUP to systemd-logind through systemd (KillUnit), so it reads the drop-in: upstream's ReloadLogindConf. */
export const reloadLogindCommand = [
  'busctl',
  '--system',
  'call',
  'org.freedesktop.systemd1',
  '/org/freedesktop/systemd1',
  'org.freedesktop.systemd1.Manager',
  'KillUnit',
  'ssi',
  'systemd-logind.service',
  'all',
  '1',
];

/**
 * The delay inhibitor lock upstream takes ("shutdown", "kubelet", its reason, "delay"),
 * held for as long as the command runs: `cat` on a pipe the kubelet never writes, so the
 * lock goes when the kubelet closes it, and also when the kubelet dies (the pipe breaks).
 */
export const inhibitCommand = [
  'systemd-inhibit',
  '--what=shutdown',
  '--who=kubelet',
  '--why=Kubelet needs time to handle node shutdown',
  '--mode=delay',
  'cat',
];

/** logind's PrepareForShutdown signals, one JSON line each. */
export const monitorCommand = [
  'busctl',
  '--system',
  'monitor',
  '--json=short',
  '--match',
  `type='signal',sender='${logindService}',path='${logindObject}',interface='${logindInterface}',member='PrepareForShutdown'`,
];

/** The microseconds in busctl's `t 5000000`; undefined for anything else. */
export function parseInhibitDelayUs(output: string): number | undefined {
  const m = /^t\s+(\d+)\s*$/.exec(output.trim());
  return m ? Number(m[1]) : undefined;
}

/**
 * A PrepareForShutdown signal as `busctl monitor --json=short` prints it
 * ({"type":"signal",…,"member":"PrepareForShutdown","payload":{"type":"b","data":[true]}}):
 * true when a shutdown starts, false when it is cancelled; undefined for any other line.
 */
export function parseShutdownSignal(line: string): boolean | undefined {
  let m: unknown;
  try {
    m = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof m !== 'object' || m === null) return undefined;
  const msg = m as { type?: unknown; member?: unknown; interface?: unknown; payload?: { data?: unknown } };
  if (msg.type !== 'signal' || msg.member !== 'PrepareForShutdown' || msg.interface !== logindInterface) return undefined;
  const first = Array.isArray(msg.payload?.data) ? msg.payload.data[0] : undefined;
  return typeof first === 'boolean' ? first : undefined;
}

/** The drop-in raising logind's InhibitDelayMaxSec to the grace period, worded as upstream's. */
export function logindOverride(gracePeriodMs: number): string {
  return `# Kubelet logind override\n[Login]\nInhibitDelayMaxSec=${Math.round(gracePeriodMs / 1000)}\n`;
}

/** Whether logind's maximum delay is too short for the grace period (then the drop-in is written and logind reloaded). */
export function needsLongerDelay(currentUs: number, gracePeriodMs: number): boolean {
  return gracePeriodMs * 1000 > currentUs;
}

/** `busctl --json=short call … ListInhibitors`: the pids holding a delay lock on shutdown as "kubelet". */
export const listInhibitorsCommand = ['busctl', '--system', '--json=short', 'call', logindService, logindObject, logindInterface, 'ListInhibitors'];

export function kubeletInhibitorPids(output: string): number[] {
  let m: unknown;
  try {
    m = JSON.parse(output);
  } catch {
    return [];
  }
  const data = (m as { data?: unknown })?.data;
  const rows = Array.isArray(data) && Array.isArray(data[0]) ? (data[0] as unknown[]) : [];
  return rows.flatMap((r) => {
    if (!Array.isArray(r)) return [];
    const [what, who, , mode, , pid] = r as [unknown, unknown, unknown, unknown, unknown, unknown];
    return typeof what === 'string' && what.split(':').includes('shutdown') && who === 'kubelet' && mode === 'delay' && typeof pid === 'number' ? [pid] : [];
  });
}
