// FNV-1a hashes, as Go's hash/fnv computes them: the kubelet's container hash (32-bit)
// and static pod UID (128-bit) must come out as upstream's do.

/** 32-bit FNV-1a over the UTF-8 bytes. */
export function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const prime128 = (1n << 88n) + 0x13bn;
const offset128 = 0x6c62272e07bb014262b821756295c58dn;
const mask128 = (1n << 128n) - 1n;

/** 128-bit FNV-1a over the UTF-8 bytes of each part in turn, as 32 hex digits (Go's Sum, hex-encoded). */
export function fnv128a(...parts: string[]): string {
  let h = offset128;
  for (const part of parts) {
    for (const byte of Buffer.from(part, 'utf8')) h = ((h ^ BigInt(byte)) * prime128) & mask128;
  }
  return h.toString(16).padStart(32, '0');
}
