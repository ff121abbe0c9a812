// Which UDP conntrack entries to delete after a sync. A UDP "connection" lives as long as
// datagrams keep coming, so a client that keeps sending would stay pinned to an endpoint
// that is gone, or to no endpoint at all, unless its entry is removed. An entry is stale
// when its original destination is a Service address (ClusterIP, external IP, LB VIP) or
// NodePort of a UDP port and its reply comes from anything but a serving endpoint of it:
//  - DNATed to an endpoint that is no longer serving,
//  - DNATed while the port now has no endpoint at all (upstream v1.36 keeps these),
//  - not DNATed (answered by a reject) though the port now has endpoints,
//  - DNATed for a port that was removed since the last reconcile.
// Pure: flows in, deletions out.
import type { ServicePortPlan } from '../plan/service-port-plan.js';

export interface ConntrackFlow {
  origSrc: string;
  origDst: string;
  origSport: number;
  origDport: number;
  replySrc: string;
  replySport: number;
}

/** "ip|port" → serving endpoints as "ip|port". */
export interface UdpTargets {
  byAddress: Map<string, Set<string>>;
  byNodePort: Map<number, Set<string>>;
}

const hostPort = (ip: string, port: number) => `${ip}|${port}`;

export function udpTargets(plans: Iterable<ServicePortPlan>): UdpTargets {
  const byAddress = new Map<string, Set<string>>();
  const byNodePort = new Map<number, Set<string>>();
  for (const plan of plans) {
    const p = plan.port;
    if (p.protocol !== 'UDP') continue;
    const endpoints = new Set(plan.serving.map((ep) => hostPort(ep.ip, ep.port)));
    for (const ip of [p.clusterIP, ...p.externalIPs, ...p.loadBalancerVIPs]) byAddress.set(hostPort(ip, p.port), endpoints);
    if (p.nodePort !== 0) byNodePort.set(p.nodePort, endpoints);
  }
  return { byAddress, byNodePort };
}

/** Targets gone since `previous` stay, empty, for one more reconcile: their DNATed flows are stale. */
export function withRemovedTargets(current: UdpTargets, previous: UdpTargets | undefined): UdpTargets {
  if (!previous) return current;
  const byAddress = new Map(current.byAddress);
  const byNodePort = new Map(current.byNodePort);
  for (const key of previous.byAddress.keys()) if (!byAddress.has(key)) byAddress.set(key, new Set());
  for (const port of previous.byNodePort.keys()) if (!byNodePort.has(port)) byNodePort.set(port, new Set());
  return { byAddress, byNodePort };
}

export function staleFlows(flows: readonly ConntrackFlow[], targets: UdpTargets): ConntrackFlow[] {
  const stale: ConntrackFlow[] = [];
  for (const f of flows) {
    const dnated = f.replySrc !== f.origDst || f.replySport !== f.origDport;
    const reply = hostPort(f.replySrc, f.replySport);
    const serving = targets.byAddress.get(hostPort(f.origDst, f.origDport)) ?? targets.byNodePort.get(f.origDport);
    if (!serving) continue;
    if (serving.size === 0 ? dnated : !serving.has(reply)) stale.push(f);
  }
  return stale;
}
