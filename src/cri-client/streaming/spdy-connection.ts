import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { TskubeError } from '../../common/errors.js';
import {
  controlStreamId,
  encodeControlFrame,
  encodeDataFrame,
  encodeGoAway,
  encodeSynStream,
  flagFin,
  FrameType,
  HeaderCompressor,
  SpdyFrameReader,
  type SpdyFrame,
} from './spdy-frame.js';

export interface StreamHandlers {
  onData?: (data: Buffer) => void;
  /** The server finished or reset its side of the stream. */
  onEnd?: () => void;
}

export interface SpdyStream {
  readonly id: number;
  write(data: Uint8Array): void;
  /** Half-closes our side: the server reads EOF. */
  end(): void;
}

/** Largest data frame we send; SPDY allows 16 MiB but small frames keep latency even. */
const maxDataFrame = 32 * 1024;

/**
 * A client SPDY/3.1 connection to the streaming server, made by an HTTP Upgrade with the
 * `X-Stream-Protocol-Version`s we speak. Only the client opens streams here, so the
 * server's (compressed) headers are never needed and are not decoded.
 */
export class SpdyConnection {
  #nextStreamId = 1;
  readonly #handlers = new Map<number, StreamHandlers>();
  readonly #headers = new HeaderCompressor();
  readonly #reader = new SpdyFrameReader();
  /** Resolves when the server closes the connection (or we do). */
  readonly closed: Promise<void>;

  readonly #socket: Socket;

  /** Made by `SpdyConnection.open`, once the server has agreed to the upgrade. */
  constructor(
    socket: Socket,
    readonly protocol: string,
    head: Buffer,
  ) {
    this.#socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('error', () => socket.destroy());
    socket.once('close', () => {
      for (const h of this.#handlers.values()) h.onEnd?.();
      this.#handlers.clear();
    });
    if (head.length > 0) this.#receive(head);
  }

  static open(url: string, protocols: readonly string[], signal: AbortSignal): Promise<SpdyConnection> {
    return new Promise((resolve, reject) => {
      const target = new URL(url);
      const transport = target.protocol === 'https:' ? https : http;
      const request = transport.request(target, {
        method: 'POST',
        signal,
        // crictl streams without verifying the runtime's certificate unless given TLS files.
        ...(target.protocol === 'https:' ? { rejectUnauthorized: false } : {}),
        headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': [...protocols] },
      });
      request.on('upgrade', (response, socket: Socket, head: Buffer) => {
        socket.setNoDelay(true);
        resolve(new SpdyConnection(socket, String(response.headers['x-stream-protocol-version'] ?? ''), head));
      });
      request.on('response', (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (c: string) => (body += c));
        response.on('end', () =>
          reject(new TskubeError('unavailable', `streaming server at ${target.host} refused the SPDY upgrade: ${response.statusCode} ${body.trim()}`.trim())),
        );
      });
      request.on('error', (err) => reject(TskubeError.from(err, 'unavailable').wrap(`connecting to the streaming server at ${target.host}`)));
      request.end();
    });
  }

  createStream(headers: Record<string, string>, handlers: StreamHandlers = {}): SpdyStream {
    const id = this.#nextStreamId;
    this.#nextStreamId += 2;
    this.#handlers.set(id, handlers);
    this.#send(encodeSynStream(id, this.#headers.block(headers)));
    return {
      id,
      write: (data) => {
        for (let at = 0; at < data.length; at += maxDataFrame) this.#send(encodeDataFrame(id, data.subarray(at, at + maxDataFrame)));
      },
      end: () => this.#send(encodeDataFrame(id, Buffer.alloc(0), flagFin)),
    };
  }

  close(): void {
    if (this.#socket.destroyed) return;
    this.#send(encodeGoAway(0));
    this.#socket.end();
  }

  #send(frame: Buffer): void {
    if (!this.#socket.destroyed && this.#socket.writable) this.#socket.write(frame);
  }

  #receive(chunk: Buffer): void {
    let frames: SpdyFrame[];
    try {
      frames = this.#reader.push(chunk);
    } catch {
      this.#socket.destroy();
      return;
    }
    for (const frame of frames) this.#dispatch(frame);
  }

  #dispatch(frame: SpdyFrame): void {
    if (!frame.control) {
      const h = this.#handlers.get(frame.streamId);
      if (frame.data.length > 0) h?.onData?.(frame.data);
      if (frame.flags & flagFin) this.#ended(frame.streamId);
      return;
    }
    switch (frame.type) {
      case FrameType.ping:
        this.#send(encodeControlFrame(FrameType.ping, 0, frame.payload));
        return;
      case FrameType.synReply:
      case FrameType.headers:
        if (frame.flags & flagFin) this.#ended(controlStreamId(frame));
        return;
      case FrameType.rstStream:
        this.#ended(controlStreamId(frame));
        return;
      default:
        // SETTINGS, WINDOW_UPDATE, GOAWAY: nothing to do; the server closes the socket after GOAWAY.
        return;
    }
  }

  #ended(streamId: number | undefined): void {
    if (streamId === undefined) return;
    const h = this.#handlers.get(streamId);
    this.#handlers.delete(streamId);
    h?.onEnd?.();
  }
}
