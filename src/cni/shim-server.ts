// The kubelet's end of tskube-cni-shim's socket: accepts one call per connection, hands it
// to a handler, writes the answer back (shim-protocol.ts). The socket is made 0600 in a
// 0700 folder: only root (the runtime) may call. A call whose shim goes away before the
// answer (the runtime killed it at its deadline) has its signal aborted.
import { chmod, mkdir, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { TskubeError } from '../common/errors.js';
import { encodeShimReply, maxShimMessageBytes, parseShimRequest, type ShimReply, type ShimRequest, shimProtocolVersion } from './shim-protocol.js';

export type ShimHandler = (request: ShimRequest, signal: AbortSignal) => Promise<ShimReply>;

/** A request that could not be read: the spec's error object, code 6 ("failed to decode content"). */
function unreadable(problem: string): ShimReply {
  return { exitCode: 1, stdout: `${JSON.stringify({ code: 6, msg: `tskube kubelet: ${problem}` })}\n` };
}

export class ShimServer {
  readonly socketPath: string;
  readonly #handler: ShimHandler;
  readonly #log: Logger | undefined;
  #server: Server | undefined;
  readonly #open = new Set<Socket>();

  constructor(options: { socketPath: string; handler: ShimHandler; log?: Logger }) {
    this.socketPath = options.socketPath;
    this.#handler = options.handler;
    this.#log = options.log;
  }

  /** Listens (replacing a socket file a previous kubelet left); resolves once calls are accepted. */
  async listen(): Promise<void> {
    await mkdir(dirname(this.socketPath), { recursive: true, mode: 0o700 });
    await rm(this.socketPath, { force: true });
    const server = createServer({ allowHalfOpen: true }, (socket) => this.#serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: unknown) => {
      throw TskubeError.from(err).wrap(`listening for tskube-cni-shim on ${this.socketPath}`);
    });
    await chmod(this.socketPath, 0o600);
    server.on('error', (err) => this.#log?.error({ socket: this.socketPath, err: err.message }, 'CNI shim socket failed'));
    this.#server = server;
  }

  /** Stops accepting calls and removes the socket file; calls in flight are aborted. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#open) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(this.socketPath, { force: true });
  }

  #serve(socket: Socket): void {
    this.#open.add(socket);
    const controller = new AbortController();
    let received = Buffer.alloc(0);
    let answered = false;
    let handling = false;
    const answer = (reply: ShimReply) => {
      if (answered) return;
      answered = true;
      socket.end(encodeShimReply(reply));
    };
    socket.on('data', (chunk: Buffer) => {
      if (handling || answered) {
        // Nothing may follow the request; more bytes mean a confused client.
        if (!answered && chunk.length > 0) controller.abort();
        return;
      }
      received = Buffer.concat([received, chunk]);
      if (received.length > maxShimMessageBytes + 64 * 1024) {
        answer(unreadable(`a call of more than ${maxShimMessageBytes} bytes`));
        return;
      }
      let parsed: ReturnType<typeof parseShimRequest>;
      try {
        parsed = parseShimRequest(received);
      } catch (err) {
        answer(unreadable(TskubeError.from(err).detail));
        return;
      }
      if (parsed.state === 'incomplete') return;
      if (parsed.state === 'unsupported-version') {
        answer({
          exitCode: 1,
          stdout: `${JSON.stringify({
            code: 999,
            msg: `tskube kubelet: the shim speaks protocol ${parsed.version}, this kubelet speaks ${shimProtocolVersion}: install the tskube-cni-shim that comes with this kubelet`,
          })}\n`,
        });
        return;
      }
      handling = true;
      this.#handler(parsed.request, controller.signal).then(answer, (err: unknown) =>
        answer({ exitCode: 1, stdout: `${JSON.stringify({ code: 999, msg: `tskube kubelet: ${TskubeError.from(err).message}` })}\n` }),
      );
    });
    // The shim keeps its side open until it has the answer: an end or a close before then means it is gone.
    socket.on('end', () => {
      if (!answered) controller.abort();
    });
    socket.on('close', () => {
      this.#open.delete(socket);
      if (!answered) controller.abort();
    });
    socket.on('error', () => undefined);
  }
}
