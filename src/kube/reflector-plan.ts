// The reflector's decisions, as a pure reducer over what just happened. The loop in
// reflector.ts does the I/O and asks `nextStep` what to do next.
//
//            ┌────────── listed ──────────┐
//            │                            ▼
//   [list] ──┘        ┌──────────────► [watch] ── closed normally ──► [watch] (same rv)
//     ▲  ▲            │                  │
//     │  │      backoff, same rv         ├── 410 Gone / Expired ──► [list] now, consistent read
//     │  │            │                  │
//     │  │            └── transient ◄────┤   (connection refused, timeout, 429, 5xx)
//     │  └────────── backoff ◄── other ──┘   (403, a bad answer: start over from a list)
//     └── backoff ◄── list failed
import { isResourceExpired, KubeApiError } from './api-error.js';
import { backoffDelay, type BackoffPolicy } from '../common/backoff.js';

/** client-go's reflector: 800 ms doubling to 30 s, jitter 1.0 (each delay in [d, 2d), capped). */
export const reflectorBackoff: BackoffPolicy = { initialMs: 800, maxMs: 30_000, factor: 2, jitter: 1 };
import { TskubeError } from '../common/errors.js';

export interface ReflectorState {
  /** The resourceVersion of the last list or watch event seen; "" before the first list. */
  resourceVersion: string;
  /** The next step is a list (first start, 410, or an error that calls for one). */
  needList: boolean;
  /** The last rv answered 410: the next list must be a consistent read, not "any". */
  resourceVersionUnavailable: boolean;
  /** Consecutive failures, for the back-off; reset by a success. */
  failures: number;
}

export type Outcome =
  | { kind: 'listed'; resourceVersion: string }
  | { kind: 'watch-closed'; durationMs: number; events: number }
  | { kind: 'expired' }
  | { kind: 'failed'; during: 'list' | 'watch'; error: unknown };

export interface Step {
  state: ReflectorState;
  /** Wait this long before the next list or watch. */
  delayMs: number;
  /** Healthy → failing or back: worth one log line. */
  transition?: 'failing' | 'recovered';
}

export const initialReflectorState: ReflectorState = {
  resourceVersion: '',
  needList: true,
  resourceVersionUnavailable: false,
  failures: 0,
};

/** A watch the server closes this fast with nothing in it counts as a failure, so it cannot spin. */
const MIN_HEALTHY_WATCH_MS = 1000;

export function nextStep(state: ReflectorState, outcome: Outcome, random: number, policy: BackoffPolicy = reflectorBackoff): Step {
  const recovered = state.failures > 0 ? ({ transition: 'recovered' } as const) : {};
  switch (outcome.kind) {
    case 'listed':
      return {
        state: { resourceVersion: outcome.resourceVersion, needList: false, resourceVersionUnavailable: false, failures: 0 },
        delayMs: 0,
        ...recovered,
      };
    case 'watch-closed': {
      if (outcome.events === 0 && outcome.durationMs < MIN_HEALTHY_WATCH_MS) return fail(state, false, random, policy);
      return { state: { ...state, failures: 0 }, delayMs: 0, ...recovered };
    }
    case 'expired':
      // Upstream relists at once: the data is fine, only the position is lost.
      return { state: { ...state, needList: true, resourceVersionUnavailable: true }, delayMs: 0 };
    case 'failed': {
      if (isResourceExpired(outcome.error)) {
        return { state: { ...state, needList: true, resourceVersionUnavailable: true }, delayMs: 0 };
      }
      const relist = outcome.during === 'list' || !isTransient(outcome.error);
      return fail(state, relist, random, policy);
    }
  }
}

function fail(state: ReflectorState, relist: boolean, random: number, policy: BackoffPolicy): Step {
  return {
    state: { ...state, needList: state.needList || relist, failures: state.failures + 1 },
    delayMs: backoffDelay(policy, state.failures, random),
    ...(state.failures === 0 ? { transition: 'failing' as const } : {}),
  };
}

/** Errors after which the same watch position is still good: the server was unreachable or busy. */
export function isTransient(err: unknown): boolean {
  if (err instanceof KubeApiError) return err.status === 429 || err.status >= 500;
  const e = TskubeError.from(err, 'unavailable');
  return e.code === 'unavailable' || e.code === 'deadline-exceeded';
}

/** What the list after this state asks for (client-go's relistResourceVersion). */
export function listResourceVersion(state: ReflectorState): string {
  // After a 410 only a consistent read (rv "") is sure to be newer than what we had.
  if (state.resourceVersionUnavailable) return '';
  // First list: "0" lets the watch cache answer without touching etcd.
  if (state.resourceVersion === '') return '0';
  return state.resourceVersion;
}

/** Watch timeouts are spread over [min, 2·min) so many clients do not reconnect at once. */
export function watchTimeoutSeconds(minSeconds: number, random: number): number {
  return Math.floor(minSeconds * (1 + random));
}
