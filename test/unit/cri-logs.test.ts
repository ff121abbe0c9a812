import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fixedNanoTimestamp, LogMessageAssembler, parseCriLogLine, readLogs, selectMessages, type LogMessage } from '../../src/cri-client/logs/index.js';

describe('CRI log lines', () => {
  it('parses timestamp, stream, tag and content (spaces kept)', () => {
    expect(parseCriLogLine('2016-10-06T00:17:09.669794202Z stdout F hello  world ')).toEqual({
      timestamp: '2016-10-06T00:17:09.669794202Z',
      time: Date.parse('2016-10-06T00:17:09.669Z'),
      stream: 'stdout',
      partial: false,
      content: 'hello  world ',
    });
    expect(parseCriLogLine('2016-10-06T00:17:09Z stderr P ')?.content).toBe('');
    expect(parseCriLogLine('2016-10-06T00:17:09Z stderr F')?.content).toBe('');
  });

  it('rejects lines not in the format', () => {
    expect(parseCriLogLine('just some text')).toBeUndefined();
    expect(parseCriLogLine('notatime stdout F x')).toBeUndefined();
    expect(parseCriLogLine('2016-10-06T00:17:09Z stdin F x')).toBeUndefined();
  });

  it('prints timestamps with nine fraction digits', () => {
    expect(fixedNanoTimestamp('2016-10-06T00:17:09.6697Z')).toBe('2016-10-06T00:17:09.669700000Z');
    expect(fixedNanoTimestamp('2016-10-06T00:17:09+02:00')).toBe('2016-10-06T00:17:09.000000000+02:00');
  });
});

describe('joining partial lines', () => {
  const line = (text: string) => parseCriLogLine(text) ?? expect.unreachable(text);

  it('joins P parts with their F end, per stream, with the first part time', () => {
    const a = new LogMessageAssembler();
    expect(a.push(line('2024-01-01T00:00:01Z stdout P hel'))).toBeUndefined();
    expect(a.push(line('2024-01-01T00:00:02Z stderr F oops'))).toMatchObject({ stream: 'stderr', content: 'oops\n' });
    expect(a.push(line('2024-01-01T00:00:03Z stdout P lo '))).toBeUndefined();
    expect(a.push(line('2024-01-01T00:00:04Z stdout F world'))).toEqual({
      timestamp: '2024-01-01T00:00:01Z',
      time: Date.parse('2024-01-01T00:00:01Z'),
      stream: 'stdout',
      content: 'hello world\n',
    });
  });

  it('gives back an unfinished message without a newline', () => {
    const a = new LogMessageAssembler();
    a.push(line('2024-01-01T00:00:01Z stdout P no end'));
    expect(a.flush()).toMatchObject([{ content: 'no end' }]);
    expect(a.flush()).toEqual([]);
  });
});

describe('selecting messages', () => {
  const messages: LogMessage[] = [1, 2, 3, 4].map((s) => ({ timestamp: `t${s}`, time: s * 1000, stream: 'stdout', content: `m${s}\n` }));
  const texts = (ms: LogMessage[]) => ms.map((m) => m.content.trim());

  it('keeps the last N with --tail, all with a negative tail, none with 0', () => {
    expect(texts(selectMessages(messages, { tail: 2 }))).toEqual(['m3', 'm4']);
    expect(texts(selectMessages(messages, { tail: -1 }))).toEqual(['m1', 'm2', 'm3', 'm4']);
    expect(texts(selectMessages(messages, { tail: 0 }))).toEqual([]);
    expect(texts(selectMessages(messages, { tail: 10 }))).toHaveLength(4);
  });

  it('keeps messages at or after --since, after the tail is taken', () => {
    expect(texts(selectMessages(messages, { since: 2500 }))).toEqual(['m3', 'm4']);
    expect(texts(selectMessages(messages, { since: 2000, tail: 3 }))).toEqual(['m2', 'm3', 'm4']);
    expect(texts(selectMessages(messages, { since: 3000, tail: 3 }))).toEqual(['m3', 'm4']);
  });
});

describe('reading a log file', () => {
  let dir = '';
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const sinks = () => {
    const out = { stdout: '', stderr: '' };
    return { out, sinks: { stdout: { write: (c: string) => (out.stdout += c) }, stderr: { write: (c: string) => (out.stderr += c) } } };
  };
  const logFile = (content: string) => {
    dir = mkdtempSync(path.join(tmpdir(), 'tskube-cri-logs-'));
    const file = path.join(dir, '0.log');
    writeFileSync(file, content);
    return file;
  };
  const content = [
    '2024-01-01T00:00:01.5Z stdout F one',
    '2024-01-01T00:00:02Z stderr F warn',
    'garbage line',
    '2024-01-01T00:00:03Z stdout P tw',
    '2024-01-01T00:00:04Z stdout F o',
    '',
  ].join('\n');

  it('splits streams, skips bad lines and joins parts', async () => {
    const { out, sinks: s } = sinks();
    await readLogs(logFile(content), { follow: false, timestamps: false, signal: new AbortController().signal }, s);
    expect(out).toEqual({ stdout: 'one\ntwo\n', stderr: 'warn\n' });
  });

  it('applies --tail, --timestamps and --limit-bytes', async () => {
    const file = logFile(content);
    const a = sinks();
    await readLogs(file, { follow: false, timestamps: true, tail: 1, signal: new AbortController().signal }, a.sinks);
    expect(a.out.stdout).toBe('2024-01-01T00:00:03.000000000Z two\n');
    const b = sinks();
    await readLogs(file, { follow: false, timestamps: false, limitBytes: 6, signal: new AbortController().signal }, b.sinks);
    expect(b.out).toEqual({ stdout: 'one\n', stderr: 'wa' });
  });

  it('says which file is missing', async () => {
    await expect(
      readLogs('/nonexistent/tskube/0.log', { follow: false, timestamps: false, signal: new AbortController().signal }, sinks().sinks),
    ).rejects.toThrow(/log file "\/nonexistent\/tskube\/0.log" does not exist/);
  });

  it('follows appended lines and a rotated file until the container stops', async () => {
    const file = logFile('2024-01-01T00:00:01Z stdout F first\n');
    const { out, sinks: s } = sinks();
    let running = true;
    const done = readLogs(file, { follow: true, timestamps: false, pollMs: 10, signal: new AbortController().signal, isRunning: async () => running }, s);
    await waitFor(() => out.stdout === 'first\n');
    appendFileSync(file, '2024-01-01T00:00:02Z stdout P sec');
    appendFileSync(file, 'ond part\n2024-01-01T00:00:03Z stdout F !\n');
    await waitFor(() => out.stdout === 'first\nsecond part!\n');
    renameSync(file, `${file}.1`);
    writeFileSync(file, '2024-01-01T00:00:04Z stderr F after rotation\n');
    await waitFor(() => out.stderr === 'after rotation\n');
    running = false;
    await done;
  });

  it('stops following when the signal aborts', async () => {
    const file = logFile('2024-01-01T00:00:01Z stdout F only\n');
    const { out, sinks: s } = sinks();
    const abort = new AbortController();
    const done = readLogs(file, { follow: true, timestamps: false, pollMs: 10, signal: abort.signal, isRunning: async () => true }, s);
    await waitFor(() => out.stdout === 'only\n');
    abort.abort();
    await done;
    expect(out.stdout).toBe('only\n');
  });
});

async function waitFor(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
