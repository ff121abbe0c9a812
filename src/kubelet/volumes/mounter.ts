/*
 * The volume manager's one seam to the kernel's mount table: read it, mount a tmpfs,
 * bind-mount, make a tree shared, unmount. On a node it runs mount(8) and umount(8) from
 * util-linux, as upstream's mount-utils does; unit tests use an in-memory table behind the
 * same interface (test/support/fake-mounter.ts).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { TskubeError } from '../../common/errors.js';
import { freshRead } from '../../common/fresh-read.js';
import { type MountPoint, parseMountInfo } from './mount-info.js';

export interface Mounter {
  /** The mount table as it is now. */
  mounts(): Promise<MountPoint[]>;
  /** A tmpfs at `target` (an existing directory), at most `sizeBytes` big (the kernel's default, half the memory, without). */
  mountTmpfs(target: string, sizeBytes?: number): Promise<void>;
  /** Bind-mounts `source` at `target` as given: no symlink in `source` is resolved again (it may be /proc/<pid>/fd/<n>). */
  bind(source: string, target: string): Promise<void>;
  /** Makes `path` a shared mount (bind-mounting it on itself first when it is no mount point), so mounts below it propagate. */
  makeShared(path: string): Promise<void>;
  /** Unmounts `target`; one that is busy is detached lazily rather than left (as upstream's cleanup does for subPaths). */
  unmount(target: string): Promise<void>;
}

const execTimeoutMs = 30_000;

function run(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: execTimeoutMs }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const text = String(stderr).trim() || err.message;
      reject(new TskubeError('internal', `${file} ${args.join(' ')}: ${text}`, { cause: err }));
    });
  });
}

// Every volume of every starting pod reads the table: concurrent reads share one.
const readMounts = freshRead(async () => parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8')));

export const systemMounter: Mounter = {
  mounts: readMounts,
  mountTmpfs: (target, sizeBytes) => run('mount', ['-t', 'tmpfs', ...(sizeBytes ? ['-o', `size=${sizeBytes}`] : []), 'tmpfs', target]),
  bind: (source, target) => run('mount', ['--no-canonicalize', '--bind', source, target]),
  async makeShared(path) {
    const table = await readMounts();
    if (!table.some((m) => m.mountPoint === path)) await run('mount', ['--bind', path, path]);
    await run('mount', ['--make-rshared', path]);
  },
  async unmount(target) {
    try {
      await run('umount', [target]);
    } catch (err) {
      if (!/target is busy/.test(TskubeError.from(err).message)) throw err;
      await run('umount', ['-l', target]);
    }
  },
};
