import { open, stat, type FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { TskubeError } from '../../common/errors.js';
import { sleep } from '../../common/sleep.js';
import { fixedNanoTimestamp, parseCriLogLine } from './cri-log-line.js';
import { LogMessageAssembler, type LogMessage, type LogSelection } from './log-message.js';

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
// Below V8's large-object size (128 KiB): every chunk's text, its lines and the batch
// written out die young in the new space. At 256 KiB each of those strings went straight
// to the old generation, and streaming 100 MB of log peaked at ~95 MiB RSS instead of ~64
// (and took twice as long) in a bare process (docs/memory.md).
const readChunk = 64 * 1024;

/**
 * Prints a CRI log file to stdout/stderr by the stream each line came from, as kubelet
 * and crictl do: --tail and --since pick the messages, -f keeps reading (across a
 * rotation of the file) until the container stops or the signal aborts. The file is
 * read in chunks, and a sink that is a stream (an HTTP response) is let drain between
 * them, so a large log never sits in memory whole.
 */
export async function readLogs(path: string, options: ReadLogsOptions, sinks: { stdout: Writer; stderr: Writer }): Promise<void> {
  const output = new LimitedOutput(sinks, options);
  const assembler = new LogMessageAssembler();
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
  const since = options.since;
  const wanted = (m: LogMessage) => since === undefined || m.time >= since;
  /** Writes what passes --since; false once --limit-bytes is reached or the reader went away. */
  const emit = async (messages: readonly LogMessage[]): Promise<boolean> => {
    let more = true;
    for (const m of messages) {
      if (!wanted(m)) continue;
      more = output.write(m);
      if (!more) break;
    }
    output.flush();
    return more && !options.signal.aborted && (await drained(sinks, options.signal));
  };

  let file = await openLog(path);
  try {
    // What the file holds now. --tail keeps only the last N messages (a ring, so memory
    // stays bounded); without it every chunk goes out as it is read.
    const tail = options.tail !== undefined && options.tail >= 0 ? new LastMessages(options.tail) : undefined;
    for (let text = await readSome(file); text !== ''; text = await readSome(file)) {
      const messages = toMessages(text);
      if (tail) tail.push(messages);
      else if (!(await emit(messages))) return;
    }
    const rest = options.follow ? [] : assembler.flush();
    if (tail) {
      tail.push(rest);
      if (!(await emit(tail.messages()))) return;
    } else if (!(await emit(rest))) return;
    if (!options.follow) return;

    let lastRunningCheck = 0;
    while (!options.signal.aborted) {
      const text = await readSome(file);
      if (text !== '') {
        if (!(await emit(toMessages(text)))) return;
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
          const last: LogMessage[] = [];
          for (let more = await readSome(file); more !== ''; more = await readSome(file)) last.push(...toMessages(more));
          await emit([...last, ...assembler.flush()]);
          return;
        }
      }
      await sleep(options.pollMs ?? 200, options.signal);
    }
  } finally {
    await file.handle.close();
  }
}

interface OpenLog {
  handle: FileHandle;
  position: number;
  ino: number;
  decoder: StringDecoder;
}

async function openLog(path: string): Promise<OpenLog> {
  try {
    const handle = await open(path, 'r');
    return { handle, position: 0, ino: (await handle.stat()).ino, decoder: new StringDecoder('utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TskubeError('not-found', `log file "${path}" does not exist`);
    throw TskubeError.from(err).wrap(`opening log file "${path}"`);
  }
}

/** Up to one chunk appended since the last read ("" when there is none); starts over if the file was truncated. */
async function readSome(file: OpenLog): Promise<string> {
  const { size } = await file.handle.stat();
  if (size < file.position) {
    file.position = 0;
    file.decoder = new StringDecoder('utf8');
  }
  if (file.position >= size) return '';
  const buffer = Buffer.allocUnsafe(Math.min(readChunk, size - file.position));
  const { bytesRead } = await file.handle.read(buffer, 0, buffer.length, file.position);
  file.position += bytesRead;
  // A multi-byte character cut by the chunk end waits in the decoder for its rest.
  return file.decoder.write(buffer.subarray(0, bytesRead));
}

/** The runtime rotates by renaming the file and writing a new one at the same path. */
async function rotated(path: string, file: OpenLog): Promise<boolean> {
  try {
    return (await stat(path)).ino !== file.ino;
  } catch {
    return false;
  }
}

/** A sink that is a writable stream with a full buffer: wait until it drains (or closes, or the reader aborts). */
async function drained(sinks: { stdout: Writer; stderr: Writer }, signal: AbortSignal): Promise<boolean> {
  for (const sink of new Set([sinks.stdout, sinks.stderr])) {
    const stream = sink as Partial<NodeJS.WritableStream & { writableNeedDrain: boolean; destroyed: boolean }>;
    if (stream.destroyed) return false;
    if (!stream.writableNeedDrain || typeof stream.once !== 'function') continue;
    if (!(await drainOf(stream as NodeJS.WritableStream, signal))) return false;
  }
  return true;
}

/** True at 'drain'; false at 'close' or abort. Every listener goes again, whichever comes first. */
function drainOf(stream: NodeJS.WritableStream, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const finish = (ok: boolean) => {
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      signal.removeEventListener('abort', onClose);
      resolve(ok);
    };
    const onDrain = () => finish(true);
    const onClose = () => finish(false);
    if (signal.aborted) return resolve(false);
    stream.on('drain', onDrain);
    stream.on('close', onClose);
    signal.addEventListener('abort', onClose, { once: true });
  });
}

/** The last N messages seen, in order, without holding the rest. */
class LastMessages {
  readonly #ring: LogMessage[] = [];
  #start = 0;

  constructor(readonly capacity: number) {}

  push(messages: readonly LogMessage[]): void {
    if (this.capacity === 0) return;
    for (const m of messages) {
      if (this.#ring.length < this.capacity) this.#ring.push(m);
      else {
        this.#ring[this.#start] = m;
        this.#start = (this.#start + 1) % this.capacity;
      }
    }
  }

  messages(): LogMessage[] {
    return [...this.#ring.slice(this.#start), ...this.#ring.slice(0, this.#start)];
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

/**
 * Writes messages to their stream's sink, with timestamps if asked, up to --limit-bytes.
 * Consecutive messages of one stream go out as one write (one chunk of an HTTP reply,
 * not one per line); flush() ends a batch.
 */
class LimitedOutput {
  #left: number;
  readonly #sinks: { stdout: Writer; stderr: Writer };
  readonly #timestamps: boolean;
  #batch: string[] = [];
  #batchStream: LogMessage['stream'] = 'stdout';

  constructor(sinks: { stdout: Writer; stderr: Writer }, options: { timestamps: boolean; limitBytes?: number | undefined }) {
    this.#sinks = sinks;
    this.#timestamps = options.timestamps;
    this.#left = options.limitBytes !== undefined && options.limitBytes >= 0 ? options.limitBytes : Infinity;
  }

  /** False once the limit is reached: nothing more will be written. */
  write(message: LogMessage): boolean {
    if (this.#left <= 0) return false;
    let text = this.#timestamps ? `${fixedNanoTimestamp(message.timestamp)} ${message.content}` : message.content;
    const bytes = Buffer.byteLength(text);
    if (bytes > this.#left) text = Buffer.from(text).subarray(0, this.#left).toString('utf8');
    this.#left -= Math.min(bytes, this.#left);
    if (message.stream !== this.#batchStream) this.flush();
    this.#batchStream = message.stream;
    this.#batch.push(text);
    return this.#left > 0;
  }

  flush(): void {
    if (this.#batch.length === 0) return;
    this.#sinks[this.#batchStream].write(this.#batch.join(''));
    this.#batch = [];
  }
}
