// Rotates the CRI log files of running containers (upstream's container log manager):
// every containerLogMonitorInterval, with containerLogMaxWorkers at a time, a log at
// or past containerLogMaxSize is renamed per planLogRotation and the runtime reopens
// the file (CRI ReopenContainerLog), so readers of the current file go on. A rename the
// runtime could not follow is put back.
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Logger } from 'pino';
import { errorMessage, isCode, TskubeError } from '../../common/errors.js';
import type { CriClient } from '../../cri-client/index.js';
import { sleep } from '../../common/sleep.js';
import { planLogRotation } from './plan-log-rotation.js';

export interface LogRotatorOptions {
  cri: CriClient;
  maxSizeBytes: number;
  maxFiles: number;
  workers: number;
  intervalMs: number;
  log: Logger;
  now?: () => Date;
}

export class ContainerLogRotator {
  readonly #o: LogRotatorOptions;
  readonly #failing = new Set<string>();

  constructor(options: LogRotatorOptions) {
    this.#o = options;
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await sleep(this.#o.intervalMs, signal);
      if (signal.aborted) return;
      await this.rotateOnce(signal).catch((err: unknown) => this.#o.log.warn({ err: errorMessage(err) }, 'listing containers for log rotation failed'));
    }
  }

  /** One pass over the running containers; returns the IDs whose log was rotated. */
  async rotateOnce(signal?: AbortSignal): Promise<string[]> {
    const { containers } = await this.#o.cri.runtime.call('ListContainers', { filter: { state: { state: 'CONTAINER_RUNNING' } } }, signal ? { signal } : {});
    const queue = containers.map((c) => c.id);
    for (const id of this.#failing) if (!queue.includes(id)) this.#failing.delete(id);
    const rotated: string[] = [];
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        try {
          if (await this.#rotateContainer(id)) rotated.push(id);
          if (this.#failing.delete(id)) this.#o.log.info({ container: id }, 'container log rotation recovered');
        } catch (err) {
          // Removed since the list (its pod deleted): nothing to rotate, nothing to say.
          if (isCode(err, 'not-found')) continue;
          if (!this.#failing.has(id)) this.#o.log.warn({ container: id, err: errorMessage(err) }, 'failed to rotate the container log');
          this.#failing.add(id);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.#o.workers) }, worker));
    return rotated;
  }

  async #rotateContainer(id: string): Promise<boolean> {
    const { status } = await this.#o.cri.runtime.call('ContainerStatus', { containerId: id });
    const path = status?.logPath;
    if (!path) return false;
    const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (!info) {
      // Removed under the runtime's feet: have it make a new one.
      await this.#o.cri.runtime.call('ReopenContainerLog', { containerId: id });
      return false;
    }
    if (info.size < this.#o.maxSizeBytes) return false;
    const prefix = `${basename(path)}.`;
    const siblings = (await readdir(dirname(path))).filter((n) => n.startsWith(prefix)).map((n) => join(dirname(path), n));
    const plan = planLogRotation(path, siblings, this.#o.maxFiles, (this.#o.now ?? (() => new Date()))());
    for (const f of plan.remove) await rm(f, { force: true });
    for (const f of plan.compress) await compress(f);
    await rename(path, plan.rotated);
    try {
      await this.#o.cri.runtime.call('ReopenContainerLog', { containerId: id });
    } catch (err) {
      await rename(plan.rotated, path).catch(() => undefined);
      throw TskubeError.from(err).wrap(`reopening the log of container ${id}`);
    }
    this.#o.log.debug({ container: id, rotated: plan.rotated }, 'rotated the container log');
    return true;
  }
}

/** gzip to "<file>.gz" through a ".tmp" file, then the original goes. */
async function compress(file: string): Promise<void> {
  const tmp = `${file}.tmp`;
  try {
    const mode = (await stat(file)).mode;
    await pipeline(createReadStream(file), createGzip(), createWriteStream(tmp, { mode }));
    await rename(tmp, `${file}.gz`);
    await rm(file);
  } finally {
    await rm(tmp, { force: true });
  }
}
