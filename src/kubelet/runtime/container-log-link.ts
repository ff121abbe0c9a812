// /var/log/containers/<pod>_<namespace>_<container>-<id>.log: the link upstream's kubelet
// keeps to each container's log file. Log shippers (fluent-bit, promtail, vector) read
// these by default, and take the pod, namespace and container from the name.
import { lstat, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export const defaultContainerLogLinksDir = '/var/log/containers';

/** A file name may be at most 255 bytes on ext4; upstream cuts the name before `.log`. */
const maxNameLength = 255 - '.log'.length;

export function containerLogLinkPath(linksDir: string, podName: string, podNamespace: string, containerName: string, containerId: string): string {
  const name = `${podName}_${podNamespace}_${containerName}-${containerId}`.slice(0, maxNameLength);
  return join(linksDir, `${name}.log`);
}

/** Links the log file once the runtime has made it; an existing link stays. */
export async function linkContainerLog(linkPath: string, logFile: string): Promise<void> {
  if (!(await exists(logFile))) return;
  await symlink(logFile, linkPath).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
}

export async function unlinkQuietly(path: string): Promise<void> {
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}
