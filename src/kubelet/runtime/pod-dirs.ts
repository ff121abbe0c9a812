import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TskubeError } from '../../common/errors.js';

/** /var/lib/kubelet/pods/<uid>: volumes and plugins of a pod live under it. */
export function podDir(rootDir: string, uid: string): string {
  return join(rootDir, 'pods', uid);
}

export async function ensurePodDirs(rootDir: string, uid: string): Promise<string> {
  const dir = podDir(rootDir, uid);
  await mkdir(join(dir, 'volumes'), { recursive: true });
  await mkdir(join(dir, 'plugins'), { recursive: true });
  return dir;
}

/** Mount points at or below `dir`, from /proc/self/mountinfo (octal escapes decoded). */
export function mountsUnder(mountinfo: string, dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8))))
    .filter((p) => p === dir || p.startsWith(prefix));
}

/**
 * Removes a pod's directory, but never through a mount point that is still mounted:
 * a recursive delete would walk into the volume and destroy the user's data.
 */
export async function removePodDir(rootDir: string, uid: string): Promise<void> {
  const dir = podDir(rootDir, uid);
  const mounted = mountsUnder(await readFile('/proc/self/mountinfo', 'utf8'), dir);
  if (mounted.length > 0) {
    throw new TskubeError('failed-precondition', `not removing ${dir}: still mounted at ${mounted.join(', ')}`);
  }
  await rm(dir, { recursive: true, force: true });
}
