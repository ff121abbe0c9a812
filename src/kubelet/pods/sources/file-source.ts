// Static pods from staticPodPath (upstream pkg/kubelet/config/file.go): every
// fileCheckFrequency, and soon after fs.watch reports a change, the folder is read
// again and the complete set of pods is handed on if it changed. A bad file is
// logged once (per content) with the field that is wrong and skipped; the other pods
// carry on. A file that goes away takes its pod with it.
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { defaultLogger } from '../../../common/logger.js';
import { sleep } from '../../../common/sleep.js';
import { manifestFingerprint, parseStaticPod, type StaticPodResult } from './static-pod.js';
import { errorMessage } from '../../../common/errors.js';
import { podKey } from '../pod-names.js';

export interface FileSourceOptions {
  /** staticPodPath: a folder of manifests, or one manifest file. */
  path: string;
  nodeName: string;
  /** The complete set of static pods, each time it changes (and once after the first read). */
  onPods: (pods: V1Pod[]) => void;
  /** fileCheckFrequency; upstream 20 s. */
  checkIntervalMs?: number;
  logger?: Logger;
}

/** fs.watch fires several times for one save; one read after the burst is enough. */
const WATCH_SETTLE_MS = 100;

export class FileSource {
  readonly ready: Promise<void>;
  readonly #o: Required<Omit<FileSourceOptions, 'logger'>> & { logger: Logger };
  #resolveReady!: () => void;
  /** file → the UID of the content last reported bad, so it is logged once. */
  readonly #reportedBad = new Map<string, string>();
  /** file → its last content and what it parsed to: an unchanged file is not parsed (and hashed) again each read. */
  readonly #parsed = new Map<string, { content: string; result: StaticPodResult }>();
  #lastSignature: string | undefined;
  #pathMissingLogged = false;
  #scanning: Promise<void> | undefined;
  #rescan = false;

  constructor(options: FileSourceOptions) {
    this.#o = {
      checkIntervalMs: 20_000,
      ...options,
      logger: (options.logger ?? defaultLogger('kubelet')).child({ source: 'file', path: options.path }),
    };
    this.ready = new Promise((r) => (this.#resolveReady = r));
  }

  async run(signal: AbortSignal): Promise<void> {
    let watcher: FSWatcher | undefined;
    let settle: NodeJS.Timeout | undefined;
    const startWatch = () => {
      if (watcher) return;
      try {
        watcher = fsWatch(this.#o.path, { persistent: false }, () => {
          clearTimeout(settle);
          settle = setTimeout(() => void this.scan(), WATCH_SETTLE_MS);
        });
        watcher.on('error', () => {
          // The folder went away; polling carries on and watches again once it is back.
          watcher?.close();
          watcher = undefined;
        });
      } catch {
        // No folder yet: the poll below finds it later.
      }
    };
    try {
      while (!signal.aborted) {
        await this.scan();
        startWatch();
        await sleep(this.#o.checkIntervalMs, signal);
      }
    } finally {
      clearTimeout(settle);
      watcher?.close();
    }
  }

  /** One read of the path; overlapping calls fold into one extra read. */
  scan(): Promise<void> {
    if (this.#scanning) {
      this.#rescan = true;
      return this.#scanning;
    }
    this.#scanning = (async () => {
      do {
        this.#rescan = false;
        await this.#readOnce();
      } while (this.#rescan);
    })().finally(() => (this.#scanning = undefined));
    return this.#scanning;
  }

  async #readOnce(): Promise<void> {
    const files = await this.#manifestFiles();
    if (files === undefined) return;
    const pods: V1Pod[] = [];
    const byName = new Map<string, string>();
    for (const file of files) {
      let content: string;
      try {
        content = await readFile(file, 'utf8');
      } catch (err) {
        // Removed between readdir and read: the next read settles it.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.#o.logger.warn({ file, err: errorMessage(err) }, 'cannot read static pod manifest');
        continue;
      }
      const cached = this.#parsed.get(file);
      const result = cached?.content === content ? cached.result : parseStaticPod(content, file, this.#o.nodeName);
      this.#parsed.set(file, { content, result });
      if (!result.ok) {
        const fingerprint = manifestFingerprint(content, this.#o.nodeName, file);
        if (this.#reportedBad.get(file) !== fingerprint) {
          this.#reportedBad.set(file, fingerprint);
          this.#o.logger.error({ file, error: result.error }, `invalid static pod manifest ${file}: ${result.error}`);
        }
        continue;
      }
      const key = podKey(result.pod);
      const other = byName.get(key);
      if (other !== undefined) {
        if (this.#reportedBad.get(file) !== 'duplicate') {
          this.#reportedBad.set(file, 'duplicate');
          this.#o.logger.error({ file, pod: key, other }, `static pod ${key} in ${file} is already defined by ${other}; ignored`);
        }
        continue;
      }
      this.#reportedBad.delete(file);
      byName.set(key, file);
      pods.push(result.pod);
    }
    for (const file of this.#reportedBad.keys()) if (!files.includes(file)) this.#reportedBad.delete(file);
    for (const file of this.#parsed.keys()) if (!files.includes(file)) this.#parsed.delete(file);
    this.#publish(pods);
  }

  /** The manifests to read, sorted; undefined when the path cannot be read at all this time. */
  async #manifestFiles(): Promise<string[] | undefined> {
    const path = this.#o.path;
    let isDir: boolean;
    try {
      isDir = (await stat(path)).isDirectory();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        // Upstream: a missing path is an empty set, not an error; say so once.
        if (!this.#pathMissingLogged) this.#o.logger.info('static pod path does not exist; no static pods');
        this.#pathMissingLogged = true;
        return [];
      }
      this.#o.logger.warn({ err: errorMessage(err) }, 'cannot read static pod path');
      return undefined;
    }
    if (this.#pathMissingLogged) this.#o.logger.info('static pod path appeared');
    this.#pathMissingLogged = false;
    if (!isDir) return [path];
    const names = await readdir(path).catch(() => undefined);
    if (names === undefined) return undefined;
    // As upstream: every regular file not hidden, whatever its name ends in (kube-apiserver.manifest is
    // a pod too; a file tskube skipped would be a pod it removed after a switch from the upstream kubelet).
    const files: string[] = [];
    for (const n of names.filter((n) => !n.startsWith('.')).sort()) {
      const file = join(path, basename(n));
      if (
        await stat(file).then(
          (s) => s.isFile(),
          () => false,
        )
      )
        files.push(file);
    }
    return files;
  }

  #publish(pods: V1Pod[]): void {
    const signature = pods.map((p) => p.metadata?.uid).join(',');
    const first = this.#lastSignature === undefined;
    if (signature === this.#lastSignature) return;
    const before = new Set(this.#lastSignature ? this.#lastSignature.split(',') : []);
    const now = new Set(pods.map((p) => p.metadata?.uid ?? ''));
    for (const p of pods) {
      if (!before.has(p.metadata?.uid ?? '')) this.#o.logger.info({ pod: podKey(p), uid: p.metadata?.uid }, 'static pod added');
    }
    const gone = [...before].filter((uid) => uid !== '' && !now.has(uid));
    if (gone.length > 0) this.#o.logger.info({ uids: gone }, 'static pods removed');
    this.#lastSignature = signature;
    this.#o.onPods(pods);
    if (first) this.#resolveReady();
  }
}
