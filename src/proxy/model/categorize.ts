// Which endpoints each kind of traffic may use, as upstream's CategorizeEndpoints:
//  - cluster: ready endpoints (filtered by topology hints when every ready endpoint has a
//    hint for this node or zone), else serving-and-terminating ones;
//  - local: this node's ready endpoints, else its serving-and-terminating ones;
//  - hasAny: some endpoint anywhere can take traffic (decides REJECT vs DROP).
import type { Endpoint } from './endpoints.js';
import { type ServicePort, usesClusterEndpoints, usesLocalEndpoints } from './service-port.js';

export interface NodeTopology {
  nodeName: string;
  /** topology.kubernetes.io/zone of this Node, "" when unlabelled. */
  zone: string;
}

export interface CategorizedEndpoints {
  cluster: Endpoint[];
  local: Endpoint[];
  /** Every endpoint either list uses, once. */
  reachable: Endpoint[];
  hasAny: boolean;
}

type TopologyMode = '' | 'PreferSameNode' | 'PreferSameZone';

function topologyMode(endpoints: readonly Endpoint[], topo: NodeTopology): TopologyMode {
  let anyReady = false;
  let allNodeHints = true;
  let forThisNode = false;
  let allZoneHints = true;
  let forThisZone = false;
  for (const ep of endpoints) {
    if (!ep.ready) continue;
    anyReady = true;
    if (!ep.nodeHints || ep.nodeHints.size === 0) allNodeHints = false;
    else if (ep.nodeHints.has(topo.nodeName)) forThisNode = true;
    if (!ep.zoneHints || ep.zoneHints.size === 0) allZoneHints = false;
    else if (ep.zoneHints.has(topo.zone)) forThisZone = true;
  }
  if (!anyReady) return '';
  if (allNodeHints && forThisNode) return 'PreferSameNode';
  if (allZoneHints && forThisZone) return 'PreferSameZone';
  return '';
}

function availableForTopology(ep: Endpoint, mode: TopologyMode, topo: NodeTopology): boolean {
  if (mode === 'PreferSameNode') return ep.nodeHints?.has(topo.nodeName) === true;
  if (mode === 'PreferSameZone') return ep.zoneHints?.has(topo.zone) === true;
  return true;
}

export function categorizeEndpoints(endpoints: readonly Endpoint[], port: ServicePort, topo: NodeTopology): CategorizedEndpoints {
  const result: CategorizedEndpoints = { cluster: [], local: [], reachable: [], hasAny: false };
  if (endpoints.length === 0) return result;
  let mode: TopologyMode = '';
  if (usesClusterEndpoints(port)) {
    mode = topologyMode(endpoints, topo);
    result.cluster = endpoints.filter((ep) => ep.ready && availableForTopology(ep, mode, topo));
    if (result.cluster.length === 0) result.cluster = endpoints.filter((ep) => ep.serving && ep.terminating);
    if (result.cluster.length > 0) result.hasAny = true;
  }
  if (!usesLocalEndpoints(port)) {
    result.reachable = result.cluster;
    return result;
  }
  let localReady = false;
  let localServingTerminating = false;
  for (const ep of endpoints) {
    if (ep.ready) {
      result.hasAny = true;
      if (ep.local) localReady = true;
    } else if (ep.serving && ep.terminating) {
      result.hasAny = true;
      if (ep.local) localServingTerminating = true;
    }
  }
  if (localReady) result.local = endpoints.filter((ep) => ep.local && ep.ready);
  else if (localServingTerminating) result.local = endpoints.filter((ep) => ep.local && ep.serving && ep.terminating);
  if (!usesClusterEndpoints(port)) {
    result.reachable = result.local;
    return result;
  }
  const localUsesTerminating = !localReady && localServingTerminating;
  if (mode === '' && !localUsesTerminating) {
    result.reachable = result.cluster;
    return result;
  }
  const all = new Map<string, Endpoint>();
  for (const ep of [...result.cluster, ...result.local]) all.set(ep.key, ep);
  result.reachable = [...all.values()];
  return result;
}
