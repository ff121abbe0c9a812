/*
 * Writes a volume's files the way upstream's atomic writer does, so a reader (the
 * container, or a tool watching `..data`) never sees half an update:
 *
 *   <dir>/..2026_01_02_03_04_05.123456789/   the files of one version (0755)
 *   <dir>/..data -> ..2026_01_02_03_04_05.…   swapped to a new version in one rename
 *   <dir>/<name> -> ..data/<name>             what users open; a top-level name per link
 *
 * A kubelet killed part way leaves the old version in place (the new directory, or a
 * temporary link, is swept away by the next write) or the new one complete: never half.
 */
import { randomBytes } from 'node:crypto';
import { chmod, lchown, lstat, mkdir, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TskubeError } from '../../common/errors.js';
import { replaceSymlink } from '../../common/atomic-write.js';
import type { Payload } from './payload.js';

export const dataDirName = '..data';
const maxFileNameLength = 255;
const maxPathLength = 4096;

/** Why a payload path may not be written, or undefined when it may (upstream's validatePath). */
export function invalidPayloadPath(path: string): string | undefined {
  if (path === '') return 'invalid path: must not be empty: ""';
  if (path.startsWith('/')) return `invalid path: must be relative path: ${path}`;
  if (path.length > maxPathLength) return `invalid path: must be less than or equal to ${maxPathLength} characters`;
  const items = path.split('/');
  if (items.includes('..')) return `invalid path: must not contain '..': ${path}`;
  if (items.some((i) => i.length > maxFileNameLength)) return `invalid path: filenames must be less than or equal to ${maxFileNameLength} characters`;
  if ((items[0] ?? '').startsWith('..') && (items[0] ?? '').length > 2) return `invalid path: must not start with '..': ${path}`;
  return undefined;
}

/** "..2026_01_02_03_04_05." as upstream names version directories (UTC), before a random suffix. */
function versionPrefix(now: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `..${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}.`;
}

async function readlinkOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Whether the version directory already holds these files. Content only, as upstream: modes
 * come from the pod spec, which cannot change, and fsGroup ownership adds group bits.
 */
async function sameContent(versionDir: string, payload: Payload): Promise<boolean> {
  for (const [path, file] of payload) {
    try {
      const st = await lstat(join(versionDir, path));
      if (!st.isFile() || !(await readFile(join(versionDir, path))).equals(file.data)) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** Every path (files and the directories between) in a version directory, relative to it. */
async function pathsIn(versionDir: string): Promise<Set<string>> {
  const out = new Set<string>();
  const walk = async (rel: string) => {
    for (const e of await readdir(join(versionDir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      out.add(p);
      if (e.isDirectory()) await walk(p);
    }
  };
  await walk('').catch(() => undefined);
  return out;
}

export interface AtomicWriteOptions {
  /** Runs on the new version before it is swapped in (ownership for fsGroup). */
  setPerms?: (versionDir: string) => Promise<void>;
  now?: Date;
}

/**
 * Makes `dir` hold exactly `payload`. Returns whether a new version was written (false
 * when the files were already there, in which case only missing links are made).
 */
export async function writeAtomically(dir: string, payload: Payload, options: AtomicWriteOptions = {}): Promise<boolean> {
  for (const path of payload.keys()) {
    const why = invalidPayloadPath(path);
    if (why) throw new TskubeError('invalid-argument', why);
  }
  await mkdir(dir, { recursive: true });
  const current = await readlinkOrUndefined(join(dir, dataDirName));
  await sweepLeftovers(dir, current);

  const newPaths = new Set<string>();
  for (const path of payload.keys()) {
    for (let p = path; p !== '.' && p !== ''; p = dirname(p)) newPaths.add(p);
  }
  const oldPaths = current ? await pathsIn(join(dir, current)) : new Set<string>();
  const toRemove = [...oldPaths].filter((p) => !newPaths.has(p));
  const write = !current || toRemove.length > 0 || !(await sameContent(join(dir, current), payload));

  if (write) {
    const version = `${versionPrefix(options.now ?? new Date())}${randomBytes(5).toString('hex')}`;
    const versionDir = join(dir, version);
    await mkdir(versionDir);
    await chmod(versionDir, 0o755);
    try {
      for (const [path, file] of payload) {
        const full = join(versionDir, path);
        await mkdir(dirname(full), { recursive: true, mode: 0o755 });
        await writeFile(full, file.data, { mode: file.mode });
        // writeFile's mode passes through the umask; the payload's mode is what must show.
        await chmod(full, file.mode);
        if (file.fsUser !== undefined) await lchown(full, file.fsUser, -1);
      }
      await options.setPerms?.(versionDir);
      await replaceSymlink(version, join(dir, dataDirName));
    } catch (err) {
      await rm(versionDir, { recursive: true, force: true });
      throw err;
    }
  }

  // User-visible links: one per top-level name, made once and never changed.
  for (const [path, file] of payload) {
    const top = path.split('/')[0] ?? path;
    const link = join(dir, top);
    if ((await readlinkOrUndefined(link)) !== undefined) continue;
    await symlink(join(dataDirName, top), link);
    if (file.fsUser !== undefined) await lchown(link, file.fsUser, -1);
  }
  for (const p of toRemove) if (!p.includes('/')) await rm(join(dir, p), { force: true });
  if (write && current) await rm(join(dir, current), { recursive: true, force: true });
  return write;
}

/** Removes what a write that did not finish left: version directories and temporary links other than the current one. */
async function sweepLeftovers(dir: string, current: string | undefined): Promise<void> {
  for (const name of await readdir(dir)) {
    if (!name.startsWith('..') || name === dataDirName || name === current) continue;
    await rm(join(dir, name), { recursive: true, force: true });
  }
}

/** The files a volume shows now (relative path → content), read through `..data`; for tests and `tskube` tools. */
export async function readVolumeFiles(dir: string): Promise<Map<string, Buffer>> {
  const current = await readlinkOrUndefined(join(dir, dataDirName));
  const out = new Map<string, Buffer>();
  if (!current) return out;
  const versionDir = join(dir, current);
  for (const p of await pathsIn(versionDir)) {
    const st = await lstat(join(versionDir, p));
    if (st.isFile()) out.set(p, await readFile(join(versionDir, p)));
  }
  return out;
}
