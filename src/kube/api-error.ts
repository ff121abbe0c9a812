// An error answered by the apiserver: the HTTP status and the Status reason travel
// with it, so callers branch on `reason` ("AlreadyExists", "Expired", ...) the way
// client-go's apierrors.IsAlreadyExists does, never on message text.
import { type ErrorCode, TskubeError } from '../common/errors.js';

/** The parts of a metav1.Status the client looks at. */
export interface ApiStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
}

export class KubeApiError extends TskubeError {
  /** HTTP status (or the Status object's code for errors inside a watch stream). */
  readonly status: number;
  /** metav1.StatusReason, e.g. NotFound, AlreadyExists, Conflict, Expired, Gone. */
  readonly reason: string;

  constructor(status: number, reason: string, detail: string, options?: { cause?: unknown }) {
    super(codeForStatus(status, reason), detail, options);
    this.status = status;
    this.reason = reason;
  }

  static fromStatus(status: number, body: ApiStatus | undefined, what: string): KubeApiError {
    const reason = body?.reason ?? reasonForStatus(status);
    const message = body?.message ?? `HTTP ${status}`;
    return new KubeApiError(status, reason, `${what}: ${message} (HTTP ${status}, ${reason})`);
  }
}

export function isApiError(err: unknown, reason: string): boolean {
  return err instanceof KubeApiError && err.reason === reason;
}

/** 410 Gone, or "Expired": the resourceVersion asked for is no longer available. */
export function isResourceExpired(err: unknown): boolean {
  return err instanceof KubeApiError && (err.status === 410 || err.reason === 'Expired' || err.reason === 'Gone');
}

function codeForStatus(status: number, reason: string): ErrorCode {
  if (reason === 'AlreadyExists') return 'already-exists';
  switch (status) {
    case 400:
    case 422:
      return 'invalid-argument';
    case 401:
    case 403:
      return 'permission-denied';
    case 404:
      return 'not-found';
    case 409:
    case 410:
    case 412:
      return 'failed-precondition';
    case 429:
      return 'resource-exhausted';
    case 504:
      return 'deadline-exceeded';
    default:
      return status >= 500 ? 'unavailable' : 'unknown';
  }
}

function reasonForStatus(status: number): string {
  const reasons: Record<number, string> = {
    400: 'BadRequest',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'NotFound',
    405: 'MethodNotAllowed',
    409: 'Conflict',
    410: 'Gone',
    422: 'Invalid',
    429: 'TooManyRequests',
    500: 'InternalError',
    503: 'ServiceUnavailable',
    504: 'Timeout',
  };
  return reasons[status] ?? 'Unknown';
}
