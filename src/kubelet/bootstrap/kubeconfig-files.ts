import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { errorMessage, TskubeError } from '../../common/errors.js';
import { type Kubeconfig, kubeCredentials, loadKubeconfig as loadFile } from '../../kube/kubeconfig.js';
import type { NodeKubeconfigSpec } from './node-kubeconfig.js';

// Reading the two kubeconfigs of the TLS bootstrap: the bootstrap one (for its
// server, CA and token) and the node's own (is its client certificate still good?).

export function loadKubeconfig(path: string, flag: string): Kubeconfig {
  try {
    return loadFile(path);
  } catch (err) {
    throw TskubeError.from(err, 'invalid-argument').wrap(flag);
  }
}

/** Server and CA of the bootstrap kubeconfig, to carry into the node's kubeconfig. */
export async function clusterOf(kc: Kubeconfig): Promise<Omit<NodeKubeconfigSpec, 'clientPairFile'>> {
  const c = kc.cluster;
  return {
    server: c.server,
    ...(c.caData ? { caData: c.caData } : c.caFile ? { caData: (await readFile(c.caFile)).toString('base64') } : {}),
    ...(c.tlsServerName ? { tlsServerName: c.tlsServerName } : {}),
    ...(c.insecureSkipTLSVerify ? { insecureSkipTLSVerify: true } : {}),
  };
}

export type KubeconfigCheck = { valid: true; notAfter: Date } | { valid: false; why: string };

/**
 * Whether the kubeconfig at `path` holds a client certificate that is not expired and
 * matches its key, as upstream's isClientConfigStillValid asks before bootstrapping.
 */
export async function checkNodeKubeconfig(path: string, now: Date): Promise<KubeconfigCheck> {
  try {
    await stat(path);
  } catch {
    return { valid: false, why: `${path} does not exist` };
  }
  try {
    const { tls } = await kubeCredentials(loadFile(path));
    const certPem = tls.cert?.toString();
    const keyPem = tls.key?.toString();
    if (!certPem || !keyPem) return { valid: false, why: `${path} has no client certificate and key` };
    const cert = new X509Certificate(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return { valid: false, why: `${path}: the client key does not match the certificate` };
    const notAfter = new Date(cert.validTo);
    if (now >= notAfter) return { valid: false, why: `${path}: the client certificate expired at ${notAfter.toISOString()}` };
    return { valid: true, notAfter };
  } catch (err) {
    return { valid: false, why: `${path}: ${errorMessage(err)}` };
  }
}
