/**
 * The one error type of the project. Its code says what kind of failure it is, so
 * callers branch on `code`, never on message text; the code also leads the message,
 * so a log line or a CLI error says it without a stack trace.
 */
export const errorCodes = [
  'invalid-argument',
  'not-found',
  'already-exists',
  'failed-precondition',
  'permission-denied',
  'unavailable',
  'deadline-exceeded',
  'unimplemented',
  'canceled',
  'resource-exhausted',
  'internal',
  'unknown',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export class TskubeError extends Error {
  override readonly name = 'TskubeError';
  readonly code: ErrorCode;
  /** The message without the leading code, for output that prints the code elsewhere. */
  readonly detail: string;

  constructor(code: ErrorCode, detail: string, options?: { cause?: unknown }) {
    super(`${code}: ${detail}`, options);
    this.code = code;
    this.detail = detail;
  }

  /** Normalises anything thrown into a TskubeError, keeping the original as `cause`. */
  static from(err: unknown, fallback: ErrorCode = 'unknown'): TskubeError {
    if (err instanceof TskubeError) return err;
    if (err instanceof Error) {
      if (err.name === 'AbortError') return new TskubeError('canceled', err.message, { cause: err });
      if (err.name === 'TimeoutError') return new TskubeError('deadline-exceeded', err.message, { cause: err });
      return new TskubeError(fallback, err.message, { cause: err });
    }
    return new TskubeError(fallback, String(err));
  }

  /** Adds context in front of the detail, keeping the code: "doing X: <detail>". */
  wrap(context: string): TskubeError {
    return new TskubeError(this.code, `${context}: ${this.detail}`, { cause: this });
  }
}

/** The message of anything thrown: an Error's message, else the value as text. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function isCode(err: unknown, code: ErrorCode): boolean {
  return err instanceof TskubeError && err.code === code;
}
