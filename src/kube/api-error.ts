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
  details?: { causes?: { type?: string; message?: string; field?: string }[] };
}

export class KubeApiError extends TskubeError {
  /** HTTP status (or the Status object's code for errors inside a watch stream). */
  readonly status: number;
  /** metav1.StatusReason, e.g. NotFound, AlreadyExists, Conflict, Expired, Gone. */
  readonly reason: string;
  /** details.causes[].type of the Status, e.g. NamespaceTerminating, FieldValueInvalid. */
  readonly causes: readonly string[];

  constructor(status: number, reason: string, detail: string, options?: { cause?: unknown; causes?: readonly string[] }) {
    super(codeForStatus(status, reason), detail, options);
    this.status = status;
    this.reason = reason;
    this.causes = options?.causes ?? [];
  }

  static fromStatus(status: number, body: ApiStatus | undefined, what: string): KubeApiError {
    const reason = body?.reason ?? reasonForStatus(status);
    const message = body?.message ?? `HTTP ${status}`;
    const causes = (body?.details?.causes ?? []).map((c) => c.type ?? '').filter((t) => t !== '');
    return new KubeApiError(status, reason, `${what}: ${message} (HTTP ${status}, ${reason})`, { causes });
  }
}

/**
 * The apiserver refused because the object's namespace is being deleted. It names the
 * cause in details.causes for a ConfigMap, but not for an Event (seen with v1.36), so
 * the 403's wording counts too.
 */
export function isNamespaceTerminating(err: unknown): boolean {
  return (
    err instanceof KubeApiError &&
    (err.causes.includes('NamespaceTerminating') || (err.status === 403 && err.message.includes('because it is being terminated')))
  );
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
