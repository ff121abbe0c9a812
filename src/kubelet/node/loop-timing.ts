// The back-off policies the node loops use between failed attempts.
import type { BackoffPolicy } from '../../common/backoff.js';

/** Upstream registerWithAPIServer: 100 ms doubling to 7 s. */
export const registrationBackoff: BackoffPolicy = { initialMs: 100, maxMs: 7_000, factor: 2, jitter: 0.2 };

/** Upstream's lease controller: 200 ms doubling to 7 s between failed attempts. */
export const leaseBackoff: BackoffPolicy = { initialMs: 200, maxMs: 7_000, factor: 2, jitter: 0.2 };
