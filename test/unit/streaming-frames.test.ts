import { inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  decodeChannelMessage,
  encodeChannelClose,
  encodeChannelData,
  encodeTerminalSize,
  parseExitStatus,
  parsePortMapping,
} from '../../src/cri-client/streaming/index.js';
import { encodeDataFrame, encodeSynStream, flagFin, FrameType, HeaderCompressor, SpdyFrameReader } from '../../src/cri-client/streaming/spdy-frame.js';
import { defaultTransport } from '../../src/cri-client/streaming/remote-command.js';

describe('websocket channel frames', () => {
  it('prefixes data with the channel byte and decodes it back', () => {
    const frame = encodeChannelData(2, Buffer.from('oops'));
    expect([...frame]).toEqual([2, ...Buffer.from('oops')]);
    const decoded = decodeChannelMessage(frame);
    expect(decoded).toMatchObject({ kind: 'data', channel: 2 });
    expect(decoded?.kind === 'data' && decoded.data.toString()).toBe('oops');
  });

  it('encodes and decodes the v5 close signal', () => {
    expect([...encodeChannelClose(0)]).toEqual([255, 0]);
    expect(decodeChannelMessage(encodeChannelClose(0))).toEqual({ kind: 'close', channel: 0 });
  });

  it('ignores empty messages and keeps empty data frames as data', () => {
    expect(decodeChannelMessage(new Uint8Array(0))).toBeUndefined();
    const d = decodeChannelMessage(new Uint8Array([1]));
    expect(d?.kind === 'data' && d.data.length).toBe(0);
  });

  it('sends terminal sizes as the JSON kubelet decodes', () => {
    expect(JSON.parse(encodeTerminalSize({ columns: 120, rows: 40 }).toString())).toEqual({ Width: 120, Height: 40 });
  });
});

describe('error channel status', () => {
  it('reads success and the exit code of a v4 Status', () => {
    expect(parseExitStatus('{"metadata":{},"status":"Success"}', true)).toEqual({ exitCode: 0 });
    const failure = JSON.stringify({
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: exit code 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    expect(parseExitStatus(failure, true)).toEqual({ exitCode: 3 });
  });

  it('treats an empty channel as success', () => {
    expect(parseExitStatus('', true)).toEqual({ exitCode: 0 });
    expect(parseExitStatus('', false)).toEqual({ exitCode: 0 });
  });

  it('throws the message of a failure that is not an exit code', () => {
    const status = JSON.stringify({ status: 'Failure', message: 'container not running', reason: 'InternalError' });
    expect(() => parseExitStatus(status, true)).toThrow(/container not running/);
    expect(() => parseExitStatus('not json', true)).toThrow(/unreadable status/);
  });

  it('reads the exit code from the plain text of the pre-v4 protocol', () => {
    expect(parseExitStatus('command terminated with non-zero exit code: error executing command [sh], exit code 42', false)).toEqual({ exitCode: 42 });
    expect(() => parseExitStatus('something broke', false)).toThrow(/something broke/);
  });
});

describe('SPDY frames', () => {
  it('round-trips data frames, FIN included, through the reader split at any byte', () => {
    const bytes = Buffer.concat([encodeDataFrame(3, Buffer.from('hello')), encodeDataFrame(5, Buffer.alloc(0), flagFin)]);
    const reader = new SpdyFrameReader();
    const frames = [...bytes].flatMap((b) => reader.push(Buffer.from([b])));
    expect(frames).toEqual([
      { control: false, streamId: 3, flags: 0, data: Buffer.from('hello') },
      { control: false, streamId: 5, flags: flagFin, data: Buffer.alloc(0) },
    ]);
  });

  it('writes SYN_STREAM as a version 3 control frame with the stream id', () => {
    const frame = encodeSynStream(7, Buffer.from('hdr'));
    const [parsed] = new SpdyFrameReader().push(frame);
    expect(parsed).toMatchObject({ control: true, type: FrameType.synStream, flags: 0 });
    expect(frame.readUInt16BE(0)).toBe(0x8003);
    expect(parsed?.control && parsed.payload.readUInt32BE(0)).toBe(7);
    expect(parsed?.control && parsed.payload.subarray(10).toString()).toBe('hdr');
  });

  it('writes header blocks as one zlib stream with the SPDY dictionary id', () => {
    const compressor = new HeaderCompressor();
    const first = compressor.block({ streamtype: 'error' });
    const second = compressor.block({ StreamType: 'stdin' });
    // zlib header with FDICT, then the Adler-32 of the SPDY/3 dictionary.
    expect(first.subarray(0, 6).toString('hex')).toBe('78bbe3c6a7c2');
    const inflated = inflateRawSync(Buffer.concat([first.subarray(6), second]), { finishFlush: 2 /* Z_SYNC_FLUSH */ });
    const expected = (name: string, value: string) => Buffer.concat([u32(1), u32(name.length), Buffer.from(name), u32(value.length), Buffer.from(value)]);
    expect(inflated).toEqual(Buffer.concat([expected('streamtype', 'error'), expected('streamtype', 'stdin')]));
  });
});

describe('transport and ports', () => {
  it('uses SPDY only when piped stdin must be able to end', () => {
    expect(defaultTransport({ stdin: {}, tty: false })).toBe('spdy');
    expect(defaultTransport({ stdin: {}, tty: true })).toBe('websocket');
    expect(defaultTransport({ tty: false })).toBe('websocket');
  });

  it('parses [LOCAL:]REMOTE port mappings', () => {
    expect(parsePortMapping('8080:80')).toEqual({ local: 8080, remote: 80 });
    expect(parsePortMapping('80')).toEqual({ local: 80, remote: 80 });
    expect(parsePortMapping(':80')).toEqual({ local: 0, remote: 80 });
    expect(() => parsePortMapping('80:0')).toThrow(/invalid port mapping "80:0"/);
    expect(() => parsePortMapping('http')).toThrow(/invalid port mapping "http"/);
  });
});

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
