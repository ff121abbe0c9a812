// The hash upstream puts in chain names (KUBE-SVC-…, KUBE-SEP-…, the nftables
// "HASH-ns/name/…" bases): the first characters of base32(sha256(text)). A full sync
// names a chain per service port and per endpoint, so this runs tens of thousands of
// times: one-shot `crypto.hash` to hex costs a fraction of a Hash object and digest()
// per name (measured: 6,000 names in ~10 ms against ~40 ms in a fresh process).
import { hash } from 'node:crypto';

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The first `chars` (at most 48) characters of base32(sha256(text)), RFC 4648 alphabet. */
export function sha256Base32(text: string, chars: number): string {
  const hex = hash('sha256', text);
  let out = '';
  // Five hex digits are 20 bits: exactly four base32 characters.
  for (let i = 0; out.length < chars; i += 5) {
    const v = Number.parseInt(hex.slice(i, i + 5), 16);
    out += alphabet[(v >>> 15) & 31]! + alphabet[(v >>> 10) & 31]! + alphabet[(v >>> 5) & 31]! + alphabet[v & 31]!;
  }
  return out.slice(0, chars);
}
