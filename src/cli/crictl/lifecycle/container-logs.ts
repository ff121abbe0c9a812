import { readdir, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errorMessage } from '../../../common/errors.js';

/**
 * Deletes a removed container's log file and its rotations (`<log>.*`), as crictl rm
 * does unless --keep-logs. Resolves to the files that could not be deleted, with why.
 */
export async function removeContainerLogs(logPath: string): Promise<string[]> {
  if (logPath === '') return [];
  const dir = dirname(logPath);
  const base = basename(logPath);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return []; // no log directory: nothing to delete
  }
  const problems: string[] = [];
  for (const name of names.filter((n) => n === base || n.startsWith(`${base}.`))) {
    try {
      await unlink(join(dir, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') problems.push(`${join(dir, name)}: ${errorMessage(err)}`);
    }
  }
  return problems;
}
