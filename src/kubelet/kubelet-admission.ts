// The admission check bound to this kubelet: the Node as the API last showed it (or as
// the kubelet would register it, standalone), allocatable from the machine and the
// reservations, the sysctl allowlist, and the pressure and shutdown state.
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubeletConfiguration } from './options/types.js';
import type { NodeAllocatable, NodePressure } from './admission/admit-pod.js';
import type { NodeView } from './admission/node-affinity.js';
import { PodAdmitter } from './admission/pod-admitter.js';
import { sysctlAllowlist } from './admission/sysctls.js';
import type { Node } from './node/node-wire.js';

export interface AdmitterDeps {
  config: KubeletConfiguration;
  nodeName: string;
  /** The Node as registered locally: labels and taints before the API answered, or standalone. */
  localNode: () => NodeView;
  /** The Node as the API last showed it. */
  apiNode?: () => Node | undefined;
  fetchNode?: () => Promise<Node | undefined>;
  allocatable: () => NodeAllocatable;
  pressure: () => NodePressure;
  shuttingDown: () => boolean;
  appArmorEnabled: boolean;
  reject: (pod: V1Pod, reason: string, message: string) => void;
  preempt: (victim: V1Pod) => void;
  log: Logger;
}

function view(node: Node | undefined): NodeView | undefined {
  if (!node?.metadata.name) return undefined;
  return {
    name: node.metadata.name,
    labels: node.metadata.labels ?? {},
    taints: (node.spec?.taints ?? []).map((t) => ({ key: t.key, effect: t.effect, ...(t.value !== undefined ? { value: t.value } : {}) })),
  };
}

export function kubeletAdmitter(d: AdmitterDeps): PodAdmitter {
  const fetchNode = d.fetchNode;
  return new PodAdmitter({
    node: () => view(d.apiNode?.()) ?? d.localNode(),
    ...(fetchNode ? { refreshNode: async () => view(await fetchNode().catch(() => undefined)) } : {}),
    allocatable: d.allocatable,
    os: process.platform,
    sysctls: sysctlAllowlist(d.config.allowedUnsafeSysctls),
    pressure: d.pressure,
    shuttingDown: d.shuttingDown,
    appArmorEnabled: d.appArmorEnabled,
    reject: d.reject,
    preempt: (victim) => d.preempt(victim),
    log: d.log,
  });
}
