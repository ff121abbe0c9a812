// Which files a container log rotation touches, as upstream's container log manager
// decides: leftover ".tmp" files and uncompressed copies whose ".gz" exists go; of the
// rotated files, only the newest containerLogMaxFiles - 2 stay (with the current file and
// the one rotated now, that makes containerLogMaxFiles); those not yet compressed are
// gzipped; the current file becomes "<log>.<YYYYMMDD-hhmmss>" and the runtime reopens it.

export interface RotationPlan {
  remove: string[];
  compress: string[];
  /** The name the current log file is renamed to. */
  rotated: string;
}

/** Upstream's timestamp layout "20060102-150405", in local time. */
export function rotationTimestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** `siblings`: every path that starts with "<log>." (the rotated files of this log). */
export function planLogRotation(log: string, siblings: readonly string[], maxFiles: number, now: Date): RotationPlan {
  const remove: string[] = [];
  const inUse: string[] = [];
  for (const f of siblings) {
    const unused = f.endsWith('.tmp') || (!f.endsWith('.gz') && siblings.includes(`${f}.gz`));
    (unused ? remove : inUse).push(f);
  }
  inUse.sort();
  const keep = Math.max(0, maxFiles - 2);
  const excess = inUse.length - keep;
  if (excess > 0) remove.push(...inUse.splice(0, excess));
  return { remove, compress: inUse.filter((f) => !f.endsWith('.gz')), rotated: `${log}.${rotationTimestamp(now)}` };
}
