import { describe, expect, it } from 'vitest';
import { parseTransport, splitAtFirstPositional } from '../../src/cli/crictl/cmd/exec.js';
import { parseSince } from '../../src/cli/crictl/cmd/logs.js';

describe('crictl exec argument split', () => {
  const valueFlags = new Set(['--timeout', '--transport', '-r']);

  it('leaves the command flags to the command', () => {
    expect(splitAtFirstPositional(['-it', 'abc', 'sh', '-c', 'echo hi'], valueFlags)).toEqual([['-it'], ['abc', 'sh', '-c', 'echo hi']]);
  });

  it('skips the values of value flags and honours --', () => {
    expect(splitAtFirstPositional(['--timeout', '5', '-s', 'abc', 'ls'], valueFlags)).toEqual([
      ['--timeout', '5', '-s'],
      ['abc', 'ls'],
    ]);
    expect(splitAtFirstPositional(['--timeout=5', '--', '-weird-id', 'ls'], valueFlags)).toEqual([['--timeout=5'], ['-weird-id', 'ls']]);
  });

  it('names the flag of a bad transport', () => {
    expect(parseTransport('spdy')).toBe('spdy');
    expect(parseTransport(undefined)).toBeUndefined();
    expect(() => parseTransport('carrier-pigeon')).toThrow(/--transport: invalid value "carrier-pigeon"/);
  });
});

describe('crictl logs --since', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');

  it('takes durations back from now, Unix seconds and RFC3339', () => {
    expect(parseSince('10s', now)).toBe(now - 10_000);
    expect(parseSince('1m30s', now)).toBe(now - 90_000);
    expect(parseSince('1714564800', now)).toBe(Date.parse('2024-05-01T12:00:00Z'));
    expect(parseSince('2024-05-01T11:00:00Z', now)).toBe(now - 3_600_000);
  });

  it('names the flag and value it cannot read', () => {
    expect(() => parseSince('yesterday', now)).toThrow(/--since: invalid value "yesterday"/);
  });
});
