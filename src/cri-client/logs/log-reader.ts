import { open, stat, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { TskubeError } from '../../common/errors.js';
import { fixedNanoTimestamp, parseCriLogLine } from './cri-log-line.js';
import { LogMessageAssembler, selectMessages, type LogMessage, type LogSelection } from './log-message.js';

export interface Writer {
  write(chunk: string): unknown;
}

export interface ReadLogsOptions extends LogSelection {
  follow: boolean;
  timestamps: boolean;
  /** Stop after this many bytes of output; undefined or negative means no limit. */
  limitBytes?: number | undefined;
  signal: AbortSignal;
  /** Asked while following and the file is quiet; following ends once it says no. */
  isRunning?: (() => Promise<boolean>) | undefined;
  /** How often a quiet file is looked at again while following. */
  pollMs?: number | undefined;
}

/** How often, at most, a quiet follow asks whether the container still runs. */
const runningCheckMs = 1000;
const readChunk = 64 * 1024;

/**
 * Prints a CRI log file to stdout/stderr by the stream each line came from, as kubelet
 * and crictl do: --tail and --since pick the messages, -f keeps reading (across a
 * rotation of the file) until the container stops or the signal aborts.
 */
export async function readLogs(path: string, options: ReadLogsOptions, sinks: { stdout: Writer; stderr: Writer }): Promise<void> {
  const output = new LimitedOutput(sinks, options);
  const assembler = new LogMessageAssembler();
  let file = await openLog(path);
  try {
    const lines = new LineSplitter();
    const toMessages = (text: string): LogMessage[] => {
      const messages: LogMessage[] = [];
      for (const line of lines.push(text)) {
        const parsed = parseCriLogLine(line);
        const message = parsed && assembler.push(parsed);
        if (message) messages.push(message);
      }
      return messages;
    };

    const existing = toMessages(await readNew(file));
    if (!options.follow) existing.push(...assembler.flush());
    for (const m of selectMessages(existing, options)) if (!output.write(m)) return;
    if (!options.follow) return;

    let lastRunningCheck = 0;
    while (!options.signal.aborted) {
      const text = await readNew(file);
      if (text !== '') {
        for (const m of toMessages(text)) if (options.since === undefined || m.time >= options.since) if (!output.write(m)) return;
        continue;
      }
      if (await rotated(path, file)) {
        await file.handle.close();
        file = await openLog(path);
        continue;
      }
      if (options.isRunning && Date.now() - lastRunningCheck >= runningCheckMs) {
        lastRunningCheck = Date.now();
        if (!(await options.isRunning())) {
          // The last lines may have landed between our read and the status answer; and a
          // message the container left unfinished is now as complete as it will get.
          const last = [...toMessages(await readNew(file)), ...assembler.flush()];
          for (const m of last) if (options.since === undefined || m.time >= options.since) if (!output.write(m)) return;
          return;
        }
      }
      await sleep(options.pollMs ?? 200, undefined, { signal: options.signal }).catch(() => undefined);
    }
  } finally {
    await file.handle.close();
  }
}

interface OpenLog {
  handle: FileHandle;
  position: number;
  ino: number;
}

async function openLog(path: string): Promise<OpenLog> {
  try {
    const handle = await open(path, 'r');
    return { handle, position: 0, ino: (await handle.stat()).ino };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TskubeError('not-found', `log file "${path}" does not exist`);
    throw TskubeError.from(err).wrap(`opening log file "${path}"`);
  }
}

/** Everything appended since the last read; starts over if the file was truncated. */
async function readNew(file: OpenLog): Promise<string> {
  const { size } = await file.handle.stat();
  if (size < file.position) file.position = 0;
  const chunks: Buffer[] = [];
  while (file.position < size) {
    const buffer = Buffer.allocUnsafe(Math.min(readChunk, size - file.position));
    const { bytesRead } = await file.handle.read(buffer, 0, buffer.length, file.position);
    if (bytesRead === 0) break;
    file.position += bytesRead;
    chunks.push(buffer.subarray(0, bytesRead));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The runtime rotates by renaming the file and writing a new one at the same path. */
async function rotated(path: string, file: OpenLog): Promise<boolean> {
  try {
    return (await stat(path)).ino !== file.ino;
  } catch {
    return false;
  }
}

/** Splits text into lines, keeping an unfinished last line for the next push. */
class LineSplitter {
  #carry = '';

  push(text: string): string[] {
    const lines = (this.#carry + text).split('\n');
    this.#carry = lines.pop() ?? '';
    return lines;
  }
}

/** Writes messages to their stream's sink, with timestamps if asked, up to --limit-bytes. */
class LimitedOutput {
  #left: number;
  readonly #sinks: { stdout: Writer; stderr: Writer };
  readonly #options: { timestamps: boolean; limitBytes?: number | undefined };

  constructor(sinks: { stdout: Writer; stderr: Writer }, options: { timestamps: boolean; limitBytes?: number | undefined }) {
    this.#sinks = sinks;
    this.#options = options;
    this.#left = options.limitBytes !== undefined && options.limitBytes >= 0 ? options.limitBytes : Infinity;
  }

  /** False once the limit is reached: nothing more will be written. */
  write(message: LogMessage): boolean {
    if (this.#left <= 0) return false;
    let text = this.#options.timestamps ? `${fixedNanoTimestamp(message.timestamp)} ${message.content}` : message.content;
    const bytes = Buffer.byteLength(text);
    if (bytes > this.#left) text = Buffer.from(text).subarray(0, this.#left).toString('utf8');
    this.#left -= Math.min(bytes, this.#left);
    this.#sinks[message.stream].write(text);
    return this.#left > 0;
  }
}
