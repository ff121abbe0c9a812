// The links in the container log links folder, and removing a pod's logs with the links
// into them when the pod is removed.
import { lstat, readdir, readlink, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { unlinkQuietly } from '../runtime/container-log-link.js';
import { linksInto, podUidOfLogDir, type ContainerLogLink } from './plan-log-sweep.js';

export async function readLogLinks(dir: string): Promise<ContainerLogLink[]> {
  const names = await readdir(dir).catch(() => []);
  const links: ContainerLogLink[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const target = await readlink(path).catch(() => undefined);
    if (target === undefined) continue; // not a link
    const targetExists = await lstat(resolve(dir, target)).then(
      () => true,
      () => false,
    );
    links.push({ name, target: resolve(dir, target), targetExists });
  }
  return links;
}

/** A removed pod's log directory and the links into it, right away rather than at the next sweep. */
export async function removePodLogs(podLogsRoot: string, linksDir: string, uid: string): Promise<void> {
  const dirs = (await readdir(podLogsRoot).catch(() => [])).filter((name) => podUidOfLogDir(name) === uid);
  if (dirs.length === 0) return;
  for (const name of linksInto(await readLogLinks(linksDir), podLogsRoot, dirs)) await unlinkQuietly(join(linksDir, name));
  for (const d of dirs) await rm(join(podLogsRoot, d), { recursive: true, force: true });
}
