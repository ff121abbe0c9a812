// Files replaced whole: a reader (or a crash) sees the old content or the new, never half.
// The data goes to a temporary file beside the target, is fsync'd, and is renamed over it;
// a symlink is switched the same way. The one way the project replaces a file in place.
import { randomBytes } from 'node:crypto';
import { open, rename, rm, symlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

function tempBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${randomBytes(4).toString('hex')}`);
}

async function renameOrRemove(tmp: string, path: string): Promise<void> {
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Writes `data` to `path` (created with `mode`) through a temp file, fsync and rename. The folder must exist. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = tempBeside(path);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.chmod(mode);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  await renameOrRemove(tmp, path);
}

/** Points the symlink `link` at `target`, replacing what it pointed at in one rename. */
export async function replaceSymlink(target: string, link: string): Promise<void> {
  const tmp = tempBeside(link);
  await symlink(target, tmp);
  await renameOrRemove(tmp, link);
}
