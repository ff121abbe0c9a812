import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { explicit, extension, name, oid, oids, seq, set, subjectAltNames, tlv } from './der.js';

// A PKCS#10 certificate request (RFC 2986) for an EC key, DER-encoded by hand: Node's
// crypto signs and exports keys but cannot write a CSR, and the request is four fixed
// structures (subject, public key, attributes, ECDSA-with-SHA256 signature).

export { oid } from './der.js';

export interface CsrSubject {
  commonName: string;
  organization: string;
}

/** Subject alternative names a serving certificate asks for. */
export interface CsrAltNames {
  dnsNames: readonly string[];
  ips: readonly string[];
}

/** The DER of a signed request for `keyPem` (an EC private key) with subject O=…, CN=… and, if given, SANs. */
export function certificateRequestDer(keyPem: string, subject: CsrSubject, altNames?: CsrAltNames): Buffer {
  const privateKey = createPrivateKey(keyPem);
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const attributes =
    altNames && altNames.dnsNames.length + altNames.ips.length > 0
      ? [seq(oid(oids.extensionRequest), set(seq(extension(oids.subjectAltName, subjectAltNames(altNames.dnsNames, altNames.ips)))))]
      : [];
  const info = seq(tlv(0x02, Buffer.from([0])), name(subject), spki, explicit(0, Buffer.concat(attributes)));
  // Node's ECDSA signatures are DER (r, s) by default, as X.509 wants them.
  const signature = sign('sha256', info, privateKey);
  return seq(info, seq(oid(oids.ecdsaWithSha256)), tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
}

export function certificateRequestPemFromDer(der: Buffer): string {
  return pem('CERTIFICATE REQUEST', der);
}

export function pem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}
