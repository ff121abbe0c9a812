// The host's address on its default route, found as upstream's ChooseHostInterface finds it:
// the interface of the IPv4 default route with the lowest metric (else of the IPv6 one), and
// its first address that is neither loopback nor link-local. Read from /proc/net/route,
// /proc/net/ipv6_route and os.networkInterfaces(), without running a process. Pure.
import type { NetworkInterfaceInfo } from 'node:os';

/** RTF_UP in a route's flags. */
const routeUp = 0x1;

/** The interfaces of the default routes that are up, lowest metric first: IPv4 (/proc/net/route) before IPv6 (/proc/net/ipv6_route). */
export function defaultRouteInterfaces(route: string, ipv6Route: string): string[] {
  const v4 = route
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length >= 8 && f[1] === '00000000' && f[7] === '00000000' && (Number.parseInt(f[3] ?? '0', 16) & routeUp) !== 0)
    .map((f) => ({ iface: f[0] ?? '', metric: Number.parseInt(f[6] ?? '0', 10) }));
  // dest, dest prefix length, src, src prefix length, next hop, metric, refcnt, use, flags, iface (hex but the name).
  const v6 = ipv6Route
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length >= 10 && /^0{32}$/.test(f[0] ?? '') && f[1] === '00' && f[9] !== 'lo' && (Number.parseInt(f[8] ?? '0', 16) & routeUp) !== 0)
    .map((f) => ({ iface: f[9] ?? '', metric: Number.parseInt(f[5] ?? '0', 16) }));
  const byMetric = (a: { metric: number }, b: { metric: number }) => a.metric - b.metric;
  return [...new Set([...v4.sort(byMetric), ...v6.sort(byMetric)].map((r) => r.iface))];
}

/** The first usable address of the first of `ifaces` that has one, IPv4 before IPv6 on each. */
export function defaultRouteAddress(ifaces: readonly string[], addrs: NodeJS.Dict<NetworkInterfaceInfo[]>): string | undefined {
  for (const name of ifaces) {
    const usable = (addrs[name] ?? []).filter((a) => !a.internal && !(a.family === 'IPv6' && /^fe[89ab]/i.test(a.address)));
    const pick = usable.find((a) => a.family === 'IPv4') ?? usable[0];
    if (pick) return pick.address;
  }
  return undefined;
}
