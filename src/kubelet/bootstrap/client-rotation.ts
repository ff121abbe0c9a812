import { TskubeError } from '../../common/errors.js';
import { rotationDeadline } from './cert-files.js';
import { readCurrentPair, storeClientPair, type ClientPair } from './cert-store.js';
import { csrApi, type CsrApi } from './csr-api.js';
import { checkIssued } from './client-bootstrap.js';
import { newClientKeyPem } from './key-and-request.js';
import { loadKubeconfig } from './kubeconfig-files.js';
import { requestClientCertificate } from './request-certificate.js';
import { backoffDelay, type BackoffPolicy } from '../../common/backoff.js';
import { sleep } from '../../common/sleep.js';

// Renews the kubelet's client certificate at a jittered 70–90% of its lifetime,
// authenticating as the node itself (the kubeconfig written by the bootstrap points at
// kubelet-client-current.pem, so switching the symlink is all a renewal changes).
//
//   waiting ──deadline──► renewing ──issued──► waiting (next deadline)
//      ▲                      │ error
//      └──── backoff (2 s doubling to 5 min) ◄┘

export interface ClientRotationOptions {
  kubeconfigPath: string;
  certDir: string;
  nodeName: string;
  expirationSeconds?: number;
  /** Wait for each CSR (default 15 min). */
  timeoutMs?: number;
  random?: () => number;
  now?: () => Date;
  log?: (event: RotationEvent) => void;
  /** Called after each renewal, so clients holding the old certificate reconnect. */
  onRotated?: (pair: ClientPair) => void;
  api?: () => CsrApi;
}

export type RotationEvent =
  | { event: 'rotation-scheduled'; notAfter: string; deadline: string }
  | { event: 'rotated'; csrName: string; file: string; notAfter: string }
  | { event: 'rotation-failed'; error: string; retryInMs: number };

/** A failed renewal: again after 2 s, doubling to 5 min. */
const renewBackoff: BackoffPolicy = { initialMs: 2000, maxMs: 300_000, factor: 2, jitter: 0 };
// setTimeout cannot wait longer than 2^31-1 ms (~24.8 days); wait in slices.
const maxSleepMs = 2 ** 31 - 1;

export class ClientCertificateRotator {
  readonly #o: ClientRotationOptions;
  constructor(options: ClientRotationOptions) {
    this.#o = options;
  }

  /** Runs until `signal` aborts; never rejects for a failed renewal (it retries). */
  async run(signal: AbortSignal): Promise<void> {
    const now = this.#o.now ?? (() => new Date());
    const random = this.#o.random ?? Math.random;
    const log = this.#o.log ?? (() => {});
    let failures = 0;
    while (!signal.aborted) {
      try {
        const pair = await readCurrentPair(this.#o.certDir);
        if (!pair) throw new TskubeError('not-found', `no usable ${this.#o.certDir}/kubelet-client-current.pem to renew`);
        const deadline = rotationDeadline(new Date(pair.cert.validFrom), new Date(pair.cert.validTo), random());
        log({ event: 'rotation-scheduled', notAfter: new Date(pair.cert.validTo).toISOString(), deadline: deadline.toISOString() });
        await sleepUntil(deadline, now, signal);
        if (signal.aborted) return;
        const renewed = await this.renew(signal, now());
        log({ event: 'rotated', csrName: renewed.csrName, file: renewed.pair.file, notAfter: new Date(renewed.pair.cert.validTo).toISOString() });
        this.#o.onRotated?.(renewed.pair);
        failures = 0;
      } catch (err) {
        if (signal.aborted) return;
        const retryInMs = backoffDelay(renewBackoff, failures++, 0);
        log({ event: 'rotation-failed', error: TskubeError.from(err).message, retryInMs });
        await sleep(retryInMs, signal);
      }
    }
  }

  /** Requests and stores a new certificate now. */
  async renew(signal: AbortSignal, at: Date = new Date()): Promise<{ csrName: string; pair: ClientPair }> {
    const api = this.#o.api?.() ?? csrApi(loadKubeconfig(this.#o.kubeconfigPath, '--kubeconfig'));
    const keyPem = newClientKeyPem();
    const issued = await requestClientCertificate(api, {
      nodeName: this.#o.nodeName,
      keyPem,
      timeoutMs: this.#o.timeoutMs ?? 900_000,
      signal,
      ...(this.#o.expirationSeconds !== undefined && { expirationSeconds: this.#o.expirationSeconds }),
    });
    const certPem = checkIssued(issued.certificatePem, keyPem, issued.csrName, this.#o.nodeName);
    await storeClientPair(this.#o.certDir, certPem, keyPem, at);
    const pair = await readCurrentPair(this.#o.certDir);
    if (!pair) throw new TskubeError('internal', `${this.#o.certDir}: the renewed certificate cannot be read back`);
    return { csrName: issued.csrName, pair };
  }
}

async function sleepUntil(deadline: Date, now: () => Date, signal: AbortSignal): Promise<void> {
  for (let left = deadline.getTime() - now().getTime(); left > 0 && !signal.aborted; left = deadline.getTime() - now().getTime()) {
    await sleep(Math.min(left, maxSleepMs), signal);
  }
}
