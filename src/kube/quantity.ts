import { TskubeError } from '../common/errors.js';

/**
 * Kubernetes resource quantities ("100m", "1.5", "128Mi", "1G", "1e3"), parsed exactly:
 * the project's one parser, for pod resources, KubeletConfiguration fields and Node status.
 *
 * The value is kept as a fraction of two bigints so "0.1" times 1000 is exactly 100 and
 * rounding happens once, upward, as the API machinery's Value()/MilliValue() do.
 */
export interface ExactQuantity {
  num: bigint;
  /** Always positive. */
  den: bigint;
}

const quantityPattern = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;

const binaryShift: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const decimalExponent: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/** Beyond this a quantity cannot mean anything on a node; refusing keeps bigint work small. */
const maxDecimalExponent = 60;

function invalid(q: string | number, field: string | undefined, why: string): TskubeError {
  const where = field ? `${field}: ` : '';
  return new TskubeError('invalid-argument', `${where}quantity ${JSON.stringify(q)} is not valid: ${why}`);
}

export function parseExactQuantity(q: string | number, field?: string): ExactQuantity {
  let text: string;
  if (typeof q === 'number') {
    if (!Number.isFinite(q)) throw invalid(q, field, 'not a finite number');
    text = String(q);
  } else if (typeof q === 'string') {
    text = q.trim();
  } else {
    throw invalid(String(q), field, 'want a string or a number');
  }
  const m = quantityPattern.exec(text);
  if (!m) throw invalid(q, field, 'want a number with an optional suffix (100m, 1.5, 128Mi, 1G, 1e3)');
  const sign = m[1] === '-' ? -1n : 1n;
  const digits = m[2] ?? '0';
  const suffix = m[3] ?? '';
  const dot = digits.indexOf('.');
  const whole = dot < 0 ? digits : digits.slice(0, dot) + digits.slice(dot + 1);
  let num = BigInt(whole === '' ? '0' : whole) * sign;
  let den = dot < 0 ? 1n : 10n ** BigInt(digits.length - dot - 1);
  let exp10 = 0;
  if (suffix in binaryShift) {
    num *= 1n << BigInt(binaryShift[suffix] ?? 0);
  } else if (suffix in decimalExponent) {
    exp10 = decimalExponent[suffix] ?? 0;
  } else if (suffix !== '') {
    exp10 = Number(suffix.slice(1));
  }
  if (Math.abs(exp10) > maxDecimalExponent) throw invalid(q, field, `exponent ${exp10} is out of range`);
  if (exp10 > 0) num *= 10n ** BigInt(exp10);
  else if (exp10 < 0) den *= 10n ** BigInt(-exp10);
  return { num, den };
}

/** Divides rounding away from zero, as resource.Quantity rounds (RoundUp). */
function divAwayFromZero(num: bigint, den: bigint): bigint {
  const q = num / den;
  return num % den === 0n ? q : num < 0n ? q - 1n : q + 1n;
}

function toSafeNumber(v: bigint, q: string | number, field: string | undefined): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(q, field, 'too large');
  return Number(v);
}

/** The plain value of a quantity ("1.5" → 1.5, "128Mi" → 134217728, "100m" → 0.1). */
export function parseQuantity(q: string | number, field?: string): number {
  const { num, den } = parseExactQuantity(q, field);
  return Number(num) / Number(den);
}

/** The value in thousandths, rounded up: cpu "100m" → 100, "1.5" → 1500, "0.0001" → 1. */
export function quantityMillis(q: string | number, field?: string): number {
  const { num, den } = parseExactQuantity(q, field);
  return toSafeNumber(divAwayFromZero(num * 1000n, den), q, field);
}

/** The integer value, rounded up: memory "128Mi" → 134217728, "1.5" → 2. */
export function quantityValue(q: string | number, field?: string): number {
  const { num, den } = parseExactQuantity(q, field);
  return toSafeNumber(divAwayFromZero(num, den), q, field);
}

/** Millicores of a cpu quantity. */
export const cpuMillis = quantityMillis;
/** Bytes of a memory (or storage) quantity. */
export const memoryBytes = quantityValue;

/** The value, or undefined when `text` is not a quantity (for readers that report their own error). */
export function tryParseQuantity(text: string): number | undefined {
  try {
    return parseQuantity(text);
  } catch {
    return undefined;
  }
}

/** The value, or an invalid-argument error naming `what` (a flag or configuration field). */
export function requireQuantity(text: string, what: string): number {
  const q = tryParseQuantity(text);
  if (q === undefined) throw new TskubeError('invalid-argument', `${what}: invalid quantity "${text}" (want e.g. 100m, 512Mi, 1Gi)`);
  return q;
}

// Quantities written the way the apiserver writes them back (canonical form), so a status
// the kubelet builds compares equal to the one stored and no patch goes out for a mere
// change of spelling.

const binarySuffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/** Bytes as a BinarySI quantity: the largest power of 1024 that divides it exactly. */
export function formatBytes(bytes: number): string {
  let n = Math.max(0, Math.floor(bytes));
  if (n < 1024) return String(n);
  let i = 0;
  while (i < binarySuffixes.length - 1 && n % 1024 === 0) {
    n /= 1024;
    i++;
  }
  return `${n}${binarySuffixes[i] ?? ''}`;
}

/** CPU millicores as a DecimalSI quantity: "2" for whole cores, else "1900m". */
export function formatCpuMillis(millis: number): string {
  const m = Math.max(0, Math.floor(millis));
  return m % 1000 === 0 ? String(m / 1000) : `${m}m`;
}

/** Whether two resource lists hold the same amounts, however each is spelled. */
export function sameResources(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  const kb = Object.keys(b ?? {});
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    const x = a?.[k];
    const y = b?.[k];
    if (x === undefined || y === undefined) return false;
    if (x !== y && tryParseQuantity(x) !== tryParseQuantity(y)) return false;
  }
  return true;
}
