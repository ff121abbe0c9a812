import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceSymlink, writeFileAtomic } from '../../common/atomic-write.js';
import { TskubeError } from '../../common/errors.js';
import { clientPairFileName, clientPairPrefix, currentClientPairPath, type PairPrefix } from './cert-files.js';

// The client certificate files in --cert-dir: each pair written once as
// kubelet-client-<timestamp>.pem (certificate then key, 0600), and the
// kubelet-client-current.pem symlink switched to it atomically.

export interface ClientPair {
  /** The file the pair was read from (the symlink's target when read through it). */
  file: string;
  certPem: string;
  keyPem: string;
  cert: X509Certificate;
}

const pemBlocks = (text: string, label: RegExp) =>
  [...text.matchAll(/-----BEGIN ([A-Z ]+)-----[\s\S]*?-----END \1-----\n?/g)].filter((m) => label.test(m[1] ?? '')).map((m) => m[0]);

/** Splits a combined PEM into its certificate and key, checking that they belong together. */
export function parseClientPair(text: string, file: string): ClientPair {
  const certPem = pemBlocks(text, /CERTIFICATE$/)[0];
  const keyPem = pemBlocks(text, /PRIVATE KEY$/)[0];
  if (!certPem || !keyPem) throw new TskubeError('invalid-argument', `${file}: want a certificate and a private key in PEM`);
  const cert = new X509Certificate(certPem);
  if (!cert.checkPrivateKey(createPrivateKey(keyPem))) throw new TskubeError('invalid-argument', `${file}: the private key does not match the certificate`);
  return { file, certPem: certPem.endsWith('\n') ? certPem : `${certPem}\n`, keyPem: keyPem.endsWith('\n') ? keyPem : `${keyPem}\n`, cert };
}

/** The current pair, or undefined when there is none or it cannot be read. */
export async function readCurrentPair(certDir: string, prefix: PairPrefix = clientPairPrefix): Promise<ClientPair | undefined> {
  const path = currentClientPairPath(certDir, prefix);
  try {
    return parseClientPair(await readFile(path, 'utf8'), await realpath(path));
  } catch {
    return undefined;
  }
}

/** Whether `cert` is inside its validity window at `now`. */
export function isCurrentlyValid(cert: X509Certificate, now: Date): boolean {
  return new Date(cert.validFrom) <= now && now < new Date(cert.validTo);
}

/** Stores a new pair and points kubelet-client-current.pem at it; returns the pair's file. */
export async function storeClientPair(certDir: string, certPem: string, keyPem: string, now: Date, prefix: PairPrefix = clientPairPrefix): Promise<string> {
  const file = join(certDir, clientPairFileName(now, prefix));
  const text = `${certPem.trimEnd()}\n${keyPem.trimEnd()}\n`;
  parseClientPair(text, file);
  await writeFileAtomic(file, text, 0o600);
  await replaceSymlink(file, currentClientPairPath(certDir, prefix));
  return file;
}
