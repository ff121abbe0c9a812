// /healthz as upstream's healthz package answers it: "ok" when every check passes
// (each named with ?verbose), 500 naming the failed checks ("reason withheld") when one
// fails, ?exclude=NAME to skip a check, and /healthz/NAME for one check. Pure: the
// caller runs the checks and hands in their results.

export interface HealthCheck {
  name: string;
  /** Undefined when healthy, else why not (logged, never sent). */
  check: () => string | undefined;
}

export interface HealthzReply {
  status: number;
  body: string;
  headers: Record<string, string>;
}

const textHeaders = { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' };

/** The reply to GET `path` (with its query) for these checks; undefined for paths it does not serve. */
export function healthzReply(
  path: string,
  query: URLSearchParams,
  checks: readonly HealthCheck[],
  onFailure?: (failed: string[], why: string) => void,
): HealthzReply | undefined {
  if (path.startsWith('/healthz/')) {
    const one = checks.find((c) => `/healthz/${c.name}` === path);
    if (!one) return undefined;
    const err = one.check();
    return err === undefined
      ? { status: 200, body: 'ok', headers: textHeaders }
      : { status: 500, body: `internal server error: ${err}\n`, headers: textHeaders };
  }
  if (path !== '/healthz' && path !== '/healthz/') return undefined;
  const excluded = new Set(query.getAll('exclude'));
  const unknownExcluded = new Set(excluded);
  let lines = '';
  let why = '';
  const failed: string[] = [];
  for (const c of checks) {
    if (excluded.has(c.name)) {
      unknownExcluded.delete(c.name);
      lines += `[+]${c.name} excluded: ok\n`;
      continue;
    }
    const err = c.check();
    if (err === undefined) {
      lines += `[+]${c.name} ok\n`;
    } else {
      lines += `[-]${c.name} failed: reason withheld\n`;
      why += `[-]${c.name} failed: ${err}\n`;
      failed.push(c.name);
    }
  }
  if (unknownExcluded.size > 0) {
    lines += `warn: some health checks cannot be excluded: no matches for ${[...unknownExcluded]
      .sort()
      .map((n) => `"${n}"`)
      .join(',')}\n`;
  }
  if (failed.length > 0) {
    onFailure?.(failed, why);
    return { status: 500, body: `${lines}healthz check failed\n`, headers: textHeaders };
  }
  if (!query.has('verbose')) return { status: 200, body: 'ok', headers: textHeaders };
  return { status: 200, body: `${lines}healthz check passed\n`, headers: textHeaders };
}

/**
 * The sync loop check (upstream SyncLoopHealthCheck): failing once the loop has not
 * started a pass for twice the sync frequency, and never less than five minutes.
 */
export function syncLoopCheck(lastLoopEntry: () => number, syncFrequencyMs: number, now: () => number = Date.now): HealthCheck {
  const limit = Math.max(2 * syncFrequencyMs, 5 * 60_000);
  return {
    name: 'syncloop',
    check: () => {
      const entered = lastLoopEntry();
      return entered > 0 && now() > entered + limit ? 'sync Loop took longer than expected' : undefined;
    },
  };
}

export const pingCheck: HealthCheck = { name: 'ping', check: () => undefined };
/** Upstream's log check fails when klog has not flushed for a while; pino writes synchronously to stderr. */
export const logCheck: HealthCheck = { name: 'log', check: () => undefined };
