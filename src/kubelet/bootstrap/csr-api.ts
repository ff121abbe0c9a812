import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import type { Kubeconfig } from '../../kube/kubeconfig.js';
import { TskubeError } from '../../common/errors.js';
import { KubeApiError } from '../../kube/api-error.js';
import { RestClient } from '../../kube/rest-client.js';

// The two CertificateSigningRequest calls the bootstrap makes, over the project's
// RestClient (client-node's typed APIs bring all its generated API classes: docs/memory.md).

export interface CsrApi {
  /** Creates the CSR; if one of that name exists already, returns it instead. */
  create(csr: V1CertificateSigningRequest): Promise<V1CertificateSigningRequest>;
  read(name: string): Promise<V1CertificateSigningRequest>;
}

const csrPath = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

export function csrApi(kc: Kubeconfig): CsrApi {
  const rest = new RestClient(kc, { userAgent: 'tskube-kubelet (tls bootstrap)' });
  return {
    async create(body) {
      const name = body.metadata?.name ?? '';
      try {
        return await rest.request<V1CertificateSigningRequest>('POST', csrPath, { body });
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 409 && name) return this.read(name);
        throw TskubeError.from(err, 'unavailable').wrap(`creating CertificateSigningRequest ${name}`);
      }
    },
    async read(name) {
      try {
        return await rest.request<V1CertificateSigningRequest>('GET', `${csrPath}/${encodeURIComponent(name)}`);
      } catch (err) {
        throw TskubeError.from(err, 'unavailable').wrap(`reading CertificateSigningRequest ${name}`);
      }
    },
  };
}

/** Failures worth retrying: the server or the network, not a refusal. */
export function isRetryable(err: unknown): boolean {
  return err instanceof TskubeError && ['unavailable', 'deadline-exceeded', 'resource-exhausted', 'unknown', 'internal'].includes(err.code);
}
