import { TskubeError } from '../../common/errors.js';

// Kubernetes resource quantities ("100m", "1Gi", "2", "1e3") as used in kubeReserved,
// systemReserved and evictionHard. Values come back in base units: cores for cpu,
// bytes for memory and storage, a count for pids.

const suffixes: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

export function parseQuantity(text: string): number | undefined {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  if (m[3] !== undefined) return n * 10 ** Number(m[3]);
  return n * (suffixes[m[2] ?? ''] ?? 1);
}

export function requireQuantity(text: string, what: string): number {
  const q = parseQuantity(text);
  if (q === undefined) throw new TskubeError('invalid-argument', `${what}: invalid quantity "${text}" (want e.g. 100m, 512Mi, 1Gi)`);
  return q;
}
