// fsGroup ownership, as upstream's SetVolumeOwnership: every file and directory of the
// volume gets the group, read (and, for writable volumes, write) permission for it, and
// directories get search permission and the setgid bit so new files inherit the group.
// With fsGroupChangePolicy OnRootMismatch a volume whose top directory already fits is
// left alone. Symlinks only change group.
import { chmod, lchown, lstat, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

const rwMask = 0o660;
const roMask = 0o440;
const execMask = 0o110;
const setgidBit = 0o2000;

/** The mode a file or directory gets: its own bits plus the group's. Pure. */
export function fsGroupMode(mode: number, isDir: boolean, readOnly: boolean): number {
  let mask = readOnly ? roMask : rwMask;
  if (isDir) mask |= execMask | setgidBit;
  return (mode & 0o7777) | mask;
}

/** Whether the volume's top directory already has the group and its permissions (upstream requiresPermissionChange, negated). Pure. */
export function rootFits(root: { gid: number; mode: number; isDir: boolean }, fsGroup: number, readOnly: boolean): boolean {
  if (!root.isDir || root.gid !== fsGroup) return false;
  const want = (readOnly ? roMask : rwMask) | execMask;
  return (root.mode & want) === want && (root.mode & setgidBit) !== 0;
}

export interface FsGroupOptions {
  fsGroup: number;
  /** configMap, secret, downwardAPI and projected volumes are read-only to the pod: read permission only. */
  readOnly: boolean;
  /** The pod's fsGroupChangePolicy; OnRootMismatch skips a volume whose top directory fits already. */
  changePolicy?: string;
}

export async function applyFsGroup(dir: string, o: FsGroupOptions): Promise<void> {
  if (o.changePolicy === 'OnRootMismatch') {
    const st = await stat(dir);
    if (rootFits({ gid: st.gid, mode: st.mode, isDir: st.isDirectory() }, o.fsGroup, o.readOnly)) return;
  }
  await walk(dir, o);
}

async function walk(path: string, o: FsGroupOptions): Promise<void> {
  const st = await lstat(path);
  await lchown(path, -1, o.fsGroup);
  if (st.isSymbolicLink()) return;
  await chmod(path, fsGroupMode(st.mode, st.isDirectory(), o.readOnly));
  if (!st.isDirectory()) return;
  for (const name of await readdir(path)) await walk(join(path, name), o);
}
