// The CRI request builders of cri-requests/, bound to this node's settings and to the
// objects pods refer to; the executor calls them through ExecutorDeps.builders.
import type { V1ConfigMap, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import type { RuntimeHandlerLookup } from './cluster/runtime-class-source.js';
import { buildContainerConfig } from './cri-requests/container-config.js';
import { containerLinuxResources } from './cri-requests/linux-resources.js';
import { resolveEnv } from './cri-requests/env.js';
import type { ResolvConf } from './cri-requests/resolv-conf.js';
import { buildSandboxConfig, sandboxConfigWarnings } from './cri-requests/sandbox-config.js';
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
  /** KubeletConfiguration cpuCFSQuota: CPU limits become CFS quotas. */
  cpuCFSQuota: boolean;
  /** KubeletConfiguration seccompDefault: RuntimeDefault for containers whose pod names no profile. */
  seccompDefault: boolean;
  /** KubeletConfiguration singleProcessOOMKill, defaulted for the cgroup version (no memory.oom.group when true). */
  singleProcessOOMKill: boolean;
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

/** What pods refer to across the cluster, in cluster mode: Services (env vars) and RuntimeClasses (handlers). */
export interface ClusterLookup {
  services(): V1Service[] | 'not-synced';
  runtimeHandler: RuntimeHandlerLookup;
}

/** Binds the pure pod → CRI config functions to this node. */
export function criRequestBuilders(node: NodeContext, objects: ObjectLookup, cluster?: ClusterLookup): CriRequestBuilders {
  const resources = {
    nodeMemoryCapacityBytes: node.nodeMemoryCapacityBytes,
    cgroupV2: node.cgroupV2,
    cpuCFSQuota: node.cpuCFSQuota,
    singleProcessOOMKill: node.singleProcessOOMKill,
  };
  const sandboxContext = (pod: V1Pod) => ({
    nodeName: node.nodeName,
    clusterDNS: node.clusterDNS,
    clusterDomain: node.clusterDomain,
    hostResolv: node.hostResolv,
    cgroupParent: node.cgroupParent(pod),
    podLogsRoot: node.podLogsRoot,
    resources,
  });
  return {
    sandbox: (pod, attempt) => buildSandboxConfig(pod, attempt, sandboxContext(pod)),
    sandboxWarnings: (pod) => sandboxConfigWarnings(pod, sandboxContext(pod)),
    // Standalone there are no RuntimeClasses to read: upstream runs every pod on the default handler then.
    runtimeHandler: (pod) => cluster?.runtimeHandler(pod.spec?.runtimeClassName) ?? '',
    resources: (pod, container) => containerLinuxResources(pod, container, resources),
    container: (pod, container, attempt, ctx) =>
      buildContainerConfig(pod, container, attempt, {
        ...resources,
        ...ctx,
        seccompDefault: node.seccompDefault,
        seccompProfileRoot: `${node.rootDir}/seccomp`,
      }),
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
        ...(cluster ? { services: cluster.services() } : {}),
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
