import type { Logger } from 'pino';
import { TskubeError } from '../../common/errors.js';
import type { CallOptions } from '../../cri-client/service-caller.js';

/**
 * Runs a cleanup (undoing half of a step, stopping what is being removed) under its own
 * deadline, never the caller's signal, which may be what ended the step. A cleanup that
 * fails leaves something behind: it is logged as `<what> failed`, and the caller goes on.
 */
export async function cleanup(log: Logger, what: string, fields: object, timeoutMs: number, fn: (o: CallOptions) => Promise<unknown>): Promise<void> {
  try {
    await fn({ timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    log.warn({ ...fields, err: TskubeError.from(err).message }, `${what} failed`);
  }
}
