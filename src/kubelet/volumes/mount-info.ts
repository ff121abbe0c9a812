// /proc/self/mountinfo, read as the kernel writes it (proc(5)): the mount table every
// volume decision starts from, so a restarted kubelet sees what is mounted instead of
// guessing. Pure.

export interface MountPoint {
  /** Where it is mounted, octal escapes (\040 for a space) decoded. */
  mountPoint: string;
  /** The path inside the source filesystem that is mounted there ("/" for a whole filesystem; a bind's subdirectory). */
  root: string;
  fsType: string;
  source: string;
  /** Per-mount and per-superblock options, e.g. "rw,relatime" and "rw,size=1024k". */
  options: string;
  superOptions: string;
  /** Has a "shared:N" or "master:N" tag: mounts made below it reach containers that mount it HostToContainer. */
  propagates: boolean;
}

const decodeOctal = (s: string) => s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));

export function parseMountInfo(text: string): MountPoint[] {
  const out: MountPoint[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-', 6);
    if (fields.length < 10 || dash < 0) continue;
    const optional = fields.slice(6, dash);
    out.push({
      mountPoint: decodeOctal(fields[4] ?? ''),
      root: decodeOctal(fields[3] ?? ''),
      options: fields[5] ?? '',
      fsType: fields[dash + 1] ?? '',
      source: decodeOctal(fields[dash + 2] ?? ''),
      superOptions: fields[dash + 3] ?? '',
      propagates: optional.some((o) => o.startsWith('shared:') || o.startsWith('master:')),
    });
  }
  return out;
}

/** Mount points at or below `dir`. */
export function mountsUnder(mountinfo: string | readonly MountPoint[], dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const table = typeof mountinfo === 'string' ? parseMountInfo(mountinfo) : mountinfo;
  return table.map((m) => m.mountPoint).filter((p) => p === dir || p.startsWith(prefix));
}
