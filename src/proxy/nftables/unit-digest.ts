// A digest of a set of strings that can be updated one string at a time: the sum (mod
// 2^64, as two 32-bit lanes) of a 64-bit FNV-1a hash of each. Adding and removing a
// string are inverse, so the digest of what the kernel holds follows every partial sync
// at the cost of the strings it changes, and equals the digest computed from scratch.

export interface Digest {
  hi: number;
  lo: number;
}

export const emptyDigest: Digest = { hi: 0, lo: 0 };

/** Two independent 32-bit FNV-1a hashes (different offset bases) as one 64-bit value. */
function hashUnit(s: string): Digest {
  // `| 0`: int32 from the start (0x811c9dc5 as written is above 2^31, a double), so the
  // loop's variables never change representation; a full sync hashes megabytes here.
  let a = 0x811c9dc5 | 0;
  let b = 0x050c5d1f | 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  return { hi: a >>> 0, lo: b >>> 0 };
}

export function addUnit(d: Digest, unit: string): Digest {
  const h = hashUnit(unit);
  return { hi: (d.hi + h.hi) >>> 0, lo: (d.lo + h.lo) >>> 0 };
}

export function removeUnit(d: Digest, unit: string): Digest {
  const h = hashUnit(unit);
  return { hi: (d.hi - h.hi) >>> 0, lo: (d.lo - h.lo) >>> 0 };
}

export function digestText(d: Digest): string {
  return d.hi.toString(16).padStart(8, '0') + d.lo.toString(16).padStart(8, '0');
}
