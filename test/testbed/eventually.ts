// Polling for what controllers do asynchronously, for e2e tests.
import { sleep } from './processes.ts';

// Calls `probe` until it returns something other than undefined. Errors
// from `probe` count as "not yet"; the last one becomes the cause of the
// timeout error, so a failure says what never happened and why.
export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`, { cause: lastError });
    await sleep(intervalMs);
  }
}
