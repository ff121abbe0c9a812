/**
 * One line of a CRI container log file, as the runtime writes it:
 *
 *   2016-10-06T00:17:09.669794202Z stdout F the log content
 *
 * timestamp (RFC3339Nano), stream (stdout|stderr), tag (P = partial, the message goes
 * on in the next line of that stream; F = full, the message ends here), content.
 */
export type LogStream = 'stdout' | 'stderr';

export interface CriLogLine {
  /** The timestamp as written, for printing without losing nanoseconds. */
  timestamp: string;
  /** Milliseconds since the epoch, for --since. */
  time: number;
  stream: LogStream;
  partial: boolean;
  content: string;
}

const linePattern = /^(\S+) (stdout|stderr) ([^ ]*)(?: (.*))?$/s;

/** Parses one line (without its newline); undefined when it is not in the CRI format. */
export function parseCriLogLine(line: string): CriLogLine | undefined {
  const m = linePattern.exec(line);
  if (!m) return undefined;
  const timestamp = m[1] as string;
  const time = Date.parse(timestamp);
  if (Number.isNaN(time)) return undefined;
  // Tags may carry more than P/F after a colon in future; only the first one matters.
  const tag = (m[3] as string).split(':')[0];
  return { timestamp, time, stream: m[2] as LogStream, partial: tag === 'P', content: m[4] ?? '' };
}

/** RFC3339 with exactly nine fraction digits, as kubelet prints --timestamps. */
export function fixedNanoTimestamp(timestamp: string): string {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(timestamp);
  if (!m) return timestamp;
  return `${m[1]}.${(m[2] ?? '').padEnd(9, '0').slice(0, 9)}${m[3]}`;
}
