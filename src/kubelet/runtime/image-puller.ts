import type { AuthConfig } from '../../gen/cri/runtime/v1/AuthConfig.js';
import type { Image__Output } from '../../gen/cri/runtime/v1/Image.js';
import { backoffDelay, type BackoffPolicy } from '../../common/backoff.js';
import { TskubeError } from '../../common/errors.js';
import { Slots } from '../../common/slots.js';
import type { WaitingReason } from '../pods/waiting-reason.js';
import type { CriRuntime } from './cri-runtime.js';
import { defaultPullPolicy } from './pull-secrets.js';

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/** The user an image's config runs as (its USER): a uid, a name, or neither (root). */
export interface ImageUser {
  uid?: number;
  username?: string;
}

/** The user an ImageStatus reply names, as upstream's getImageUser reads it. */
export function imageUserOf(image: Image__Output | null | undefined): ImageUser {
  if (image?.uid) return { uid: Number(image.uid.value) };
  if (image?.username) return { username: image.username };
  return {};
}

/** The outcome the container status shows: the image to run, or why the container waits. */
export type ImageOutcome =
  | { ok: true; imageRef: string /** Known when ImageStatus was asked on the way. */; user?: ImageUser }
  | ({ ok: false } & WaitingReason & { reason: 'ErrImagePull' | 'ImagePullBackOff' | 'ErrImageNeverPull' | 'InvalidImageName' });

export interface PullEvents {
  pulling(image: string): void;
  pulled(image: string, message: string): void;
  failed(image: string, reason: string, message: string): void;
}

/** Upstream's image pull back-off: 10 s doubling to 5 min, per image and pod. */
const pullBackoff: BackoffPolicy = { initialMs: 10_000, maxMs: 300_000, factor: 2, jitter: 0 };

/**
 * Makes sure a container's image is present per its pull policy, with as many pulls at once as
 * the configuration allows (as upstream's serial and parallel pullers, queued in turn). A failed pull puts
 * that image (for that pod) in back-off: 10 s doubling to 5 min, as upstream; inside
 * the back-off the container waits with ImagePullBackOff and no pull is attempted.
 */
export class ImagePuller {
  readonly #client: CriRuntime;
  readonly #now: () => number;
  readonly #backoff = new Map<string, { until: number; failures: number }>();

  /** The pulls that may run at once: serializeImagePulls makes it 1, else maxParallelImagePulls (unset: no limit). */
  readonly #pulls: Slots;

  constructor(client: CriRuntime, now: () => number = Date.now, maxParallelPulls = 1) {
    this.#client = client;
    this.#now = now;
    this.#pulls = new Slots(maxParallelPulls);
  }

  async ensure(
    image: string,
    policy: PullPolicy | undefined,
    auth: AuthConfig[],
    backoffKey: string,
    events: PullEvents,
    signal?: AbortSignal,
  ): Promise<ImageOutcome> {
    if (!image.trim()) return { ok: false, reason: 'InvalidImageName', message: 'image name is empty' };
    const effective = policy ?? defaultPullPolicy(image);
    const opts = signal ? { signal } : {};
    if (effective !== 'Always') {
      const { image: present } = await this.#client.image.call('ImageStatus', { image: { image } }, opts);
      if (present?.id) {
        events.pulled(image, `Container image "${image}" already present on machine`);
        return { ok: true, imageRef: present.id, user: imageUserOf(present) };
      }
      if (effective === 'Never') {
        const message = `Container image "${image}" is not present with pull policy of Never`;
        events.failed(image, 'ErrImageNeverPull', message);
        return { ok: false, reason: 'ErrImageNeverPull', message };
      }
    }
    const key = `${backoffKey} ${image}`;
    const b = this.#backoff.get(key);
    if (b && this.#now() < b.until) {
      return { ok: false, reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` };
    }
    events.pulling(image);
    const started = this.#now();
    try {
      const reply = await this.#pulls.run(() => this.#pull(image, auth, opts), signal);
      this.#backoff.delete(key);
      events.pulled(image, `Successfully pulled image "${image}" in ${((this.#now() - started) / 1000).toFixed(3)}s`);
      return { ok: true, imageRef: reply };
    } catch (err) {
      const e = TskubeError.from(err);
      if (e.code === 'canceled') throw e;
      const failures = (b?.failures ?? 0) + 1;
      this.#backoff.set(key, { until: this.#now() + backoffDelay(pullBackoff, failures - 1, 0), failures });
      const message = `Failed to pull image "${image}": ${e.detail}`;
      events.failed(image, 'ErrImagePull', message);
      return { ok: false, reason: 'ErrImagePull', message };
    }
  }

  /** The user the image runs as, from ImageStatus (upstream asks the same before every container it creates). */
  async user(image: string, signal?: AbortSignal): Promise<ImageUser> {
    const { image: status } = await this.#client.image.call('ImageStatus', { image: { image } }, signal ? { signal } : {});
    return imageUserOf(status);
  }

  /** When the back-off of an image for a pod ends (ms since the epoch), if it is in one. */
  retryAt(backoffKey: string, image: string): number | undefined {
    return this.#backoff.get(`${backoffKey} ${image}`)?.until;
  }

  async #pull(image: string, auth: AuthConfig[], opts: { signal?: AbortSignal }): Promise<string> {
    // Pulls can take minutes; the runtime's own progress deadline applies, not ours.
    const callOpts = { ...opts, timeoutMs: 30 * 60_000 };
    if (auth.length === 0) return (await this.#client.image.call('PullImage', { image: { image } }, callOpts)).imageRef;
    let last: unknown;
    for (const a of auth) {
      try {
        return (await this.#client.image.call('PullImage', { image: { image }, auth: a }, callOpts)).imageRef;
      } catch (err) {
        last = err;
      }
    }
    throw last;
  }
}
