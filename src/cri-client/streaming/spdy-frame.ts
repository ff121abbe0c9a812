/**
 * The part of SPDY/3.1 a streaming client needs: it opens streams (SYN_STREAM), sends
 * and half-closes data, answers PINGs, and reads data, replies, resets and GOAWAY.
 *
 *   control frame: 1 | version(15) | type(16) | flags(8) | length(24) | payload
 *   data frame:    0 | stream id(31)          | flags(8) | length(24) | payload
 */

export const spdyVersion = 3;

export const FrameType = { synStream: 1, synReply: 2, rstStream: 3, settings: 4, ping: 6, goAway: 7, headers: 8, windowUpdate: 9 } as const;

/** FLAG_FIN, the same bit on data and control frames: the sender's side of the stream is done. */
export const flagFin = 0x01;

export type SpdyFrame = { control: false; streamId: number; flags: number; data: Buffer } | { control: true; type: number; flags: number; payload: Buffer };

const headerLength = 8;
/** Adler-32 of the SPDY/3 header dictionary: the DICTID of every header stream. */
const dictionaryId = 0xe3c6a7c2;

export function encodeDataFrame(streamId: number, data: Uint8Array, flags = 0): Buffer {
  const frame = Buffer.allocUnsafe(headerLength + data.length);
  frame.writeUInt32BE(streamId & 0x7fffffff, 0);
  frame.writeUInt32BE(((flags & 0xff) << 24) | data.length, 4);
  frame.set(data, headerLength);
  return frame;
}

export function encodeControlFrame(type: number, flags: number, payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(headerLength + payload.length);
  frame.writeUInt16BE(0x8000 | spdyVersion, 0);
  frame.writeUInt16BE(type, 2);
  frame.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
  frame.set(payload, headerLength);
  return frame;
}

/**
 * Compresses header blocks for one connection. SPDY header blocks form a single zlib
 * stream (with the SPDY dictionary) across all frames of a direction. We write them as
 * stored deflate blocks: still one valid zlib stream the peer inflates frame by frame,
 * produced synchronously; a handful of header bytes gain nothing from real compression.
 */
export class HeaderCompressor {
  #started = false;

  block(headers: Record<string, string>): Buffer {
    const entries = Object.entries(headers);
    const parts: Buffer[] = [u32(entries.length)];
    for (const [name, value] of entries) {
      const n = Buffer.from(name.toLowerCase());
      const v = Buffer.from(value);
      parts.push(u32(n.length), n, u32(v.length), v);
    }
    const raw = Buffer.concat(parts);
    if (raw.length > 0xffff) throw new RangeError('SPDY header block too large');
    const out: Buffer[] = [];
    if (!this.#started) {
      this.#started = true;
      // zlib header: deflate with 32K window, FDICT set, check bits, then the DICTID.
      out.push(Buffer.from([0x78, 0xbb]), u32(dictionaryId));
    }
    const stored = Buffer.allocUnsafe(5);
    stored[0] = 0; // BFINAL=0, BTYPE=00 (stored), padded to the byte
    stored.writeUInt16LE(raw.length, 1);
    stored.writeUInt16LE(~raw.length & 0xffff, 3);
    // Then an empty stored block, as a zlib sync flush ends: it makes the inflater hand
    // out the block's bytes without waiting for more input.
    out.push(stored, raw, Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]));
    return Buffer.concat(out);
  }
}

export function encodeSynStream(streamId: number, headerBlock: Buffer, flags = 0): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt32BE(streamId & 0x7fffffff, 0);
  fixed.writeUInt32BE(0, 4); // no associated stream
  // priority 0 (highest) and slot 0
  return encodeControlFrame(FrameType.synStream, flags, Buffer.concat([fixed, headerBlock]));
}

export function encodeGoAway(lastGoodStreamId: number): Buffer {
  const payload = Buffer.alloc(8);
  payload.writeUInt32BE(lastGoodStreamId & 0x7fffffff, 0);
  return encodeControlFrame(FrameType.goAway, 0, payload);
}

/** The stream a control frame is about (SYN_REPLY, RST_STREAM, HEADERS), if it has one. */
export function controlStreamId(frame: { type: number; payload: Buffer }): number | undefined {
  switch (frame.type) {
    case FrameType.synStream:
    case FrameType.synReply:
    case FrameType.rstStream:
    case FrameType.headers:
    case FrameType.windowUpdate:
      return frame.payload.length >= 4 ? frame.payload.readUInt32BE(0) & 0x7fffffff : undefined;
    default:
      return undefined;
  }
}

/** Splits a byte stream into frames; feed it chunks as they arrive. */
export class SpdyFrameReader {
  #pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): SpdyFrame[] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const frames: SpdyFrame[] = [];
    while (this.#pending.length >= headerLength) {
      const length = this.#pending.readUInt32BE(4) & 0xffffff;
      if (this.#pending.length < headerLength + length) break;
      const flags = this.#pending[4] as number;
      const body = this.#pending.subarray(headerLength, headerLength + length);
      const first = this.#pending.readUInt32BE(0);
      if (first & 0x80000000) {
        frames.push({ control: true, type: first & 0xffff, flags, payload: body });
      } else {
        frames.push({ control: false, streamId: first & 0x7fffffff, flags, data: body });
      }
      this.#pending = this.#pending.subarray(headerLength + length);
    }
    return frames;
  }
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}
