// Resource quantities written the way the apiserver writes them back (canonical form),
// so the status we build compares equal to the one stored and no patch is sent for a
// mere change of spelling.
import { parseQuantity } from '../config/quantity.js';

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
    if (x !== y && parseQuantity(x) !== parseQuantity(y)) return false;
  }
  return true;
}
