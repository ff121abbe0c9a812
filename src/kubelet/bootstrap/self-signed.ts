import { createPrivateKey, createPublicKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bits, explicit, extension, name, oid, oids, seq, subjectAltNames, tlv, time, unsignedInt } from './der.js';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { isCurrentlyValid } from './cert-store.js';
import { newClientKeyPem } from './key-and-request.js';
import { pem } from './pkcs10.js';

// The serving certificate the kubelet makes for itself when it is given none and does
// not bootstrap one (upstream: <cert-dir>/kubelet.crt and kubelet.key, one year). It is
// its own CA, so a client can pin it; API servers that check kubelet certificates
// against the cluster CA refuse it, which is why clusters use serverTLSBootstrap.

export const selfSignedCertFile = 'kubelet.crt';
export const selfSignedKeyFile = 'kubelet.key';

const oneYearMs = 365 * 24 * 3_600_000;

export interface SelfSignedOptions {
  /** CN is `<host>@<unix seconds>`, as upstream names it. */
  host: string;
  dnsNames: readonly string[];
  ips: readonly string[];
  now: Date;
  lifetimeMs?: number;
}

/** A new P-256 key and a self-signed certificate for it, both PEM. */
export function selfSignedCertificate(o: SelfSignedOptions): { certPem: string; keyPem: string } {
  const keyPem = newClientKeyPem();
  const key = createPrivateKey(keyPem);
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const subject = name({ commonName: `${o.host}@${Math.floor(o.now.getTime() / 1000)}` });
  const algorithm = seq(oid(oids.ecdsaWithSha256));
  // Backdated a little, as upstream does, so a clock a minute behind still accepts it.
  const notBefore = new Date(o.now.getTime() - 3_600_000);
  const notAfter = new Date(o.now.getTime() + (o.lifetimeMs ?? oneYearMs));
  // keyUsage: digitalSignature (bit 0) and keyCertSign (bit 5): 0b10000100, 2 unused bits.
  const keyUsage = tlv(0x03, Buffer.from([0x02, 0x84]));
  const extensions = [
    extension(oids.keyUsage, keyUsage, true),
    extension(oids.extKeyUsage, seq(oid(oids.serverAuth))),
    extension(oids.basicConstraints, seq(tlv(0x01, Buffer.from([0xff]))), true),
    extension(oids.subjectAltName, subjectAltNames(o.dnsNames, o.ips)),
  ];
  const tbs = seq(
    explicit(0, tlv(0x02, Buffer.from([2]))),
    unsignedInt(randomBytes(16)),
    algorithm,
    subject,
    seq(time(notBefore), time(notAfter)),
    subject,
    spki,
    explicit(3, seq(...extensions)),
  );
  const certDer = seq(tbs, algorithm, bits(sign('sha256', tbs, key)));
  return { certPem: pem('CERTIFICATE', certDer), keyPem };
}

/**
 * The self-signed pair in certDir: reused while valid, else made anew and written
 * (0600 key). Returns the PEMs and where they are.
 */
export async function loadOrCreateSelfSigned(
  certDir: string,
  o: SelfSignedOptions,
): Promise<{ certPem: string; keyPem: string; certFile: string; keyFile: string; created: boolean }> {
  const certFile = join(certDir, selfSignedCertFile);
  const keyFile = join(certDir, selfSignedKeyFile);
  try {
    const [certPem, keyPem] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
    const cert = new X509Certificate(certPem);
    if (isCurrentlyValid(cert, o.now) && cert.checkPrivateKey(createPrivateKey(keyPem))) return { certPem, keyPem, certFile, keyFile, created: false };
  } catch {
    // none yet, or unusable: make a new one
  }
  const made = selfSignedCertificate(o);
  await writeFileAtomic(keyFile, made.keyPem, 0o600);
  await writeFileAtomic(certFile, made.certPem, 0o644);
  return { ...made, certFile, keyFile, created: true };
}
