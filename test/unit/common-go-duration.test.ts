import { describe, expect, it } from 'vitest';
import { formatGoDuration, parseGoDuration } from '../../src/common/go-duration.js';

describe('Go durations', () => {
  it('parses what metav1.Duration accepts', () => {
    expect(parseGoDuration('10s')).toBe(10_000);
    expect(parseGoDuration('5m0s')).toBe(300_000);
    expect(parseGoDuration('1h30m')).toBe(5_400_000);
    expect(parseGoDuration('1.5s')).toBe(1500);
    expect(parseGoDuration('100ms')).toBe(100);
    expect(parseGoDuration('-2s')).toBe(-2000);
    expect(parseGoDuration('0')).toBe(0);
    for (const bad of ['', '10', 's', '1d', '10 s', '1m-1s']) expect(parseGoDuration(bad)).toBeUndefined();
  });

  it('prints the way Go does', () => {
    expect([0, 100, 10_000, 300_000, 3_600_000, 5_400_500].map(formatGoDuration)).toEqual(['0s', '100ms', '10s', '5m0s', '1h0m0s', '1h30m0.5s']);
  });
});
