import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { errorMessage, TskubeError } from '../../common/errors.js';
import type { NodeKubeconfigSpec } from './node-kubeconfig.js';

// Reading the two kubeconfigs of the TLS bootstrap: the bootstrap one (for its
// server, CA and token) and the node's own (is its client certificate still good?).

export function loadKubeconfig(path: string, flag: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(path);
  } catch (err) {
    throw new TskubeError('invalid-argument', `${flag} ${path}: ${errorMessage(err)}`, { cause: err });
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) throw new TskubeError('invalid-argument', `${flag} ${path}: the current context names no cluster with a server`);
  return kc;
}

/** Server and CA of the bootstrap kubeconfig, to carry into the node's kubeconfig. */
export async function clusterOf(kc: KubeConfig): Promise<Omit<NodeKubeconfigSpec, 'clientPairFile'>> {
  const c = kc.getCurrentCluster();
  if (!c) throw new TskubeError('invalid-argument', 'bootstrap kubeconfig: no current cluster');
  return {
    server: c.server,
    ...(c.caData ? { caData: c.caData } : c.caFile ? { caData: (await readFile(c.caFile)).toString('base64') } : {}),
    ...(c.tlsServerName ? { tlsServerName: c.tlsServerName } : {}),
    ...(c.skipTLSVerify ? { insecureSkipTLSVerify: true } : {}),
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
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    const user = kc.getCurrentUser();
    const certPem = user?.certData ? Buffer.from(user.certData, 'base64').toString() : user?.certFile ? await readFile(user.certFile, 'utf8') : undefined;
    const keyPem = user?.keyData ? Buffer.from(user.keyData, 'base64').toString() : user?.keyFile ? await readFile(user.keyFile, 'utf8') : undefined;
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
