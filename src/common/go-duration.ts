import { TskubeError } from './errors.js';

// Go's time.ParseDuration / Duration.String: how Kubernetes configuration (metav1.Duration)
// writes durations, and how upstream's messages print them ("back-off 1m20s"). Values are
// carried as milliseconds (fractions allowed for µs/ns).

const unitMs: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses "10s", "5m0s", "1h30m", "-2s", "0"; returns milliseconds, or undefined when it is not a Go duration. */
export function parseGoDuration(text: string): number | undefined {
  const m = /^([+-]?)(.*)$/s.exec(text);
  const sign = m?.[1] === '-' ? -1 : 1;
  const body = m?.[2] ?? '';
  if (body === '0') return 0;
  if (body === '') return undefined;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let end = 0;
  for (let p = re.exec(body); p; p = re.exec(body)) {
    total += Number(p[1]) * (unitMs[p[2] ?? ''] ?? Number.NaN);
    end = re.lastIndex;
  }
  if (end !== body.length || !Number.isFinite(total)) return undefined;
  return sign * total;
}

/** Formats milliseconds the way Go prints a time.Duration: "0s", "500ms", "10s", "5m0s", "1h0m0s". */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 1000) {
    if (abs >= 1) return `${sign}${trim(abs)}ms`;
    if (abs >= 1e-3) return `${sign}${trim(abs * 1000)}µs`;
    return `${sign}${trim(abs * 1e6)}ns`;
  }
  const h = Math.floor(abs / 3_600_000);
  const m = Math.floor((abs % 3_600_000) / 60_000);
  const s = (abs % 60_000) / 1000;
  if (h > 0) return `${sign}${h}h${m}m${trim(s)}s`;
  if (m > 0) return `${sign}${m}m${trim(s)}s`;
  return `${sign}${trim(s)}s`;
}

const trim = (n: number) => String(Number(n.toFixed(9)));

/** A duration flag or field: the value or an invalid-argument error naming `what`. */
export function requireGoDuration(text: string, what: string): number {
  const ms = parseGoDuration(text);
  if (ms === undefined) throw new TskubeError('invalid-argument', `${what}: invalid duration "${text}" (want a Go duration such as 10s, 5m0s, 1h30m)`);
  return ms;
}
