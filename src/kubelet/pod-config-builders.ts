import type { V1ConfigMap, V1Pod, V1Secret } from '@kubernetes/client-node';
import { buildContainerConfig } from './cri-config/container-config.js';
import { resolveEnv } from './cri-config/env.js';
import type { ResolvConf } from './cri-config/resolv-conf.js';
import { buildSandboxConfig } from './cri-config/sandbox-config.js';
import { qosClass } from './pods/qos.js';
import type { ConfigBuilders } from './runtime/executor-deps.js';

export interface NodeContext {
  nodeName: string;
  hostIPs: () => string[];
  clusterDNS: string[];
  clusterDomain: string;
  hostResolv: ResolvConf;
  podLogsRoot: string;
  cgroupDriver: 'cgroupfs' | 'systemd';
  nodeMemoryCapacityBytes: number;
  allocatable: { cpu: string; memory: string };
  rootDir: string;
}

/** What the pod's env and pull secrets refer to; API objects in cluster mode, none standalone. */
export interface ObjectLookup {
  configMap(namespace: string, name: string): V1ConfigMap | undefined;
  secret(namespace: string, name: string): V1Secret | undefined;
}

/**
 * The pod's cgroup under the kubelet's QoS hierarchy: `/kubepods/burstable/pod<uid>` with
 * the cgroupfs driver, `kubepods-burstable-pod<uid>.slice` with systemd (Guaranteed pods
 * sit directly under kubepods), as upstream lays them out.
 */
export function podCgroupParent(pod: V1Pod, driver: 'cgroupfs' | 'systemd'): string {
  const uid = pod.metadata?.uid ?? '';
  const qos = qosClass(pod);
  const tier = qos === 'Guaranteed' ? '' : qos.toLowerCase();
  if (driver === 'systemd') return `kubepods${tier ? `-${tier}` : ''}-pod${uid.replace(/-/g, '_')}.slice`;
  return `/kubepods${tier ? `/${tier}` : ''}/pod${uid}`;
}

/** Binds the pure pod → CRI config functions to this node. */
export function podConfigBuilders(node: NodeContext, objects: ObjectLookup): ConfigBuilders {
  const resources = { nodeMemoryCapacityBytes: node.nodeMemoryCapacityBytes };
  return {
    sandbox: (pod, attempt) =>
      buildSandboxConfig(pod, attempt, {
        nodeName: node.nodeName,
        clusterDNS: node.clusterDNS,
        clusterDomain: node.clusterDomain,
        hostResolv: node.hostResolv,
        cgroupParent: podCgroupParent(pod, node.cgroupDriver),
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
        nodeAllocatable: node.allocatable,
      });
    },
    pullSecrets: (pod) =>
      (pod.spec?.imagePullSecrets ?? []).flatMap((ref) => {
        const s = ref.name ? objects.secret(pod.metadata?.namespace ?? 'default', ref.name) : undefined;
        return s ? [s] : [];
      }),
  };
}
