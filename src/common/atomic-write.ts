import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, symlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `data` to `path` through a temp file, fsync and rename, so readers see all or
 * nothing. A missing parent is created 0700 (key material and runtime state live here).
 * `sync: false` skips the fsync for state a reboot makes stale anyway (the CNI result
 * cache: libcni does not sync it either): readers still see all or nothing.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode: number, options: { sync?: boolean } = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${randomBytes(4).toString('hex')}`);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.chmod(mode);
    if (options.sync !== false) await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Points the symlink `link` at `target`, replacing what it pointed at in one rename. */
export async function replaceSymlink(target: string, link: string): Promise<void> {
  const tmp = join(dirname(link), `.${basename(link)}.tmp-${randomBytes(4).toString('hex')}`);
  await symlink(target, tmp);
  try {
    await rename(tmp, link);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
