// The default logger for API plumbing: pino, one JSON line per state change. Every
// component takes a logger in its options; this is only the fallback.
import { pino, type Logger } from 'pino';

export type { Logger };

export function defaultLogger(component: string): Logger {
  // stderr, as the kubelet's own logger: stdout stays free for command output.
  return pino({ name: component, level: process.env['TSKUBE_LOG_LEVEL'] ?? 'info' }, pino.destination(2));
}
