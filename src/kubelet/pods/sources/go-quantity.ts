// The fields Go's resource.Quantity holds after decoding a JSON value, which go-spew
// prints when the upstream kubelet hashes a static pod: the same amount spelled "1000",
// "1k" or "1e3" is held (and hashed) differently. tskube's own arithmetic on quantities
// is src/kube/quantity.ts; this file only mirrors the representation: an int64 with a
// decimal scale when it fits, else an arbitrary-precision decimal, plus the original
// text when it is already canonical and the format the suffix implies.

/** Text Go's parser refuses (the pod would not decode upstream). */
export class QuantitySyntaxError extends Error {}

export interface GoQuantity {
  int?: { value: bigint; scale: number };
  dec?: { unscaled: bigint; scale: number };
  /** The cached canonical text (`s`), or ''. */
  text: string;
  format: 'DecimalSI' | 'BinarySI' | 'DecimalExponent' | '';
}

const nano = -9;
const maxInt64Factors = 18;
const maxInt64 = (1n << 63n) - 1n;
const decimalSuffixes: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const binarySuffixes: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

/**
 * The quantity a JSON string or number decodes to; `roundUpToMilli` applies what
 * upstream's defaulting does to every resource list value (RoundUp to milli scale).
 */
export function goQuantity(value: unknown, roundUpToMilli: boolean): GoQuantity {
  let text: string;
  if (typeof value === 'string') text = value.trim();
  else if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
  else throw new QuantitySyntaxError(`quantity: want a string or a number, not ${JSON.stringify(value)}`);
  const q = parseGoQuantity(text);
  return roundUpToMilli ? roundUp(q, -3) : q;
}

function parseGoQuantity(str: string): GoQuantity {
  if (str === '') throw new QuantitySyntaxError('quantity: empty');
  if (str === '0') return { int: { value: 0n, scale: 0 }, text: '0', format: 'DecimalSI' };
  const { positive, value, num, denom, suffix } = splitQuantity(str);
  const interpreted = interpretSuffix(suffix);
  if (!interpreted) throw new QuantitySyntaxError(`quantity ${JSON.stringify(str)}: unknown suffix`);
  const { base, exponent } = interpreted;
  let format = interpreted.format;

  let precision = 0;
  let scale = 0;
  let mantissa = 1n;
  if (format === 'BinarySI') {
    if (exponent >= 0 && denom.length === 0) {
      mantissa = 1n << BigInt(exponent);
      precision = 15 - num.length - Math.trunc((exponent * 3) / 10) - 1;
    } else {
      precision = -1;
    }
  } else {
    scale = exponent;
    precision = maxInt64Factors - (num.length + denom.length);
  }
  if (precision >= 0) {
    scale -= denom.length;
    if (scale >= nano) {
      const shifted = num + denom;
      const v = BigInt(shifted);
      const product = v * mantissa;
      if (product <= maxInt64) {
        const result = positive ? product : -product;
        const canonical = format === 'BinarySI' ? exponent % 10 === 0 && (v & 7n) !== 0n : scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0';
        return { int: { value: result, scale }, text: canonical ? str : '', format };
      }
    }
  }

  // The arbitrary-precision path (inf.Dec): the digits as written, the suffix folded in.
  const dot = value.indexOf('.');
  const digits = value.replace(/^[+-]/, '').replace('.', '');
  let unscaled = BigInt(digits === '' ? '0' : digits);
  let decScale = dot < 0 ? 0 : value.length - dot - 1;
  if (base === 10) decScale -= exponent;
  else unscaled *= 1n << BigInt(exponent);
  // Non-zero amounts round up (away from zero) to nano scale.
  if (unscaled !== 0n) ({ unscaled, scale: decScale } = roundDec({ unscaled, scale: decScale }, -nano));
  if (format === 'BinarySI' && compareDec({ unscaled, scale: decScale }, { unscaled: maxInt64, scale: 0 }) > 0) {
    unscaled = maxInt64;
    decScale = 0;
  }
  if (format === 'BinarySI' && unscaled > 0n && compareDec({ unscaled, scale: decScale }, { unscaled: 1n, scale: 0 }) < 0) format = 'DecimalSI';
  if (!positive) unscaled = -unscaled;
  return { dec: { unscaled, scale: decScale }, text: '', format };
}

/** Quantity.RoundUp: the int form only changes when finer than `scale`; the cached text goes when it does. */
function roundUp(q: GoQuantity, scale: number): GoQuantity {
  if (q.dec) return { ...q, text: '', dec: roundDec(q.dec, -scale) };
  const int = q.int ?? { value: 0n, scale: 0 };
  if (int.scale >= scale) return q;
  return { ...q, text: '', int: { value: scaleDownAwayFromZero(int.value, scale - int.scale), scale } };
}

/** int64Amount.AsScale: drop `places` decimal digits, rounding away from zero. */
function scaleDownAwayFromZero(value: bigint, places: number): bigint {
  const div = 10n ** BigInt(places);
  const q = value / div;
  if (value % div === 0n) return q;
  return value > 0n ? q + 1n : q - 1n;
}

/** inf.Dec.Round(x, scale, RoundUp): exactly `scale` digits after the point, away from zero. */
function roundDec(d: { unscaled: bigint; scale: number }, scale: number): { unscaled: bigint; scale: number } {
  if (d.scale <= scale) return { unscaled: d.unscaled * 10n ** BigInt(scale - d.scale), scale };
  return { unscaled: scaleDownAwayFromZero(d.unscaled, d.scale - scale), scale };
}

function compareDec(a: { unscaled: bigint; scale: number }, b: { unscaled: bigint; scale: number }): number {
  const s = Math.max(a.scale, b.scale);
  const x = a.unscaled * 10n ** BigInt(s - a.scale);
  const y = b.unscaled * 10n ** BigInt(s - b.scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

function interpretSuffix(suffix: string): { base: number; exponent: number; format: GoQuantity['format'] } | undefined {
  const dec = decimalSuffixes[suffix];
  if (dec !== undefined) return { base: 10, exponent: dec, format: 'DecimalSI' };
  const bin = binarySuffixes[suffix];
  if (bin !== undefined) return { base: 2, exponent: bin, format: 'BinarySI' };
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E') && /^[+-]?[0-9]+$/.test(suffix.slice(1)))
    return { base: 10, exponent: Number(suffix.slice(1)), format: 'DecimalExponent' };
  return undefined;
}

/** The parts of "±digits.digits suffix" as Go's parser cuts them (leading zeros dropped from the whole part). */
function splitQuantity(str: string): { positive: boolean; value: string; num: string; denom: string; suffix: string } {
  let pos = 0;
  let positive = true;
  if (str[0] === '-' || str[0] === '+') {
    positive = str[0] === '+';
    pos++;
  }
  while (pos < str.length && str[pos] === '0') pos++;
  if (pos >= str.length) return { positive, value: '0', num: '0', denom: '', suffix: '' };
  const digitsFrom = (from: number): number => {
    let i = from;
    while (i < str.length && str[i]! >= '0' && str[i]! <= '9') i++;
    return i;
  };
  const numEnd = digitsFrom(pos);
  const num = str.slice(pos, numEnd) || '0';
  if (numEnd >= str.length) return { positive, value: str, num, denom: '', suffix: '' };
  pos = numEnd;
  let denom = '';
  if (str[pos] === '.') {
    const denomEnd = digitsFrom(pos + 1);
    denom = str.slice(pos + 1, denomEnd);
    if (denomEnd >= str.length) return { positive, value: str, num, denom, suffix: '' };
    pos = denomEnd;
  }
  const value = str.slice(0, pos);
  const suffix = str.slice(pos);
  if (!/^[eEinumkKMGTP]*[+-]?[0-9]*$/.test(suffix)) throw new QuantitySyntaxError(`quantity ${JSON.stringify(str)}: not a quantity`);
  return { positive, value, num, denom, suffix };
}
