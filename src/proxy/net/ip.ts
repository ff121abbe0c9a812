// IP addresses and CIDRs as the proxy needs them: the family of an address, its
// canonical text (nft and iptables print IPv6 compressed, IPv4-mapped as plain IPv4),
// and whether a CIDR holds an address. Addresses are compared as bigints.
import { isIP } from 'node:net';

export type IPFamily = 'IPv4' | 'IPv6';

export interface Cidr {
  family: IPFamily;
  /** The network address (host bits cleared). */
  network: bigint;
  prefix: number;
  /** Canonical "addr/prefix". */
  text: string;
}

export function ipFamily(ip: string): IPFamily | undefined {
  const v = isIP(ip);
  return v === 4 ? 'IPv4' : v === 6 ? 'IPv6' : undefined;
}

const bitsOf = (family: IPFamily) => (family === 'IPv4' ? 32 : 128);

/** An address as a number, or undefined when the text is not an address. */
export function ipToBigint(ip: string): bigint | undefined {
  const v = isIP(ip);
  if (v === 4) return ip.split('.').reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n);
  if (v !== 6) return undefined;
  let text = ip;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  // An embedded IPv4 tail ("::ffff:1.2.3.4") becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = ipToBigint(v4[1]!)!;
    text = `${text.slice(0, v4.index)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups];
  return groups.reduce((n, g) => (n << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}

export function bigintToIp(n: bigint, family: IPFamily): string {
  if (family === 'IPv4') return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 0xffn)).join('.');
  const groups: number[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(Number((n >> s) & 0xffffn));
  // RFC 5952: the longest run (length ≥ 2) of zero groups becomes "::", the first such run on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

const plainIPv4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** The canonical text of an address ("fd00:0::1" → "fd00::1"); IPv4-mapped IPv6 as IPv4, as Go's net.IP prints it. */
export function canonicalIp(ip: string): string | undefined {
  // Nearly every address is a plain dotted quad already in canonical form.
  if (plainIPv4.test(ip)) return ip;
  const family = ipFamily(ip);
  const n = ipToBigint(ip);
  if (family === undefined || n === undefined) return undefined;
  if (family === 'IPv6' && n >> 32n === 0xffffn) return bigintToIp(n & 0xffffffffn, 'IPv4');
  return bigintToIp(n, family);
}

/** "10.0.0.0/8", "fd00::/64"; a bare address is not a CIDR. Host bits are cleared, as Go's ParseCIDR does. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const addr = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  const family = ipFamily(addr);
  if (family === undefined || !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  const bits = bitsOf(family);
  if (prefix > bits) return undefined;
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
  const network = ipToBigint(addr)! & mask;
  return { family, network, prefix, text: `${bigintToIp(network, family)}/${prefix}` };
}

export function cidrContains(cidr: Cidr, ip: string): boolean {
  const family = ipFamily(ip);
  if (family !== cidr.family) return false;
  const bits = bitsOf(family);
  const n = ipToBigint(ip)!;
  return cidr.prefix === 0 || n >> BigInt(bits - cidr.prefix) === cidr.network >> BigInt(bits - cidr.prefix);
}

export function isZeroCidr(cidr: Cidr): boolean {
  return cidr.prefix === 0;
}

export function isLoopback(ip: string): boolean {
  const family = ipFamily(ip);
  if (family === 'IPv4') return ip.startsWith('127.');
  return family === 'IPv6' && ipToBigint(ip) === 1n;
}
