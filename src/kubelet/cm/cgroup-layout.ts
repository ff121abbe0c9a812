// Where the node's cgroups are and which version: the unified hierarchy (v2) at
// /sys/fs/cgroup, or one v1 hierarchy per controller (mount points read from
// mountinfo, so "cpu,cpuacct" co-mounts and separate mounts both work).
import { access, readFile } from 'node:fs/promises';

export type CgroupLayout =
  | { version: 2; root: string }
  | {
      version: 1;
      mounts: ReadonlyMap<string, string>;
      /**
       * The other hierarchies runc also puts containers in (name=systemd, a hybrid host's cgroup2
       * at /sys/fs/cgroup/unified): nothing is set there, but a pod's cgroup is removed there too.
       */
      others?: readonly string[];
    };

/** v1 controllers the kubelet's cgroups are made in (as runc's cgroupfs manager makes them). */
export const v1Controllers = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'hugetlb', 'blkio', 'devices', 'freezer', 'net_cls', 'net_prio', 'perf_event'];

/** Controller → mount point, from /proc/self/mountinfo's cgroup (v1) lines. */
export function parseV1Mounts(mountinfo: string): Map<string, string> {
  const mounts = new Map<string, string>();
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const [fstype, , superOptions] = right.split(' ');
    if (fstype !== 'cgroup') continue;
    const mountPoint = left.split(' ')[4];
    if (!mountPoint) continue;
    for (const opt of (superOptions ?? '').split(',')) if (v1Controllers.includes(opt) && !mounts.has(opt)) mounts.set(opt, mountPoint);
  }
  return mounts;
}

/** Mount points of v1 hierarchies with none of those controllers (named ones), and a hybrid host's cgroup2. */
export function parseOtherV1Hierarchies(mountinfo: string): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const [fstype, , superOptions] = right.split(' ');
    const mountPoint = left.split(' ')[4];
    if (!mountPoint || out.includes(mountPoint)) continue;
    const named = fstype === 'cgroup' && !(superOptions ?? '').split(',').some((o) => v1Controllers.includes(o));
    if (named || fstype === 'cgroup2') out.push(mountPoint);
  }
  return out;
}

export async function detectCgroupLayout(root = '/sys/fs/cgroup'): Promise<CgroupLayout> {
  const unified = await access(`${root}/cgroup.controllers`).then(
    () => true,
    () => false,
  );
  if (unified) return { version: 2, root };
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  return { version: 1, mounts: parseV1Mounts(mountinfo), others: parseOtherV1Hierarchies(mountinfo) };
}
