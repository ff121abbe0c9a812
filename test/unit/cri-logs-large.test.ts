import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { readLogs } from '../../src/cri-client/logs/index.js';

// The log reader on files larger than one read: chunk ends inside lines and inside
// multi-byte characters, --tail over many chunks, and a slow stream as the sink.

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function bigLog(lines: number, text: (i: number) => string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tskube-logs-large-'));
  dirs.push(dir);
  const file = path.join(dir, '0.log');
  const body: string[] = [];
  for (let i = 0; i < lines; i++) body.push(`2024-01-01T00:00:${String(i % 60).padStart(2, '0')}Z stdout F ${text(i)}\n`);
  writeFileSync(file, body.join(''));
  return file;
}

const never = new AbortController().signal;

describe('reading a large log', () => {
  it('keeps every line and every multi-byte character across chunk ends', async () => {
    // ~1 MB of lines with a 3-byte character, so chunk ends fall inside characters.
    const file = bigLog(20_000, (i) => `line ${i} ${'€'.repeat(10)}`);
    let out = '';
    await readLogs(file, { follow: false, timestamps: false, signal: never }, { stdout: { write: (c) => (out += c) }, stderr: { write: () => true } });
    const lines = out.split('\n').slice(0, -1);
    expect(lines).toHaveLength(20_000);
    expect(lines.every((l, i) => l === `line ${i} ${'€'.repeat(10)}`)).toBe(true);
  });

  it('gives the last N messages of a file many chunks long', async () => {
    const file = bigLog(30_000, (i) => `n${i}`);
    let out = '';
    await readLogs(file, { follow: false, timestamps: false, tail: 3, signal: never }, { stdout: { write: (c) => (out += c) }, stderr: { write: () => true } });
    expect(out).toBe('n29997\nn29998\nn29999\n');
    let none = '';
    await readLogs(
      file,
      { follow: false, timestamps: false, tail: 0, signal: never },
      { stdout: { write: (c) => (none += c) }, stderr: { write: () => true } },
    );
    expect(none).toBe('');
  });

  it('waits for a slow stream sink to drain instead of buffering the whole file', async () => {
    const file = bigLog(50_000, (i) => `payload ${i} ${'x'.repeat(80)}`);
    const sink = new PassThrough({ highWaterMark: 64 * 1024 });
    let peak = 0;
    const watch = setInterval(() => (peak = Math.max(peak, sink.writableLength + sink.readableLength)), 2);
    const reading = readLogs(file, { follow: false, timestamps: false, signal: never }, { stdout: sink, stderr: sink });
    // A reader that is away for a while, then takes everything.
    await new Promise((r) => setTimeout(r, 800));
    let received = 0;
    sink.on('data', (c: Buffer) => (received += c.length));
    await reading;
    sink.end();
    await once(sink, 'end');
    clearInterval(watch);
    expect(received).toBeGreaterThan(4_500_000);
    // Far below the file's ~5 MB: the reader paused while the sink was full.
    expect(peak).toBeLessThan(1024 * 1024);
  });
});
