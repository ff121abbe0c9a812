import { PassThrough } from 'node:stream';

/**
 * What a command may touch of the outside world. Commands take this and return an
 * exit code, so a test runs a command in-process with strings for stdout and stderr.
 */
export interface Output {
  write(chunk: string | Uint8Array): unknown;
}

export interface CommandIo {
  stdout: Output;
  stderr: Output;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  env: Readonly<Record<string, string | undefined>>;
  /** Whether stdout is a terminal (colour, column widths, raw mode for -t). */
  stdoutIsTTY: boolean;
  /** Terminal size, when stdout is a terminal. */
  terminalSize?: () => { columns: number; rows: number } | undefined;
  /** Subscribes to terminal resizes; returns the unsubscribe function. */
  onResize?: (listener: () => void) => () => void;
  /** Cancels long-running commands (Ctrl-C, test timeouts). */
  signal: AbortSignal;
}

export type Command = (argv: string[], io: CommandIo) => Promise<number>;

/** The process's own I/O. */
export function processIo(signal: AbortSignal): CommandIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    stdoutIsTTY: process.stdout.isTTY === true,
    terminalSize: () => (process.stdout.isTTY ? { columns: process.stdout.columns, rows: process.stdout.rows } : undefined),
    onResize: (listener) => {
      process.stdout.on('resize', listener);
      return () => process.stdout.off('resize', listener);
    },
    signal,
  };
}

/** Collects a command's output in memory: for tests and for commands run by other commands. */
export function memoryIo(options: { env?: Record<string, string | undefined>; stdin?: string; signal?: AbortSignal } = {}) {
  let out = '';
  let err = '';
  const text = (c: string | Uint8Array) => (typeof c === 'string' ? c : Buffer.from(c).toString('utf8'));
  const stdin = new PassThrough();
  stdin.end(options.stdin ?? '');
  const io: CommandIo = {
    stdout: { write: (c) => (out += text(c)) },
    stderr: { write: (c) => (err += text(c)) },
    stdin,
    env: options.env ?? {},
    stdoutIsTTY: false,
    signal: options.signal ?? new AbortController().signal,
  };
  return { io, stdout: () => out, stderr: () => err };
}
