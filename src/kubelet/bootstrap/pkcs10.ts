import { createPrivateKey, createPublicKey, sign } from 'node:crypto';

// A PKCS#10 certificate request (RFC 2986) for an EC key, DER-encoded by hand: Node's
// crypto signs and exports keys but cannot write a CSR, and the request is four fixed
// structures (subject, public key, no attributes, ECDSA-with-SHA256 signature).

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, content]);
}

const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));

export function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [40 * (a ?? 0) + (b ?? 0)];
  for (const part of rest) {
    const groups: number[] = [];
    for (let v = part; ; v = Math.floor(v / 128)) {
      groups.unshift(v % 128);
      if (v < 128) break;
    }
    out.push(...groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g)));
  }
  return tlv(0x06, Buffer.from(out));
}

const oidOrganization = '2.5.4.10';
const oidCommonName = '2.5.4.3';
const oidEcdsaWithSha256 = '1.2.840.10045.4.3.2';

export interface CsrSubject {
  commonName: string;
  organization: string;
}

/** The DER of a signed request for `keyPem` (an EC private key) with subject O=…, CN=…. */
export function certificateRequestDer(keyPem: string, subject: CsrSubject): Buffer {
  const privateKey = createPrivateKey(keyPem);
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const name = seq(set(seq(oid(oidOrganization), utf8(subject.organization))), set(seq(oid(oidCommonName), utf8(subject.commonName))));
  const info = seq(tlv(0x02, Buffer.from([0])), name, spki, tlv(0xa0, Buffer.alloc(0)));
  // Node's ECDSA signatures are DER (r, s) by default, as X.509 wants them.
  const signature = sign('sha256', info, privateKey);
  return seq(info, seq(oid(oidEcdsaWithSha256)), tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
}

export function certificateRequestPemFromDer(der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${b64}-----END CERTIFICATE REQUEST-----\n`;
}
