// hostPath volumes: the node's own path, checked against the volume's `type` before any
// container starts, with upstream's messages. DirectoryOrCreate and FileOrCreate make
// what is missing (0755 directories, an empty 0644 file); nothing else is touched.
import { mkdir, open, stat } from 'node:fs/promises';
import { TskubeError } from '../../common/errors.js';
import type { HostPathType } from './plan-volumes.js';

type Kind = 'missing' | 'directory' | 'file' | 'socket' | 'char' | 'block' | 'other';

async function kindOf(path: string): Promise<Kind> {
  try {
    const st = await stat(path);
    if (st.isDirectory()) return 'directory';
    if (st.isFile()) return 'file';
    if (st.isSocket()) return 'socket';
    if (st.isCharacterDevice()) return 'char';
    if (st.isBlockDevice()) return 'block';
    return 'other';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
}

/** What the check finds wrong, as upstream words it; undefined when the path fits its type. Pure. */
export function hostPathMismatch(path: string, type: HostPathType, kind: Kind): string | undefined {
  const want: Partial<Record<HostPathType, [Kind, string]>> = {
    Directory: ['directory', 'a directory'],
    DirectoryOrCreate: ['directory', 'a directory'],
    File: ['file', 'a file'],
    FileOrCreate: ['file', 'a file'],
    Socket: ['socket', 'a socket file'],
    CharDevice: ['char', 'a character device'],
    BlockDevice: ['block', 'a block device'],
  };
  const w = want[type];
  if (!w || kind === w[0]) return undefined;
  return `hostPath type check failed: ${path} is not ${w[1]}`;
}

/** Checks (and for the *OrCreate types, makes) the path; throws with upstream's message when it does not fit. */
export async function checkHostPath(path: string, type: HostPathType): Promise<void> {
  if (type === '') return;
  let kind = await kindOf(path);
  if (kind === 'missing' && type === 'DirectoryOrCreate') {
    await mkdir(path, { recursive: true, mode: 0o755 });
    kind = await kindOf(path);
  } else if (kind === 'missing' && type === 'FileOrCreate') {
    await (await open(path, 'a', 0o644)).close();
    kind = await kindOf(path);
  }
  const mismatch = hostPathMismatch(path, type, kind);
  if (mismatch) throw new TskubeError('failed-precondition', mismatch);
}
