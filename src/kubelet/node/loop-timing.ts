// Waiting inside the node loops: sleeps that end early (without throwing) when the
// component is stopped, and the back-off policies the loops use.
import type { BackoffPolicy } from '../../kube/backoff.js';

/** Upstream registerWithAPIServer: 100 ms doubling to 7 s. */
export const registrationBackoff: BackoffPolicy = { initialMs: 100, maxMs: 7_000, factor: 2, jitter: 0.2 };

/** Upstream's lease controller: 200 ms doubling to 7 s between failed attempts. */
export const leaseBackoff: BackoffPolicy = { initialMs: 200, maxMs: 7_000, factor: 2, jitter: 0.2 };

/** Resolves after `ms`, or at once when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal.addEventListener('abort', done, { once: true });
  });
}
