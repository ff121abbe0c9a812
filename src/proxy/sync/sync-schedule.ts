// When the one writer runs next, as upstream's BoundedFrequencyRunner decides it, as a
// pure function of what happened:
//
//   a change arrives ──► run at once, but never sooner than minSyncPeriod after the last run ended
//   a run failed     ──► run again within syncPeriod (a full sync), sooner if a change arrives
//   nothing happens  ──► run anyway once maxInterval after the last run started (the hourly full sync)

export interface ScheduleState {
  /** A change is waiting. */
  requested: boolean;
  /** The last run failed. */
  failed: boolean;
  /** ms; undefined before the first run. */
  lastStart?: number;
  lastEnd?: number;
}

export interface ScheduleSettings {
  minIntervalMs: number;
  retryIntervalMs: number;
  maxIntervalMs: number;
}

/** The time (ms) the next run is due; it may be in the past. */
export function nextRunAt(s: ScheduleState, settings: ScheduleSettings): number {
  if (s.lastEnd === undefined || s.lastStart === undefined) return s.requested ? 0 : Number.POSITIVE_INFINITY;
  const earliest = s.lastEnd + settings.minIntervalMs;
  const candidates = [s.lastStart + settings.maxIntervalMs];
  if (s.requested) candidates.push(earliest);
  if (s.failed) candidates.push(Math.max(earliest, s.lastEnd + settings.retryIntervalMs));
  return Math.min(...candidates);
}
