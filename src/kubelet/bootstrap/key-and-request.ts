import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { certificateRequestDer, certificateRequestPemFromDer, type CsrAltNames } from './pkcs10.js';

// The node's client key and its PKCS#10 request: ECDSA P-256, as upstream's kubelet
// makes them, with the subject the Node authorizer expects.

export const kubeletClientSigner = 'kubernetes.io/kube-apiserver-client-kubelet';
/** ECDSA keys do no key encipherment, so upstream asks for these two only. */
export const kubeletClientUsages = ['digital signature', 'client auth'] as const;
export const kubeletServingSigner = 'kubernetes.io/kubelet-serving';
export const kubeletServingUsages = ['digital signature', 'server auth'] as const;

export interface NodeSubject {
  commonName: string;
  organization: string;
}

export function nodeSubject(nodeName: string): NodeSubject {
  return { commonName: `system:node:${nodeName}`, organization: 'system:nodes' };
}

/** A new P-256 key, as SEC1 PEM ("EC PRIVATE KEY"), the form upstream stores. */
export function newClientKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return privateKey.export({ type: 'sec1', format: 'pem' }).toString();
}

export async function certificateRequestPem(keyPem: string, subject: NodeSubject, altNames?: CsrAltNames): Promise<string> {
  return certificateRequestPemFromDer(certificateRequestDer(keyPem, subject, altNames));
}

/**
 * The CSR's name, derived from the key, subject and usages the way upstream's
 * bootstrap does ("node-csr-" + SHA-512/256): a restart that retries with the same
 * pending key finds its earlier request instead of filing a second one.
 */
export function csrObjectName(keyPem: string, subject: NodeSubject, usages: readonly string[]): string {
  const hash = createHash('sha512-256');
  const write = (data: Buffer) => {
    hash.update(data.toString('base64url'));
    hash.update('|');
  };
  const publicKey: KeyObject = createPublicKey(createPrivateKey(keyPem));
  write(publicKey.export({ type: 'spki', format: 'der' }));
  write(Buffer.from(subject.commonName));
  write(Buffer.from(subject.organization));
  for (const u of usages) write(Buffer.from(u));
  return `node-csr-${hash.digest('base64url')}`;
}
