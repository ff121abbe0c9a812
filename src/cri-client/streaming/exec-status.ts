import { TskubeError } from '../../common/errors.js';

/**
 * How a remote command ended, read from the error channel. From v4 on the server writes a
 * metav1.Status as JSON: `Success`, or `Failure` with reason `NonZeroExitCode` and the code
 * in a cause of reason `ExitCode`. Before v4 the channel carries plain text, empty on success.
 */
export interface ExitStatus {
  exitCode: number;
}

interface StatusCause {
  reason?: string;
  message?: string;
}

interface Status {
  status?: string;
  message?: string;
  reason?: string;
  details?: { causes?: StatusCause[] };
}

/** Parses what arrived on the error channel; a failure that is not an exit code throws. */
export function parseExitStatus(text: string, structured: boolean): ExitStatus {
  const trimmed = text.trim();
  if (trimmed === '') return { exitCode: 0 };
  if (!structured) return parseLegacyError(trimmed);
  let status: Status;
  try {
    status = JSON.parse(trimmed) as Status;
  } catch {
    throw new TskubeError('internal', `streaming server sent an unreadable status: ${JSON.stringify(trimmed.slice(0, 200))}`);
  }
  if (status.status === 'Success') return { exitCode: 0 };
  if (status.reason === 'NonZeroExitCode') {
    const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
    const code = Number(cause?.message);
    if (Number.isInteger(code)) return { exitCode: code };
  }
  throw new TskubeError('unknown', status.message || `remote command failed (${trimmed.slice(0, 200)})`);
}

function parseLegacyError(text: string): ExitStatus {
  const match = /non-zero exit code.*exit code (\d+)\s*$/s.exec(text);
  if (match) return { exitCode: Number(match[1]) };
  throw new TskubeError('unknown', text);
}
