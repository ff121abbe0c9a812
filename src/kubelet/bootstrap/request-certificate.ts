import { setTimeout as sleep } from 'node:timers/promises';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { TskubeError } from '../../common/errors.js';
import { isRetryable, type CsrApi } from './csr-api.js';
import { csrOutcome, describeFinal } from './csr-status.js';
import { certificateRequestPem, csrObjectName, kubeletClientSigner, kubeletClientUsages, nodeSubject } from './key-and-request.js';

// Files a CertificateSigningRequest for the node's client certificate and waits,
// polling with backoff, until it is issued, denied or failed, or the time is up.

export interface RequestCertificateOptions {
  nodeName: string;
  keyPem: string;
  /** Requested lifetime; the signer may shorten it (minimum 600). */
  expirationSeconds?: number;
  timeoutMs: number;
  signal: AbortSignal;
  /** Called once the CSR exists, with its name (for logs and cleanup). */
  onCreated?: (name: string) => void;
}

export interface IssuedCertificate {
  csrName: string;
  certificatePem: string;
}

export function buildCsrObject(name: string, requestPem: string, expirationSeconds?: number): V1CertificateSigningRequest {
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    spec: {
      request: Buffer.from(requestPem).toString('base64'),
      signerName: kubeletClientSigner,
      usages: [...kubeletClientUsages],
      ...(expirationSeconds !== undefined && { expirationSeconds }),
    },
  };
}

const initialPollMs = 200;
const maxPollMs = 2000;

export async function requestClientCertificate(api: CsrApi, o: RequestCertificateOptions): Promise<IssuedCertificate> {
  const subject = nodeSubject(o.nodeName);
  const name = csrObjectName(o.keyPem, subject, kubeletClientUsages);
  const body = buildCsrObject(name, await certificateRequestPem(o.keyPem, subject), o.expirationSeconds);
  const deadline = Date.now() + o.timeoutMs;
  const signal = AbortSignal.any([o.signal, AbortSignal.timeout(o.timeoutMs)]);
  let delay = initialPollMs;
  let lastError: unknown;
  let created = false;
  for (;;) {
    try {
      const csr = created ? await abortable(api.read(name), signal) : await abortable(api.create(body), signal);
      if (!created) {
        created = true;
        o.onCreated?.(name);
      }
      const outcome = csrOutcome(csr);
      if (outcome.state === 'issued') return { csrName: name, certificatePem: outcome.certificatePem };
      if (outcome.state !== 'pending') throw new TskubeError('permission-denied', describeFinal(name, outcome));
      lastError = undefined;
    } catch (err) {
      if (o.signal.aborted) throw new TskubeError('canceled', `waiting for CertificateSigningRequest ${name}: canceled`, { cause: err });
      if (!isTimeout(signal, deadline) && !isRetryable(err)) throw err;
      lastError = err;
    }
    if (isTimeout(signal, deadline)) {
      const why = lastError ? `; last error: ${TskubeError.from(lastError).message}` : created ? ': it is still pending approval' : '';
      throw new TskubeError(
        'deadline-exceeded',
        `CertificateSigningRequest ${name} for node ${o.nodeName} not issued within ${Math.round(o.timeoutMs / 1000)}s${why}`,
        { cause: lastError },
      );
    }
    try {
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())), undefined, { signal });
    } catch {
      // Timed out or canceled while sleeping: the top of the loop reports which.
    }
    if (o.signal.aborted) throw new TskubeError('canceled', `waiting for CertificateSigningRequest ${name}: canceled`);
    delay = Math.min(delay * 2, maxPollMs);
  }
}

const isTimeout = (signal: AbortSignal, deadline: number) =>
  Date.now() >= deadline || (signal.aborted && signal.reason instanceof DOMException && signal.reason.name === 'TimeoutError');

// client-node takes no AbortSignal; stop waiting for a call when the signal fires.
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(TskubeError.from(signal.reason, 'canceled'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(TskubeError.from(signal.reason, 'canceled'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
