// The project's loggers: pino, one JSON line per state change, on stderr so stdout stays
// free for command output. Every component takes a logger in its options; defaultLogger
// is only the fallback.
import { pino, type Logger } from 'pino';

export type { Logger };

/** A logger at `level` (TSKUBE_LOG_LEVEL, else info), with `base` fields on every line. */
export function stderrLogger(name: string, level = process.env['TSKUBE_LOG_LEVEL'] ?? 'info', base?: Record<string, string>): Logger {
  return pino({ name, level, ...(base ? { base } : {}) }, pino.destination(2));
}

export function defaultLogger(component: string): Logger {
  return stderrLogger(component);
}
