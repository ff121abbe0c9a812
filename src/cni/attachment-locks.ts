// The spec's ordering rules for one runtime (SPEC section 3, "Lifecycle & Ordering"):
// no two operations at once for one container, and GC exclusive of every ADD and DEL.
// A reader-writer lock: attachment operations share it (one at a time per container),
// GC takes it alone; waiting GCs go first so a stream of ADDs cannot starve them.

type Waiter = () => void;

export class AttachmentLocks {
  #running = 0;
  #gcRunning = false;
  #gcWaiting: Waiter[] = [];
  #opWaiting: Waiter[] = [];
  #containers = new Map<string, Promise<void>>();

  /** Runs `fn` while no GC runs and no other operation for `containerId` does. */
  async forContainer<T>(containerId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#containers.get(containerId) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const chained = previous.then(() => mine);
    this.#containers.set(containerId, chained);
    await previous;
    try {
      await this.#enterOperation();
      try {
        return await fn();
      } finally {
        this.#leaveOperation();
      }
    } finally {
      release();
      if (this.#containers.get(containerId) === chained) this.#containers.delete(containerId);
    }
  }

  /** Runs `fn` with no ADD, CHECK or DEL in flight. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#gcRunning || this.#running > 0) await new Promise<void>((r) => this.#gcWaiting.push(r));
    else this.#gcRunning = true;
    try {
      return await fn();
    } finally {
      this.#gcRunning = false;
      this.#wake();
    }
  }

  async #enterOperation(): Promise<void> {
    if (this.#gcRunning || this.#gcWaiting.length > 0) await new Promise<void>((r) => this.#opWaiting.push(r));
    else this.#running++;
  }

  #leaveOperation(): void {
    this.#running--;
    this.#wake();
  }

  /** Hands the lock on: a waiting GC once nothing runs, else every waiting operation. */
  #wake(): void {
    if (this.#gcRunning) return;
    if (this.#gcWaiting.length > 0) {
      if (this.#running > 0) return;
      this.#gcRunning = true;
      this.#gcWaiting.shift()?.();
      return;
    }
    const ready = this.#opWaiting.splice(0);
    this.#running += ready.length;
    for (const go of ready) go();
  }
}
