// Applies the image GC plan every period (upstream: 5 minutes): lists the images and
// the containers (every container's image counts as in use, running or not), keeps
// when each image was first seen and last used, removes what planImageGc picks, and
// reports on the Node: FreeDiskSpaceFailed when it could not free enough,
// ImageGCFailed when the collection itself failed.
import type { Logger } from 'pino';
import { errorMessage } from '../../common/errors.js';
import type { CriClient } from '../../cri-client/index.js';
import { sleep } from '../../common/sleep.js';
import type { NodeEvents } from '../kubelet-api.js';
import type { NodeStatsProvider } from '../stats/node-stats.js';
import { type ImageGcPolicy, type ImageRecord, planImageGc } from './plan-image-gc.js';

export interface ImageGcOptions {
  cri: CriClient;
  stats: NodeStatsProvider;
  policy: ImageGcPolicy;
  events: NodeEvents;
  log: Logger;
  periodMs: number;
  now?: () => number;
}

export class ImageGc {
  readonly #o: ImageGcOptions;
  readonly #records = new Map<string, { firstDetected: number; lastUsed: number }>();
  #sandboxImage: string | undefined;

  constructor(options: ImageGcOptions) {
    this.#o = options;
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await sleep(this.#o.periodMs, signal);
      if (signal.aborted) return;
      await this.collect().catch((err: unknown) => {
        this.#o.log.warn({ err: errorMessage(err) }, 'image garbage collection failed');
        this.#o.events.warning('ImageGCFailed', errorMessage(err));
      });
    }
  }

  /** One collection: returns what was removed and whether it freed enough. */
  async collect(): Promise<{ removed: string[]; wanted: number; freed: number }> {
    const now = (this.#o.now ?? Date.now)();
    const [{ images }, { containers }, fs, sandboxImage] = await Promise.all([
      this.#o.cri.image.call('ListImages', {}),
      this.#o.cri.runtime.call('ListContainers', {}),
      this.#o.stats.imagefs(),
      this.#sandbox(),
    ]);
    const used = new Set(containers.flatMap((c) => [c.imageRef, c.image?.image ?? '']));
    const live = new Set<string>();
    const records: ImageRecord[] = images.map((img) => {
      live.add(img.id);
      const inUse = used.has(img.id) || img.repoTags.some((t) => used.has(t)) || img.repoDigests.some((d) => used.has(d));
      const r = this.#records.get(img.id) ?? { firstDetected: now, lastUsed: now };
      if (inUse) r.lastUsed = now;
      this.#records.set(img.id, r);
      const pinned = img.pinned || (sandboxImage !== undefined && img.repoTags.includes(sandboxImage));
      return { id: img.id, sizeBytes: Number(img.size), firstDetected: r.firstDetected, lastUsed: r.lastUsed, inUse, pinned };
    });
    for (const id of this.#records.keys()) if (!live.has(id)) this.#records.delete(id);
    const plan = planImageGc(records, fs, this.#o.policy, now);
    const removed: string[] = [];
    for (const id of plan.remove) {
      try {
        await this.#o.cri.image.call('RemoveImage', { image: { image: id } });
        removed.push(id);
        this.#records.delete(id);
      } catch (err) {
        this.#o.log.warn({ image: id, err: errorMessage(err) }, 'removing an image failed');
      }
    }
    if (removed.length > 0) this.#o.log.info({ images: removed, freedBytes: plan.freed }, 'removed unused images');
    if (plan.freed < plan.wanted) {
      const message = `Failed to garbage collect required amount of images. Attempted to free ${plan.wanted} bytes, but only found ${plan.freed} bytes eligible to free.`;
      this.#o.log.warn(message);
      this.#o.events.warning('FreeDiskSpaceFailed', message);
    }
    return { removed, wanted: plan.wanted, freed: plan.freed };
  }

  /** The runtime's sandbox (pause) image, from its verbose status (containerd: config.sandboxImage). */
  async #sandbox(): Promise<string | undefined> {
    if (this.#sandboxImage !== undefined) return this.#sandboxImage;
    const reply = await this.#o.cri.runtime.call('Status', { verbose: true }).catch(() => undefined);
    try {
      const config = JSON.parse(reply?.info['config'] ?? '{}') as { sandboxImage?: string };
      this.#sandboxImage = config.sandboxImage;
    } catch {
      this.#sandboxImage = undefined;
    }
    return this.#sandboxImage;
  }
}
