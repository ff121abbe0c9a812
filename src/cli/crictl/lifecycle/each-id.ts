import { TskubeError } from '../../../common/errors.js';

/**
 * Runs `op` for each ID in turn and goes on past failures, as crictl's rm does, so
 * one bad ID does not leave the others untouched. Throws afterwards: the one error
 * as it is, or one error that lists every failure.
 */
export async function eachId(ids: readonly string[], op: (id: string) => Promise<void>): Promise<void> {
  const failures: TskubeError[] = [];
  for (const id of ids) {
    try {
      await op(id);
    } catch (err) {
      const e = TskubeError.from(err);
      if (e.code === 'canceled') throw e;
      failures.push(e);
    }
  }
  const [first] = failures;
  if (!first) return;
  if (failures.length === 1) throw first;
  throw new TskubeError(first.code, `${failures.length} of ${ids.length} failed: ${failures.map((f) => f.detail).join('; ')}`);
}
