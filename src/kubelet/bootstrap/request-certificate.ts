import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { backoffDelay, type BackoffPolicy } from '../../common/backoff.js';
import { TskubeError } from '../../common/errors.js';
import { sleep } from '../../common/sleep.js';
import { isRetryable, type CsrApi } from './csr-api.js';
import { csrOutcome, describeFinal } from './csr-status.js';
import { certificateRequestPem, csrObjectName, kubeletClientSigner, kubeletClientUsages, nodeSubject } from './key-and-request.js';
import type { CsrAltNames } from './pkcs10.js';

// Files a CertificateSigningRequest for one of the node's certificates (its client
// certificate, or its serving certificate) and waits, polling with backoff, until it is
// issued, denied or failed, or the time is up.

export interface RequestCertificateOptions {
  nodeName: string;
  keyPem: string;
  /** Requested lifetime; the signer may shorten it (minimum 600). */
  expirationSeconds?: number;
  timeoutMs: number;
  signal: AbortSignal;
  /** Called once the CSR exists, with its name (for logs and cleanup). */
  onCreated?: (name: string) => void;
  /** Called at each look that finds it still waiting for approval. */
  onPending?: (name: string) => void;
  /** Longest wait between looks (default 2 s; a serving CSR that may wait for a human asks less often). */
  maxPollMs?: number;
}

export interface IssuedCertificate {
  csrName: string;
  certificatePem: string;
}

/** What distinguishes one kind of node certificate request from another. */
export interface CertificateKind {
  signerName: string;
  usages: readonly string[];
  altNames?: CsrAltNames;
  /** A fixed object name (the bootstrap's, so a restart finds its request), else a generated "csr-" one. */
  name?: string;
}

export function buildCsrObject(
  name: string,
  requestPem: string,
  expirationSeconds?: number,
  kind?: Omit<CertificateKind, 'name'>,
): V1CertificateSigningRequest {
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: name ? { name } : { generateName: 'csr-' },
    spec: {
      request: Buffer.from(requestPem).toString('base64'),
      signerName: kind?.signerName ?? kubeletClientSigner,
      usages: [...(kind?.usages ?? kubeletClientUsages)],
      ...(expirationSeconds !== undefined && { expirationSeconds }),
    },
  };
}

/** Polling the CSR for its certificate: 200 ms doubling to 2 s. */
const pollBackoff: BackoffPolicy = { initialMs: 200, maxMs: 2000, factor: 2, jitter: 0 };

export function requestClientCertificate(api: CsrApi, o: RequestCertificateOptions): Promise<IssuedCertificate> {
  const name = csrObjectName(o.keyPem, nodeSubject(o.nodeName), kubeletClientUsages);
  return requestCertificate(api, { signerName: kubeletClientSigner, usages: kubeletClientUsages, name }, o);
}

export async function requestCertificate(api: CsrApi, kind: CertificateKind, o: RequestCertificateOptions): Promise<IssuedCertificate> {
  const subject = nodeSubject(o.nodeName);
  let name = kind.name ?? '';
  const body = buildCsrObject(name, await certificateRequestPem(o.keyPem, subject, kind.altNames), o.expirationSeconds, kind);
  const deadline = Date.now() + o.timeoutMs;
  const signal = AbortSignal.any([o.signal, AbortSignal.timeout(o.timeoutMs)]);
  let polls = 0;
  let lastError: unknown;
  let created = false;
  for (;;) {
    try {
      const csr = created ? await abortable(api.read(name), signal) : await abortable(api.create(body), signal);
      if (!created) {
        created = true;
        name = csr.metadata?.name ?? name;
        o.onCreated?.(name);
      }
      const outcome = csrOutcome(csr);
      if (outcome.state === 'issued') return { csrName: name, certificatePem: outcome.certificatePem };
      if (outcome.state !== 'pending') throw new TskubeError('permission-denied', describeFinal(name, outcome));
      o.onPending?.(name);
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
    // Timed out or canceled while sleeping: the top of the loop reports which.
    await sleep(Math.min(backoffDelay({ ...pollBackoff, maxMs: o.maxPollMs ?? pollBackoff.maxMs }, polls++, 0), Math.max(0, deadline - Date.now())), signal);
    if (o.signal.aborted) throw new TskubeError('canceled', `waiting for CertificateSigningRequest ${name}: canceled`);
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
