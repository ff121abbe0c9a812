import type { CriLogLine, LogStream } from './cri-log-line.js';

/** One message of a container: partial lines joined, with the time of its first part. */
export interface LogMessage {
  timestamp: string;
  time: number;
  stream: LogStream;
  /** The text, ending in a newline unless the log ends in the middle of the message. */
  content: string;
}

/**
 * Joins P lines with the F line that ends them, per stream (the runtime may interleave
 * stdout and stderr parts).
 */
export class LogMessageAssembler {
  readonly #open = new Map<LogStream, LogMessage>();

  push(line: CriLogLine): LogMessage | undefined {
    const started = this.#open.get(line.stream);
    const message = started
      ? { ...started, content: started.content + line.content }
      : { timestamp: line.timestamp, time: line.time, stream: line.stream, content: line.content };
    if (line.partial) {
      this.#open.set(line.stream, message);
      return undefined;
    }
    this.#open.delete(line.stream);
    return { ...message, content: `${message.content}\n` };
  }

  /** What is still waiting for its end, in arrival order (at the end of a finished log). */
  flush(): LogMessage[] {
    const rest = [...this.#open.values()].sort((a, b) => a.time - b.time);
    this.#open.clear();
    return rest;
  }
}

export interface LogSelection {
  /** Keep only the last N messages; undefined or negative keeps all. */
  tail?: number | undefined;
  /** Keep only messages at or after this time (ms since epoch). */
  since?: number | undefined;
}

/** Applies --tail and then --since, as kubelet does. */
export function selectMessages(messages: readonly LogMessage[], selection: LogSelection): LogMessage[] {
  const { tail, since } = selection;
  let kept = tail !== undefined && tail >= 0 ? messages.slice(Math.max(0, messages.length - tail)) : [...messages];
  if (since !== undefined) kept = kept.filter((m) => m.time >= since);
  return kept;
}
