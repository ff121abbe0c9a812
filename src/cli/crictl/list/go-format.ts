// Number and time spellings crictl inherits from Go (fmt's %g, go-units, time.Time),
// so tables and inspect output read the same as upstream's.

/** Go's fmt "%.<precision>g": significant digits, exponent form for very large or small, no trailing zeros. */
export function formatG(x: number, precision: number): string {
  if (x === 0) return '0';
  const [mantissa = '0', expText = '0'] = x.toExponential(precision - 1).split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= precision) {
    const m = trimZeros(mantissa);
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return trimZeros(x.toFixed(Math.max(0, precision - 1 - exp)));
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

const decimalUnits = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** go-units HumanSizeWithPrecision: decimal (1000-based) units, e.g. "4.27MB". */
export function humanSize(bytes: number | string, precision = 4): string {
  let size = Number(bytes);
  let i = 0;
  while (size >= 1000 && i < decimalUnits.length - 1) {
    size /= 1000;
    i++;
  }
  return `${formatG(size, precision)}${decimalUnits[i]}`;
}

function splitNanos(nanos: string | bigint): { date: Date; fraction: string } {
  const n = BigInt(nanos || 0);
  let seconds = n / 1_000_000_000n;
  let rest = n % 1_000_000_000n;
  if (rest < 0n) {
    rest += 1_000_000_000n;
    seconds -= 1n;
  }
  const digits = rest === 0n ? '' : String(rest).padStart(9, '0').replace(/0+$/, '');
  return { date: new Date(Number(seconds) * 1000), fraction: digits ? `.${digits}` : '' };
}

/** time.Unix(0, nanos).Format(time.RFC3339Nano), in UTC. */
export function rfc3339Nano(nanos: string | bigint): string {
  const { date, fraction } = splitNanos(nanos);
  return `${date.toISOString().slice(0, 19)}${fraction}Z`;
}

/** Go's zero time.Time in RFC 3339, which crictl prints for times that never happened. */
export const zeroTimeRfc3339 = '0001-01-01T00:00:00Z';

/** time.Unix(0, nanos) printed with %v, in UTC: "2024-05-01 10:00:00.5 +0000 UTC". */
export function goTimeString(nanos: string | bigint): string {
  const { date, fraction } = splitNanos(nanos);
  const iso = date.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction} +0000 UTC`;
}

/** A Go map[string]string printed with %v: "map[a:1 b:2]", keys sorted. */
export function goMapString(m: Readonly<Record<string, string>>): string {
  return `map[${Object.keys(m)
    .sort()
    .map((k) => `${k}:${m[k]}`)
    .join(' ')}]`;
}
