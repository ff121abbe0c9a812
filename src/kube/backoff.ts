// Exponential back-off with jitter, as client-go's reflector uses it (800 ms doubling
// to 30 s, jitter factor 1.0: each delay lands in [d, 2d), capped at the maximum).
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** 0 = none; 1.0 = up to twice the delay. */
  jitter: number;
}

export const reflectorBackoff: BackoffPolicy = { initialMs: 800, maxMs: 30_000, factor: 2, jitter: 1 };

/** The delay before retry number `attempt` (0-based); `random` in [0, 1). */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: number): number {
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.max(0, attempt));
  return Math.min(policy.maxMs, Math.round(base * (1 + policy.jitter * random)));
}
