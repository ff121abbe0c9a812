import { TskubeError } from '../../../common/errors.js';

/** How many of the newest items --latest / --last keep; undefined keeps them all. */
export function recentLimit(latest: boolean, last: number): number | undefined {
  if (last > 0) return last;
  return latest ? 1 : undefined;
}

/** Parses --last/-n, a whole number where 0 means unlimited. */
export function parseLast(text: string | undefined): number {
  if (text === undefined) return 0;
  if (!/^\d+$/.test(text.trim())) throw new TskubeError('invalid-argument', `--last: invalid value "${text}" (want a whole number, 0 for unlimited)`);
  return Number(text);
}

/** Newest first by a nanosecond timestamp given as a decimal string (exact, no float rounding). */
export function newestFirst<T>(items: readonly T[], createdAt: (item: T) => string): T[] {
  return [...items].sort((a, b) => {
    const x = BigInt(createdAt(a) || '0');
    const y = BigInt(createdAt(b) || '0');
    return x === y ? 0 : x < y ? 1 : -1;
  });
}
