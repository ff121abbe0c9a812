import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { TskubeError } from '../../common/errors.js';
import { currentClientPairPath, pendingClientKeyFile } from './cert-files.js';
import { isCurrentlyValid, parseClientPair, readCurrentPair, storeClientPair } from './cert-store.js';
import { csrApi, type CsrApi } from './csr-api.js';
import { newClientKeyPem } from './key-and-request.js';
import { checkNodeKubeconfig, clusterOf, loadKubeconfig } from './kubeconfig-files.js';
import { renderNodeKubeconfig } from './node-kubeconfig.js';
import { requestClientCertificate } from './request-certificate.js';

// The kubelet's TLS bootstrap (upstream pkg/kubelet/certificate/bootstrap):
//
//   --kubeconfig valid ─────────────────────────────────────────► use it ("kubeconfig-valid")
//        │ missing, unreadable or expired
//        ▼
//   <cert-dir>/kubelet-client-current.pem valid ──► write kubeconfig ("reused-certificate")
//        │ none
//        ▼
//   key (kept in kubelet-client.key.tmp) ─► CSR as the bootstrap identity ─► wait
//        ─► kubelet-client-<ts>.pem + current symlink ─► write kubeconfig ("issued")

export interface ClientBootstrapOptions {
  kubeconfigPath: string;
  bootstrapKubeconfigPath: string;
  certDir: string;
  nodeName: string;
  /** How long to wait for the CSR to be approved and signed (upstream: 1 h). */
  timeoutMs?: number;
  expirationSeconds?: number;
  now?: () => Date;
  /** One call per step taken, for the kubelet's structured log. */
  log?: (event: BootstrapEvent) => void;
  /** Overrides the API for CSRs (defaults to one built from the bootstrap kubeconfig). */
  api?: CsrApi;
}

export type BootstrapEvent =
  | { event: 'kubeconfig-invalid'; why: string }
  | { event: 'csr-created'; csrName: string }
  | { event: 'certificate-stored'; file: string; notAfter: string };

export type BootstrapResult =
  | { action: 'kubeconfig-valid'; notAfter: Date }
  | { action: 'reused-certificate'; clientPairFile: string; notAfter: Date }
  | { action: 'issued'; clientPairFile: string; csrName: string; notAfter: Date };

export const defaultBootstrapTimeoutMs = 3_600_000;

export async function bootstrapClientCertificate(o: ClientBootstrapOptions, signal: AbortSignal): Promise<BootstrapResult> {
  const now = o.now ?? (() => new Date());
  const log = o.log ?? (() => {});
  const existing = await checkNodeKubeconfig(o.kubeconfigPath, now());
  if (existing.valid) return { action: 'kubeconfig-valid', notAfter: existing.notAfter };
  log({ event: 'kubeconfig-invalid', why: existing.why });

  const bootstrap = loadKubeconfig(o.bootstrapKubeconfigPath, '--bootstrap-kubeconfig');
  const cluster = await clusterOf(bootstrap);
  const writeKubeconfig = () =>
    writeFileAtomic(o.kubeconfigPath, renderNodeKubeconfig({ ...cluster, clientPairFile: currentClientPairPath(o.certDir) }), 0o600);

  const current = await readCurrentPair(o.certDir);
  if (current && isCurrentlyValid(current.cert, now())) {
    await writeKubeconfig();
    return { action: 'reused-certificate', clientPairFile: current.file, notAfter: new Date(current.cert.validTo) };
  }

  const keyPem = await pendingKey(o.certDir);
  const issued = await requestClientCertificate(o.api ?? csrApi(bootstrap), {
    nodeName: o.nodeName,
    keyPem,
    timeoutMs: o.timeoutMs ?? defaultBootstrapTimeoutMs,
    signal,
    onCreated: (csrName) => log({ event: 'csr-created', csrName }),
    ...(o.expirationSeconds !== undefined && { expirationSeconds: o.expirationSeconds }),
  });
  const certPem = checkIssued(issued.certificatePem, keyPem, issued.csrName, o.nodeName);
  const file = await storeClientPair(o.certDir, certPem, keyPem, now());
  await rm(join(o.certDir, pendingClientKeyFile), { force: true });
  await writeKubeconfig();
  const notAfter = new Date(parseClientPair(`${certPem}${keyPem}`, file).cert.validTo);
  log({ event: 'certificate-stored', file, notAfter: notAfter.toISOString() });
  return { action: 'issued', clientPairFile: file, csrName: issued.csrName, notAfter };
}

// A restart in the middle of a bootstrap asks again with the same key, so it finds
// its earlier CSR (same digested name) instead of leaving one behind.
async function pendingKey(certDir: string): Promise<string> {
  const path = join(certDir, pendingClientKeyFile);
  try {
    const pem = await readFile(path, 'utf8');
    if (pem.includes('PRIVATE KEY')) return pem;
  } catch {
    // none yet
  }
  const pem = newClientKeyPem();
  await writeFileAtomic(path, pem, 0o600);
  return pem;
}

/** The first certificate of the issued chain, checked against the key and the node's identity. */
export function checkIssued(certificatePem: string, keyPem: string, csrName: string, nodeName: string): string {
  let pair: ReturnType<typeof parseClientPair>;
  try {
    pair = parseClientPair(`${certificatePem.trimEnd()}\n${keyPem}`, `CertificateSigningRequest ${csrName}`);
  } catch (err) {
    throw TskubeError.from(err, 'internal').wrap('the issued certificate is unusable');
  }
  const subject = pair.cert.subject;
  if (!subject.split('\n').includes(`CN=system:node:${nodeName}`)) {
    throw new TskubeError('internal', `CertificateSigningRequest ${csrName}: issued for "${subject.replace(/\n/g, ', ')}", not system:node:${nodeName}`);
  }
  return pair.certPem;
}
