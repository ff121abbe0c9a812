// The project's one exponential back-off: every loop that waits longer after each failure
// takes its delay from backoffDelay with its own policy (client-go's wait.Backoff: an
// initial delay, a factor, a cap, and jitter that spreads retries of many clients).
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** 0 = none; 1.0 = up to twice the delay. */
  jitter: number;
}

/** The delay before retry number `attempt` (0-based); `random` in [0, 1). */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: number): number {
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.max(0, attempt));
  return Math.min(policy.maxMs, Math.round(base * (1 + policy.jitter * random)));
}
