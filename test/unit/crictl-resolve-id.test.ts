import { describe, expect, it } from 'vitest';
import { matchId } from '../../src/cli/crictl/resolve-id.js';
import { formatTable, humanDuration, shortId } from '../../src/cli/crictl/output.js';

const ids = ['4f1a2b3c4d5e6f', '4f1a99', 'abcdef012345'];

describe('matchId', () => {
  it('takes a full ID or a unique prefix', () => {
    expect(matchId(ids, '4f1a99', 'container')).toBe('4f1a99');
    expect(matchId(ids, 'abc', 'container')).toBe('abcdef012345');
    expect(matchId(ids, '4f1a2', 'container')).toBe('4f1a2b3c4d5e6f');
  });

  it('says which IDs an ambiguous prefix matched', () => {
    expect(() => matchId(ids, '4f1', 'pod sandbox')).toThrow('pod sandbox ID prefix "4f1" is ambiguous: it matches 4f1a2b3c4d5e6, 4f1a99');
  });

  it('names the missing ID', () => {
    expect(() => matchId(ids, 'zzz', 'container')).toThrow('no container with ID or ID prefix "zzz"');
    expect(() => matchId(ids, '', 'container')).toThrow('container ID is empty');
  });

  it('matches image IDs with or without sha256:', () => {
    expect(matchId(['sha256:aa11', 'sha256:bb22'], 'bb', 'image')).toBe('sha256:bb22');
  });
});

describe('output helpers', () => {
  it('pads columns as crictl tabwriter does (min 20, padding 3)', () => {
    const t = formatTable(['CONTAINER', 'NAME'], [['a'.repeat(13), 'web']]);
    expect(t).toBe(`${'CONTAINER'.padEnd(20)}NAME\n${'a'.repeat(13).padEnd(20)}web\n`);
    const wide = formatTable(['X', 'Y'], [['x'.repeat(25), 'y']]);
    expect(wide.split('\n')[1]).toBe(`${'x'.repeat(25)}   y`);
  });

  it('shortens IDs to 13 characters unless asked not to', () => {
    expect(shortId('sha256:0123456789abcdef0123')).toBe('0123456789abc');
    expect(shortId('0123456789abcdef', true)).toBe('0123456789abcdef');
  });

  it('speaks durations like go-units', () => {
    expect(humanDuration(500)).toBe('Less than a second');
    expect(humanDuration(30_000)).toBe('30 seconds');
    expect(humanDuration(90_000)).toBe('About a minute');
    expect(humanDuration(3 * 3600_000)).toBe('3 hours');
    expect(humanDuration(5 * 24 * 3600_000)).toBe('5 days');
  });
});
