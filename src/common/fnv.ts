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

/** The 128-bit offset basis, in 16-bit limbs, least significant first. */
const offset128 = [0xc58d, 0x6295, 0x2175, 0x62b8, 0x0142, 0x07bb, 0x272e, 0x6c62];

/**
 * 128-bit FNV-1a over the UTF-8 bytes of each part in turn, as 32 hex digits (Go's Sum,
 * hex-encoded). The state is eight 16-bit limbs so every product stays exact in a
 * double: a static pod's text is ~10 KB, and BigInt arithmetic per byte cost ~5 ms.
 */
export function fnv128a(...parts: string[]): string {
  let [h0, h1, h2, h3, h4, h5, h6, h7] = offset128 as [number, number, number, number, number, number, number, number];
  for (const part of parts) {
    const bytes = Buffer.from(part, 'utf8');
    for (let b = 0; b < bytes.length; b++) {
      h0 ^= bytes[b]!;
      // h * prime mod 2^128, prime = 2^88 + 0x13b: h * 0x13b plus h shifted left by 88 bits
      // (5 limbs and 8 bits), of which only limbs 5 to 7 survive. Every sum stays below 2^31.
      let v = h0 * 0x13b;
      const s5 = (h0 << 8) & 0xffff;
      const s6 = ((h1 << 8) | (h0 >>> 8)) & 0xffff;
      const s7 = ((h2 << 8) | (h1 >>> 8)) & 0xffff;
      h0 = v & 0xffff;
      v = h1 * 0x13b + (v >>> 16);
      h1 = v & 0xffff;
      v = h2 * 0x13b + (v >>> 16);
      h2 = v & 0xffff;
      v = h3 * 0x13b + (v >>> 16);
      h3 = v & 0xffff;
      v = h4 * 0x13b + (v >>> 16);
      h4 = v & 0xffff;
      v = h5 * 0x13b + (v >>> 16) + s5;
      h5 = v & 0xffff;
      v = h6 * 0x13b + (v >>> 16) + s6;
      h6 = v & 0xffff;
      v = h7 * 0x13b + (v >>> 16) + s7;
      h7 = v & 0xffff;
    }
  }
  return [h7, h6, h5, h4, h3, h2, h1, h0].map((limb) => limb.toString(16).padStart(4, '0')).join('');
}
