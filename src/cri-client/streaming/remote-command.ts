/** What a remote command (exec or attach) is wired to on this side. */

export interface Writer {
  write(chunk: Uint8Array): unknown;
}

export interface TerminalSize {
  columns: number;
  rows: number;
}

export interface RemoteCommandStreams {
  /** Forwarded to the command when set; its end half-closes the remote stdin. */
  stdin?: NodeJS.ReadableStream | undefined;
  stdout?: Writer | undefined;
  stderr?: Writer | undefined;
  /** The remote side has a TTY: stderr is merged into stdout and resizes are sent. */
  tty: boolean;
  terminalSize?: (() => TerminalSize | undefined) | undefined;
  onResize?: ((listener: () => void) => () => void) | undefined;
  signal: AbortSignal;
  debug?: ((message: string) => void) | undefined;
}

/**
 * How to reach the runtime's streaming server. Websocket is the default; SPDY is kept
 * because before `v5.channel.k8s.io` a websocket cannot tell the server that stdin ended,
 * and containerd 1.6 speaks only v4.
 */
export type StreamTransport = 'websocket' | 'spdy';

export const streamTransports: readonly StreamTransport[] = ['websocket', 'spdy'];

/**
 * The transport when the user did not pick one: SPDY exactly when stdin is piped without
 * a TTY, since then its end must reach the command (`echo x | exec -i ID cat`).
 */
export function defaultTransport(streams: { stdin?: unknown; tty: boolean }): StreamTransport {
  return streams.stdin !== undefined && !streams.tty ? 'spdy' : 'websocket';
}

/**
 * Feeds a readable to `send` until it ends or `stop()` is called; `stop` also pauses the
 * readable so a process's stdin does not keep the event loop alive.
 */
export function pumpInput(input: NodeJS.ReadableStream, send: (chunk: Buffer) => void, end: () => void): () => void {
  const onData = (chunk: string | Buffer) => send(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  const onEnd = () => {
    stop();
    end();
  };
  const stop = () => {
    input.off('data', onData);
    input.off('end', onEnd);
    input.pause();
  };
  input.on('data', onData);
  input.on('end', onEnd);
  input.resume();
  return stop;
}

/** Sends the current size now and on every resize; returns the unsubscribe function. */
export function watchTerminalSize(streams: RemoteCommandStreams, send: (size: TerminalSize) => void): () => void {
  if (!streams.tty || !streams.terminalSize) return () => undefined;
  const sendCurrent = () => {
    const size = streams.terminalSize?.();
    if (size) send(size);
  };
  sendCurrent();
  return streams.onResize?.(sendCurrent) ?? (() => undefined);
}
