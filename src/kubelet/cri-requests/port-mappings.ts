import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { PortMapping } from '../../gen/cri/runtime/v1/PortMapping.js';
import type { Protocol } from '../../gen/cri/runtime/v1/Protocol.js';

function runtimeProtocol(p: string | undefined): Protocol {
  return p === 'UDP' ? 'UDP' : p === 'SCTP' ? 'SCTP' : 'TCP';
}

/**
 * One container's ports as CRI port mappings, as upstream: every declared port (the
 * runtime only maps those with a hostPort), a repeated port name or an identical
 * unnamed (family, protocol, hostIP, containerPort, hostPort) entry kept once.
 */
export function containerPortMappings(container: V1Container): PortMapping[] {
  const seen = new Set<string>();
  const out: PortMapping[] = [];
  for (const p of container.ports ?? []) {
    const protocol = runtimeProtocol(p.protocol);
    const hostIp = p.hostIP ?? '';
    const family = hostIp === '' ? 'any' : hostIp.includes(':') ? 'v6' : 'v4';
    const key = p.name || `${family}-${protocol}-${hostIp}:${p.containerPort}:${p.hostPort ?? 0}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ protocol, containerPort: p.containerPort, hostPort: p.hostPort ?? 0, hostIp });
  }
  return out;
}

/** Port mappings of the sandbox: those of the pod's regular containers, in order. */
export function podPortMappings(pod: V1Pod): PortMapping[] {
  return (pod.spec?.containers ?? []).flatMap(containerPortMappings);
}
