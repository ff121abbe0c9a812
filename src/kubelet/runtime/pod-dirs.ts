import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TskubeError } from '../../common/errors.js';
import { type MountPoint, mountsUnder } from '../volumes/mount-info.js';

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

/**
 * Removes a pod's directory, but never through a mount point that is still mounted:
 * a recursive delete would walk into the volume and destroy the user's data. `mountTable`
 * is the mount table as of now (the volume manager's mounter reads it).
 */
export async function removePodDir(rootDir: string, uid: string, mountTable: readonly MountPoint[]): Promise<void> {
  const dir = podDir(rootDir, uid);
  const mounted = mountsUnder(mountTable, dir);
  if (mounted.length > 0) {
    throw new TskubeError('failed-precondition', `not removing ${dir}: still mounted at ${mounted.join(', ')}`);
  }
  await rm(dir, { recursive: true, force: true });
}
