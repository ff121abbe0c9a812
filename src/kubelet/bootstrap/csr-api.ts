import { ApiException, CertificatesV1Api, type KubeConfig, type V1CertificateSigningRequest } from '@kubernetes/client-node';
import { TskubeError, type ErrorCode } from '../../common/errors.js';

// The two CertificateSigningRequest calls the bootstrap makes, over client-node.

export interface CsrApi {
  /** Creates the CSR; if one of that name exists already, returns it instead. */
  create(csr: V1CertificateSigningRequest): Promise<V1CertificateSigningRequest>;
  read(name: string): Promise<V1CertificateSigningRequest>;
}

export function csrApi(kc: KubeConfig): CsrApi {
  const api = kc.makeApiClient(CertificatesV1Api);
  return {
    async create(body) {
      const name = body.metadata?.name ?? '';
      try {
        return await api.createCertificateSigningRequest({ body });
      } catch (err) {
        if (err instanceof ApiException && err.code === 409 && name) return this.read(name);
        throw apiError(err, `creating CertificateSigningRequest ${name}`);
      }
    },
    async read(name) {
      try {
        return await api.readCertificateSigningRequest({ name });
      } catch (err) {
        throw apiError(err, `reading CertificateSigningRequest ${name}`);
      }
    },
  };
}

const byStatus: Record<number, ErrorCode> = { 400: 'invalid-argument', 401: 'permission-denied', 403: 'permission-denied', 404: 'not-found', 409: 'already-exists', 422: 'invalid-argument', 429: 'unavailable' };

/** Maps a client-node failure to a TskubeError; the code says whether a retry can help. */
export function apiError(err: unknown, doing: string): TskubeError {
  if (err instanceof ApiException) {
    const body: unknown = err.body;
    const message = typeof body === 'string' ? safeMessage(body) : (body as { message?: string } | undefined)?.message;
    return new TskubeError(byStatus[err.code] ?? 'unavailable', `${doing}: HTTP ${err.code}${message ? `: ${message}` : ''}`, { cause: err });
  }
  return TskubeError.from(err, 'unavailable').wrap(doing);
}

function safeMessage(body: string): string {
  try {
    return (JSON.parse(body) as { message?: string }).message ?? body;
  } catch {
    return body.slice(0, 200);
  }
}

/** Failures worth retrying: the server or the network, not a refusal. */
export function isRetryable(err: unknown): boolean {
  return err instanceof TskubeError && (err.code === 'unavailable' || err.code === 'deadline-exceeded' || err.code === 'unknown' || err.code === 'internal');
}
