import { TskubeError } from './errors.js';

/**
 * At most `limit` holders at a time (Infinity: no limit); the others wait their turn in the
 * order they asked. A waiter whose signal aborts leaves the queue with a canceled error.
 */
export class Slots {
  readonly #limit: number;
  #held = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Runs `work` once a slot is free, and frees it after. */
  async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.#take(signal);
    try {
      return await work();
    } finally {
      this.#release();
    }
  }

  #take(signal?: AbortSignal): Promise<void> {
    if (this.#held < this.#limit) {
      this.#held++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new TskubeError('canceled', 'gave up waiting for a free slot'));
      const turn = () => {
        signal?.removeEventListener('abort', leave);
        this.#held++;
        resolve();
      };
      const leave = () => {
        const at = this.#waiting.indexOf(turn);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(new TskubeError('canceled', 'gave up waiting for a free slot'));
      };
      signal?.addEventListener('abort', leave, { once: true });
      this.#waiting.push(turn);
    });
  }

  #release(): void {
    this.#held--;
    this.#waiting.shift()?.();
  }
}
