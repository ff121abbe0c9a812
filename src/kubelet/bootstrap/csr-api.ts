import { ApiException, CertificatesV1Api, type KubeConfig, type V1CertificateSigningRequest } from '@kubernetes/client-node';
import { TskubeError } from '../../common/errors.js';
import { clientNodeError } from '../../kube/client-node-error.js';

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
        throw clientNodeError(err, `creating CertificateSigningRequest ${name}`);
      }
    },
    async read(name) {
      try {
        return await api.readCertificateSigningRequest({ name });
      } catch (err) {
        throw clientNodeError(err, `reading CertificateSigningRequest ${name}`);
      }
    },
  };
}

/** Failures worth retrying: the server or the network, not a refusal. */
export function isRetryable(err: unknown): boolean {
  return err instanceof TskubeError && ['unavailable', 'deadline-exceeded', 'resource-exhausted', 'unknown', 'internal'].includes(err.code);
}
