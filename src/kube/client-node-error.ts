// Failures of @kubernetes/client-node calls as the project's errors. client-node throws
// ApiException for an answer and fetch's bare "fetch failed" TypeError for a network
// failure, whose useful part ("connect ECONNREFUSED 127.0.0.1:6443") is in its cause.
import { ApiException } from '@kubernetes/client-node';
import { TskubeError } from '../common/errors.js';
import { type ApiStatus, KubeApiError } from './api-error.js';

/** `doing` names the call ("patching the status of pod ns/name"); it leads the message. */
export function clientNodeError(err: unknown, doing: string): TskubeError {
  if (err instanceof TskubeError) return err.wrap(doing);
  if (err instanceof ApiException) {
    const apiError = KubeApiError.fromStatus(err.code, statusOf(err.body), doing);
    return new KubeApiError(apiError.status, apiError.reason, apiError.detail, { cause: err, causes: apiError.causes });
  }
  const network = networkCause(err);
  if (network) return new TskubeError('unavailable', `${doing}: ${network}`, { cause: err });
  return TskubeError.from(err, 'unavailable').wrap(doing);
}

/** The body is a metav1.Status as text or parsed, or something a proxy answered. */
function statusOf(body: unknown): ApiStatus | undefined {
  if (typeof body === 'object' && body !== null) return body as ApiStatus;
  if (typeof body !== 'string') return undefined;
  try {
    return JSON.parse(body) as ApiStatus;
  } catch {
    return body ? { message: body.slice(0, 200) } : undefined;
  }
}

function networkCause(err: unknown): string | undefined {
  if (!(err instanceof TypeError) || err.message !== 'fetch failed') return undefined;
  const cause: unknown = err.cause;
  return cause instanceof Error ? cause.message : 'the connection to the API server failed';
}
