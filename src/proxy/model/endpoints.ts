// The endpoints of a Service, merged from its EndpointSlices per service port, as
// upstream's EndpointSliceCache does: the first address of each endpoint, conditions
// defaulted (ready and serving unless said otherwise, not terminating), a terminating
// copy never replacing a live one, sorted by "ip:port".
import { entry } from '../map-entry.js';
import { canonicalIp, type IPFamily } from '../net/ip.js';
import type { EndpointSlice } from './api-objects.js';
import type { Protocol } from './service-port.js';

export interface Endpoint {
  ip: string;
  port: number;
  /** "ip:port", "[ip]:port" for IPv6: the identity and sort key. */
  key: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** On this node. */
  local: boolean;
  zoneHints?: ReadonlySet<string>;
  nodeHints?: ReadonlySet<string>;
}

/** Service port (by port name and protocol, "name/PROTO") → endpoints. */
export type EndpointsByPort = Map<string, Endpoint[]>;

export const endpointKey = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

const addressTypeOf: Record<IPFamily, string> = { IPv4: 'IPv4', IPv6: 'IPv6' };

/** Whether a slice carries addresses of this family (FQDN slices are for nobody here). */
export function sliceMatchesFamily(slice: EndpointSlice, family: IPFamily): boolean {
  return slice.addressType === addressTypeOf[family];
}

/** Merges the slices of one Service (all of this family) into endpoints per "portName/PROTO". */
export function mergeEndpointSlices(slices: Iterable<EndpointSlice>, nodeName: string): EndpointsByPort {
  const byPort = new Map<string, Map<string, Endpoint>>();
  for (const slice of slices) {
    for (const port of slice.ports ?? []) {
      if (port.name === null || port.name === undefined) continue;
      if (!port.port) continue;
      const portKey = `${port.name}/${(port.protocol ?? 'TCP') as Protocol}`;
      const set = entry(byPort, portKey, () => new Map<string, Endpoint>());
      for (const ep of slice.endpoints ?? []) {
        const first = ep.addresses?.[0];
        const ip = first === undefined ? undefined : canonicalIp(first);
        if (ip === undefined) continue;
        const c = ep.conditions ?? {};
        const terminating = c.terminating === true;
        const endpoint: Endpoint = {
          ip,
          port: port.port,
          key: endpointKey(ip, port.port),
          ready: c.ready !== false,
          serving: c.serving !== false,
          terminating,
          local: nodeName !== '' && ep.nodeName === nodeName,
        };
        // Most endpoints have no hints: no arrays made for them (a full sync merges tens of thousands).
        if (ep.hints) {
          const zones = (ep.hints.forZones ?? []).map((z) => z.name ?? '').filter((z) => z !== '');
          if (zones.length > 0) endpoint.zoneHints = new Set(zones);
          const nodes = (ep.hints.forNodes ?? []).map((n) => n.name ?? '').filter((n) => n !== '');
          if (nodes.length > 0) endpoint.nodeHints = new Set(nodes);
        }
        if (!set.has(endpoint.key) || !terminating) set.set(endpoint.key, endpoint);
      }
    }
  }
  const out: EndpointsByPort = new Map();
  for (const [portKey, set] of byPort) {
    if (set.size === 0) continue;
    out.set(
      portKey,
      [...set.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    );
  }
  return out;
}
