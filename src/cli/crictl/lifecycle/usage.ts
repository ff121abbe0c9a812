import { TskubeError } from '../../../common/errors.js';

/** Checks the count of positional arguments; the message shows the usage line, as crictl's help does. */
export function expectArgs(positionals: readonly string[], count: number | { min: number }, usage: string): void {
  const ok = typeof count === 'number' ? positionals.length === count : positionals.length >= count.min;
  if (ok) return;
  const want = typeof count === 'number' ? `${count} argument${count === 1 ? '' : 's'}` : `at least ${count.min} argument${count.min === 1 ? '' : 's'}`;
  throw new TskubeError('invalid-argument', `want ${want}, got ${positionals.length} (usage: ${usage})`);
}
