/**
 * Resolves after `ms`, or at once when the signal aborts or the caller wakes it early
 * (`onWake` receives the function that does); never rejects, so loops just re-check
 * the signal. Its listener is removed when it resolves, so a loop does not pile them up.
 */
export function sleep(ms: number, signal?: AbortSignal, onWake?: (wake: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
    signal?.addEventListener('abort', done, { once: true });
    onWake?.(done);
  });
}
