/*
 * subPath mounts, made safe as upstream makes them. A subPath is resolved (symlinks
 * followed) and must stay inside the volume; then every component of the resolved path is
 * opened again from the volume's directory without following symlinks, and the final
 * descriptor (/proc/<pid>/fd/<n>) is what gets bind-mounted under volume-subpaths. A
 * symlink swapped in between the check and the mount is found on the second walk, so a
 * container cannot point a subPath at the node's files. Missing subPath directories are
 * made the same way, with the volume's own permissions.
 *
 * Node has no openat(2); opening "/proc/self/fd/<dir fd>/<name>" with O_NOFOLLOW does the
 * same: the magic link resolves to the directory the descriptor holds, and only the last
 * name is looked up, never followed.
 */
import { constants } from 'node:fs';
import { chmod, lstat, mkdir, open, realpath, stat, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { TskubeError } from '../../common/errors.js';
import type { MountPoint } from './mount-info.js';
import type { Mounter } from './mounter.js';

/** open(2)'s O_PATH on Linux (not in Node's constants): a descriptor that only names the file. */
const O_PATH = 0o10000000;

/** Whether `path` is `base` or below it (both cleaned, absolute). Pure. */
export function pathWithin(path: string, base: string): boolean {
  const rel = relative(base, path);
  // "..2026_01_02…" (an atomic writer's version directory) is inside; "../x" is not.
  return rel !== '..' && !rel.startsWith('../') && !rel.startsWith('/');
}

async function openNoFollow(path: string, dirOnly: boolean): Promise<FileHandle> {
  return open(path, O_PATH | constants.O_NOFOLLOW | (dirOnly ? constants.O_DIRECTORY : 0));
}

/**
 * Opens `path` (already resolved, inside `base`) one component at a time from `base`,
 * refusing any symlink on the way. The caller closes the handle.
 */
export async function safeOpen(path: string, base: string): Promise<FileHandle> {
  if (!pathWithin(path, base)) throw new TskubeError('permission-denied', `subpath ${JSON.stringify(path)} not within volume path ${JSON.stringify(base)}`);
  let current = await openNoFollow(base, true);
  let currentPath = base;
  try {
    for (const seg of relative(base, path)
      .split('/')
      .filter((s) => s !== '')) {
      currentPath = join(currentPath, seg);
      const child = await openNoFollow(`/proc/self/fd/${current.fd}/${seg}`, false).catch((err: unknown) => {
        throw new TskubeError('failed-precondition', `cannot open ${currentPath}: ${TskubeError.from(err).detail}`);
      });
      await current.close();
      current = child;
      if ((await current.stat()).isSymbolicLink()) throw new TskubeError('permission-denied', `unexpected symlink found ${currentPath}`);
    }
    return current;
  } catch (err) {
    await current.close().catch(() => undefined);
    throw err;
  }
}

/**
 * Makes the directory `subPath` inside `volumePath` where it is missing, each new level
 * made through a descriptor of its parent (never through a symlink), with mode `perm`.
 */
export async function safeMakeDir(volumePath: string, subPath: string, perm: number): Promise<void> {
  const base = await realpath(volumePath);
  const parts = subPath.split('/').filter((s) => s !== '' && s !== '.');
  // The part that exists, resolved (it may contain links that stay inside the volume).
  let existing = base;
  let i = 0;
  for (; i < parts.length; i++) {
    const next = join(existing, parts[i] ?? '');
    try {
      await lstat(next);
    } catch {
      break;
    }
    existing = await realpath(next);
    if (!pathWithin(existing, base)) throw new TskubeError('permission-denied', `path ${existing} is outside of allowed base ${base}`);
  }
  if (i === parts.length) {
    if (!(await stat(existing)).isDirectory()) throw new TskubeError('failed-precondition', `${join(volumePath, subPath)} is not a directory`);
    return;
  }
  let parent = await safeOpen(existing, base);
  try {
    for (; i < parts.length; i++) {
      const name = parts[i] ?? '';
      const via = `/proc/self/fd/${parent.fd}/${name}`;
      await mkdir(via, { mode: perm & 0o777 });
      const child = await openNoFollow(via, true);
      await parent.close();
      parent = child;
      // chmod through the descriptor: the umask must not decide the mode, and no link may be followed.
      await chmod(`/proc/self/fd/${parent.fd}`, perm & 0o7777);
    }
  } finally {
    await parent.close().catch(() => undefined);
  }
}

/** Whether two paths name the same file (device and inode), following neither. */
async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    const [x, y] = await Promise.all([lstat(a), lstat(b)]);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

export interface SubPathMount {
  /** The volume's directory on the node. */
  volumePath: string;
  subPath: string;
  /** volume-subpaths/<volume>/<container>/<index>: what the container mounts. */
  target: string;
}

/**
 * Bind-mounts the volume's subPath at `target` (once; a later call for the same file is a
 * no-op) and returns `target`. Refuses a subPath that leaves the volume, directly or by
 * a symlink, with upstream's error.
 */
export async function bindSubPath(mounter: Mounter, table: readonly MountPoint[], m: SubPathMount): Promise<string> {
  const base = await realpath(m.volumePath);
  const resolved = await realpath(join(m.volumePath, m.subPath)).catch((err: unknown) => {
    throw new TskubeError(
      'failed-precondition',
      `error resolving symlinks in ${JSON.stringify(join(m.volumePath, m.subPath))}: ${TskubeError.from(err).detail}`,
    );
  });
  const handle = await safeOpen(resolved, base);
  try {
    if (table.some((p) => p.mountPoint === m.target)) {
      if (await sameFile(resolved, m.target)) return m.target;
      await mounter.unmount(m.target);
    }
    await mkdir(dirname(m.target), { recursive: true, mode: 0o750 });
    if ((await handle.stat()).isDirectory()) await mkdir(m.target, { mode: 0o750 }).catch(ignoreExists);
    else await writeFile(m.target, '', { mode: 0o640 });
    await mounter.bind(`/proc/${process.pid}/fd/${handle.fd}`, m.target);
    return m.target;
  } finally {
    await handle.close();
  }
}

function ignoreExists(err: NodeJS.ErrnoException): void {
  if (err.code !== 'EEXIST') throw err;
}
