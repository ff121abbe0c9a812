// The CRI request builders of cri-requests/, bound to this node's settings and to the
// objects pods refer to; the executor calls them through ExecutorDeps.builders.
import type { V1ConfigMap, V1Pod, V1Secret } from '@kubernetes/client-node';
import { buildContainerConfig } from './cri-requests/container-config.js';
import { resolveEnv } from './cri-requests/env.js';
import type { ResolvConf } from './cri-requests/resolv-conf.js';
import { buildSandboxConfig } from './cri-requests/sandbox-config.js';
import type { CriRequestBuilders } from './runtime/executor-deps.js';
import type { NodeAllocatable } from './cri-requests/env-field-ref.js';

export interface NodeContext {
  nodeName: string;
  hostIPs: () => string[];
  clusterDNS: string[];
  clusterDomain: string;
  hostResolv: ResolvConf;
  podLogsRoot: string;
  /** The pod's cgroup, the sandbox's cgroup parent (from the cgroup manager, or the cgroup root without cgroupsPerQOS). */
  cgroupParent: (pod: V1Pod) => string;
  /** The node runs the unified cgroup hierarchy (v2). */
  cgroupV2: boolean;
  nodeMemoryCapacityBytes: number;
  /** What pods may use of the node now (resourceFieldRef's default for unset limits, memory-backed volumes' size). */
  allocatable: () => NodeAllocatable;
  rootDir: string;
}

/**
 * What the pod's env, pull secrets and volumes refer to; API objects in cluster mode, none
 * standalone. A lookup gives undefined for an object that does not exist, and throws
 * TskubeError('unavailable') when it cannot tell yet (not listed since the pod appeared).
 */
export interface ObjectLookup {
  configMap(namespace: string, name: string): V1ConfigMap | undefined;
  secret(namespace: string, name: string): V1Secret | undefined;
}

/** Binds the pure pod → CRI config functions to this node. */
export function criRequestBuilders(node: NodeContext, objects: ObjectLookup): CriRequestBuilders {
  const resources = { nodeMemoryCapacityBytes: node.nodeMemoryCapacityBytes, cgroupV2: node.cgroupV2 };
  return {
    sandbox: (pod, attempt) =>
      buildSandboxConfig(pod, attempt, {
        nodeName: node.nodeName,
        clusterDNS: node.clusterDNS,
        clusterDomain: node.clusterDomain,
        hostResolv: node.hostResolv,
        cgroupParent: node.cgroupParent(pod),
        podLogsRoot: node.podLogsRoot,
        resources,
      }),
    container: (pod, container, attempt, ctx) =>
      buildContainerConfig(pod, container, attempt, { ...resources, ...ctx, seccompProfileRoot: `${node.rootDir}/seccomp` }),
    env: (pod, container, podIPs) => {
      const hostIPs = node.hostIPs();
      return resolveEnv(pod, container, {
        configMap: (ns, name) => objects.configMap(ns, name),
        secret: (ns, name) => objects.secret(ns, name),
        hostIP: hostIPs[0] ?? '',
        hostIPs,
        podIPs,
        nodeName: node.nodeName,
        nodeAllocatable: node.allocatable(),
      });
    },
    pullSecrets: (pod) =>
      (pod.spec?.imagePullSecrets ?? []).flatMap((ref) => {
        // A secret that cannot be read yet is left out: the pull then fails with the registry's own error.
        const name = ref.name;
        const s = name ? tryLookup(() => objects.secret(pod.metadata?.namespace ?? 'default', name)) : undefined;
        return s ? [s] : [];
      }),
  };
}

function tryLookup<T>(get: () => T | undefined): T | undefined {
  try {
    return get();
  } catch {
    return undefined;
  }
}
