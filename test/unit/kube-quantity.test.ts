import { describe, expect, it } from 'vitest';
import { TskubeError } from '../../src/common/errors.js';
import { cpuMillis, memoryBytes, parseQuantity, quantityMillis, quantityValue, tryParseQuantity } from '../../src/kube/quantity.js';

describe('parseQuantity', () => {
  it('reads plain numbers, decimal and binary suffixes, and exponents', () => {
    expect(parseQuantity('1.5')).toBe(1.5);
    expect(parseQuantity('100m')).toBeCloseTo(0.1);
    expect(parseQuantity('128Mi')).toBe(128 * 1024 * 1024);
    expect(parseQuantity('2Ki')).toBe(2048);
    expect(parseQuantity('1G')).toBe(1e9);
    expect(parseQuantity('1k')).toBe(1000);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity('1E3')).toBe(1000);
    expect(parseQuantity('5e-3')).toBeCloseTo(0.005);
    expect(parseQuantity('.5')).toBe(0.5);
    expect(parseQuantity(2)).toBe(2);
    expect(parseQuantity(0.25)).toBe(0.25);
    expect(parseQuantity('1Ei')).toBe(2 ** 60);
    expect(parseQuantity('-1')).toBe(-1);
  });

  it('says which value and field are wrong', () => {
    expect(() => parseQuantity('12 Mi')).toThrow(TskubeError);
    expect(() => parseQuantity('abc', 'spec.containers[web].resources.limits.memory')).toThrow(
      'invalid-argument: spec.containers[web].resources.limits.memory: quantity "abc" is not valid',
    );
    expect(() => parseQuantity('1mi')).toThrow('quantity "1mi" is not valid');
    expect(() => parseQuantity('')).toThrow('quantity "" is not valid');
    expect(() => parseQuantity('1e999')).toThrow('exponent 999 is out of range');
    expect(() => parseQuantity(Number.NaN)).toThrow('not a finite number');
  });
});

describe('quantityMillis / quantityValue', () => {
  it('gives millicores, rounding up like MilliValue()', () => {
    expect(cpuMillis('100m')).toBe(100);
    expect(cpuMillis('1.5')).toBe(1500);
    expect(cpuMillis('2')).toBe(2000);
    expect(cpuMillis('0.0001')).toBe(1);
    expect(quantityMillis('250u')).toBe(1);
    expect(cpuMillis('0')).toBe(0);
  });

  it('gives integer values (bytes), rounding up like Value()', () => {
    expect(memoryBytes('128Mi')).toBe(134217728);
    expect(memoryBytes('1Gi')).toBe(1073741824);
    expect(memoryBytes('1.5')).toBe(2);
    expect(memoryBytes('100m')).toBe(1);
    expect(quantityValue('1e3')).toBe(1000);
    expect(quantityValue('0.5Ki')).toBe(512);
  });

  it('refuses values too large to hold exactly', () => {
    expect(() => memoryBytes('100Ei')).toThrow('too large');
  });
});

describe('tryParseQuantity', () => {
  it('parses binary and decimal suffixes', () => {
    expect(tryParseQuantity('100m')).toBeCloseTo(0.1);
    expect(tryParseQuantity('1Gi')).toBe(2 ** 30);
    expect(tryParseQuantity('2k')).toBe(2000);
    expect(tryParseQuantity('1e3')).toBe(1000);
    expect(tryParseQuantity('1GB')).toBeUndefined();
  });
});
