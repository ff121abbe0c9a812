import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { TskubeError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { sleep } from '../../common/sleep.js';
import { rotationDeadline, serverPairPrefix } from './cert-files.js';
import { isCurrentlyValid, readCurrentPair, storeClientPair } from './cert-store.js';
import { checkIssued } from './client-bootstrap.js';
import { csrApi, type CsrApi } from './csr-api.js';
import { kubeletServingSigner, kubeletServingUsages, newClientKeyPem } from './key-and-request.js';
import { loadKubeconfig } from './kubeconfig-files.js';
import type { CsrAltNames } from './pkcs10.js';
import { requestCertificate } from './request-certificate.js';
import { loadOrCreateSelfSigned } from './self-signed.js';

// Where the kubelet's HTTPS serving certificate comes from, first match wins (upstream's
// order):
//
//   serverTLSBootstrap ──► <cert-dir>/kubelet-server-current.pem, requested through a
//        │                 kubernetes.io/kubelet-serving CSR and renewed at 70–90 % of its life
//        ▼ off
//   tlsCertFile + tlsPrivateKeyFile ──► those files, re-read when they change
//        ▼ neither
//   self-signed ──► <cert-dir>/kubelet.crt and kubelet.key, made once, remade at expiry
//
// Nobody approves kubelet-serving CSRs on kubeadm clusters: while one waits, the log says
// so every ten minutes with the command that approves it, and `pendingNote()` gives the
// same words for the Node's Ready condition.

export interface ServingPair {
  certPem: string;
  keyPem: string;
  notAfter: Date;
  source: 'bootstrap' | 'files' | 'self-signed';
}

export interface ServingCertificateOptions {
  certDir: string;
  nodeName: string;
  tlsCertFile: string;
  tlsPrivateKeyFile: string;
  serverTLSBootstrap: boolean;
  /** The names the certificate is for: the node name and the node's IPs. */
  altNames: () => CsrAltNames;
  /** The node's kubeconfig, for CSRs; absent in standalone mode (bootstrap then falls back to self-signed). */
  kubeconfigPath?: string | undefined;
  api?: () => CsrApi;
  log: Logger;
  now?: () => Date;
  random?: () => number;
  /** How often certificate files are looked at for changes (upstream watches them). */
  filePollMs?: number;
}

const pendingReminderMs = 10 * 60_000;
const retryMs = { initial: 2000, max: 300_000 };

export class ServingCertificates {
  readonly #o: ServingCertificateOptions;
  readonly #now: () => Date;
  readonly #listeners = new Set<(pair: ServingPair) => void>();
  #current: ServingPair | undefined;
  #pending: string | undefined;
  #firstReady!: (pair: ServingPair) => void;
  /** Resolves with the first pair; the HTTPS server listens from then on. */
  readonly ready: Promise<ServingPair>;

  constructor(options: ServingCertificateOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
    this.ready = new Promise((resolve) => (this.#firstReady = resolve));
  }

  get current(): ServingPair | undefined {
    return this.#current;
  }

  get mode(): ServingPair['source'] {
    if (this.#o.serverTLSBootstrap && this.#o.kubeconfigPath) return 'bootstrap';
    return this.#o.tlsCertFile || this.#o.tlsPrivateKeyFile ? 'files' : 'self-signed';
  }

  /** Called with each new pair after the first. */
  onChange(listener: (pair: ServingPair) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** While a serving CSR waits for approval: what to tell the operator; else undefined. */
  pendingNote(): string | undefined {
    return this.#pending
      ? `serving certificate: CertificateSigningRequest ${this.#pending} waits for approval (kubectl certificate approve ${this.#pending})`
      : undefined;
  }

  /**
   * Loads what exists now, so a bad tlsCertFile fails the start with one clear line
   * rather than later. Bootstrap mode may have nothing yet; run() requests it.
   */
  async load(): Promise<void> {
    const mode = this.mode;
    if (this.#o.serverTLSBootstrap && !this.#o.kubeconfigPath)
      this.#o.log.warn('serverTLSBootstrap needs the API server; standalone, the kubelet serves a self-signed certificate');
    if (mode === 'files') this.#set(await readPairFiles(this.#o.tlsCertFile, this.#o.tlsPrivateKeyFile));
    else if (mode === 'self-signed') await this.#selfSigned();
    else {
      const pair = await readCurrentPair(this.#o.certDir, serverPairPrefix);
      if (pair && isCurrentlyValid(pair.cert, this.#now()))
        this.#set({ certPem: pair.certPem, keyPem: pair.keyPem, notAfter: new Date(pair.cert.validTo), source: 'bootstrap' });
    }
  }

  async run(signal: AbortSignal): Promise<void> {
    if (this.mode === 'files') return this.#watchFiles(signal);
    if (this.mode === 'self-signed') return this.#renewSelfSigned(signal);
    return this.#rotate(signal);
  }

  #set(pair: ServingPair): void {
    const first = this.#current === undefined;
    this.#current = pair;
    if (first) this.#firstReady(pair);
    else for (const l of this.#listeners) l(pair);
  }

  async #selfSigned(): Promise<void> {
    const { dnsNames, ips } = this.#o.altNames();
    const made = await loadOrCreateSelfSigned(this.#o.certDir, {
      host: this.#o.nodeName,
      dnsNames: [...dnsNames, 'localhost'],
      ips: [...ips, '127.0.0.1'],
      now: this.#now(),
    });
    if (made.created) this.#o.log.info({ cert: made.certFile }, 'made a self-signed serving certificate');
    this.#set({ certPem: made.certPem, keyPem: made.keyPem, notAfter: new X509Certificate(made.certPem).validToDate, source: 'self-signed' });
  }

  async #renewSelfSigned(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const left = (this.#current?.notAfter.getTime() ?? 0) - this.#now().getTime();
      // Checked at least daily: a long timer would overflow, and the clock may jump.
      await sleep(Math.max(1000, Math.min(left - 60_000, 24 * 3_600_000)), signal);
      if (signal.aborted) return;
      if ((this.#current?.notAfter.getTime() ?? 0) - this.#now().getTime() < 120_000) {
        await this.#selfSigned().catch((err: unknown) =>
          this.#o.log.error({ err: TskubeError.from(err).message }, 'renewing the self-signed serving certificate failed'),
        );
      }
    }
  }

  async #watchFiles(signal: AbortSignal): Promise<void> {
    const { tlsCertFile, tlsPrivateKeyFile } = this.#o;
    let seen = await fileStamps(tlsCertFile, tlsPrivateKeyFile);
    while (!signal.aborted) {
      await sleep(this.#o.filePollMs ?? 60_000, signal);
      if (signal.aborted) return;
      const now = await fileStamps(tlsCertFile, tlsPrivateKeyFile);
      if (now === seen) continue;
      try {
        // A writer may replace the certificate and the key one after the other: only a matching pair is taken.
        this.#set(await readPairFiles(tlsCertFile, tlsPrivateKeyFile));
        seen = now;
        this.#o.log.info(
          { cert: tlsCertFile, notAfter: this.#current?.notAfter.toISOString() },
          'serving certificate files changed; serving the new certificate',
        );
      } catch (err) {
        this.#o.log.warn({ err: TskubeError.from(err).message }, 'serving certificate files changed but are not usable yet; keeping the current certificate');
      }
    }
  }

  async #rotate(signal: AbortSignal): Promise<void> {
    const random = this.#o.random ?? Math.random;
    let backoff = retryMs.initial;
    while (!signal.aborted) {
      const current = this.#current;
      if (current) {
        const notBefore = new X509Certificate(current.certPem).validFromDate;
        const deadline = rotationDeadline(notBefore, current.notAfter, random());
        this.#o.log.info({ notAfter: current.notAfter.toISOString(), rotateAt: deadline.toISOString() }, 'serving certificate rotation scheduled');
        while (!signal.aborted && this.#now() < deadline) await sleep(Math.min(deadline.getTime() - this.#now().getTime(), 24 * 3_600_000), signal);
        if (signal.aborted) return;
      }
      try {
        await this.#request(signal);
        backoff = retryMs.initial;
      } catch (err) {
        this.#pending = undefined;
        if (signal.aborted) return;
        this.#o.log.error({ err: TskubeError.from(err).message, retryInMs: backoff }, 'requesting a serving certificate failed');
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, retryMs.max);
      }
    }
  }

  async #request(signal: AbortSignal): Promise<void> {
    const kubeconfigPath = this.#o.kubeconfigPath ?? '';
    const api = this.#o.api?.() ?? csrApi(loadKubeconfig(kubeconfigPath, '--kubeconfig'));
    const keyPem = newClientKeyPem();
    const altNames = this.#o.altNames();
    let remindedAt = 0;
    const issued = await requestCertificate(
      api,
      { signerName: kubeletServingSigner, usages: kubeletServingUsages, altNames },
      {
        nodeName: this.#o.nodeName,
        keyPem,
        // Approval may take a human: wait a day for it (the CSR cleaner removes pending requests after 24 h).
        timeoutMs: 24 * 3_600_000,
        maxPollMs: 5000,
        signal,
        onCreated: (name) => {
          this.#pending = name;
          remindedAt = Date.now();
          this.#o.log.warn(
            { csr: name, signer: kubeletServingSigner, dnsNames: altNames.dnsNames, ips: altNames.ips },
            `serving certificate requested; it needs approval: kubectl certificate approve ${name}`,
          );
        },
        onPending: (name) => {
          if (Date.now() - remindedAt < pendingReminderMs) return;
          remindedAt = Date.now();
          this.#o.log.warn({ csr: name }, `serving CertificateSigningRequest still waits for approval: kubectl certificate approve ${name}`);
        },
      },
    );
    this.#pending = undefined;
    const certPem = checkIssued(issued.certificatePem, keyPem, issued.csrName, this.#o.nodeName);
    const file = await storeClientPair(this.#o.certDir, certPem, keyPem, this.#now(), serverPairPrefix);
    const notAfter = new X509Certificate(certPem).validToDate;
    this.#o.log.info({ csr: issued.csrName, file, notAfter: notAfter.toISOString() }, 'serving certificate issued');
    this.#set({ certPem, keyPem, notAfter, source: 'bootstrap' });
  }
}

async function fileStamps(...files: string[]): Promise<string> {
  const parts = await Promise.all(
    files.map((f) =>
      stat(f).then(
        (s) => `${s.ino}:${s.mtimeMs}:${s.size}`,
        () => 'missing',
      ),
    ),
  );
  return parts.join('|');
}

/** tlsCertFile and tlsPrivateKeyFile, checked to be a certificate (chain) and its key. */
export async function readPairFiles(certFile: string, keyFile: string): Promise<ServingPair> {
  if (!certFile || !keyFile) {
    const missing = certFile ? 'tlsPrivateKeyFile' : 'tlsCertFile';
    throw new TskubeError('invalid-argument', `${missing}: must be set together with ${certFile ? 'tlsCertFile' : 'tlsPrivateKeyFile'}`);
  }
  let certPem: string;
  let keyPem: string;
  try {
    [certPem, keyPem] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
  } catch (err) {
    throw TskubeError.from(err, 'invalid-argument').wrap('reading tlsCertFile/tlsPrivateKeyFile');
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (err) {
    throw TskubeError.from(err, 'invalid-argument').wrap(`tlsCertFile ${certFile}: not a PEM certificate`);
  }
  let matches = false;
  try {
    matches = cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch (err) {
    throw TskubeError.from(err, 'invalid-argument').wrap(`tlsPrivateKeyFile ${keyFile}: not a PEM private key`);
  }
  if (!matches) throw new TskubeError('invalid-argument', `tlsPrivateKeyFile ${keyFile}: does not belong to the certificate in ${certFile}`);
  return { certPem, keyPem, notAfter: cert.validToDate, source: 'files' };
}
