import type { V1Pod } from '@kubernetes/client-node';
import type { LinuxPodSandboxConfig } from '../../gen/cri/runtime/v1/LinuxPodSandboxConfig.js';
import type { PodSandboxConfig } from '../../gen/cri/runtime/v1/PodSandboxConfig.js';
import { sandboxLabels } from './container-annotations.js';
import { kernelHostname } from './hostname.js';
import { sandboxLinuxResources, sandboxOverhead, type LinuxResourceOptions } from './linux-resources.js';
import { podDnsConfig, type DnsWarning } from './pod-dns.js';
import { podPortMappings } from './port-mappings.js';
import type { ResolvConf } from './resolv-conf.js';
import { sandboxSecurityContext } from './security-context.js';
import { normalizeSysctlName } from '../options/sysctl-names.js';

export { normalizeSysctlName };

export const defaultPodLogsRoot = '/var/log/pods';

export interface SandboxContext {
  /**
   * The node's name. Not written into the config: on the host network upstream leaves the
   * hostname empty and the runtime uses the node's own, which is what the pod sees anyway.
   */
  nodeName: string;
  clusterDNS: string[];
  clusterDomain: string;
  /** The host's resolv.conf (KubeletConfiguration resolvConf), parsed by the caller. */
  hostResolv: ResolvConf;
  /** The pod's cgroup, e.g. "kubepods-burstable-pod<uid>.slice" or "/kubepods/burstable/pod<uid>". */
  cgroupParent: string;
  /** Normally /var/log/pods. */
  podLogsRoot: string;
  /** Resource settings; when absent the sandbox carries no resources (the runtime does not need them). */
  resources?: LinuxResourceOptions;
}

/** `<root>/<namespace>_<name>_<uid>`: where the runtime writes the pod's container logs. */
export function podLogDirectory(root: string, namespace: string, name: string, uid: string): string {
  return `${root.replace(/\/+$/, '')}/${namespace}_${name}_${uid}`;
}

function linuxConfig(pod: V1Pod, ctx: SandboxContext): LinuxPodSandboxConfig {
  const sysctls: Record<string, string> = {};
  for (const s of pod.spec?.securityContext?.sysctls ?? []) sysctls[normalizeSysctlName(s.name)] = s.value;
  const linux: LinuxPodSandboxConfig = {
    cgroupParent: ctx.cgroupParent,
    securityContext: sandboxSecurityContext(pod),
    sysctls,
  };
  if (ctx.resources) {
    linux.resources = sandboxLinuxResources(pod, ctx.resources);
    const overhead = sandboxOverhead(pod, ctx.resources);
    if (overhead) linux.overhead = overhead;
  }
  return linux;
}

/** Warnings met while forming the config, for Warning events on the pod. */
export function sandboxConfigWarnings(pod: V1Pod, ctx: SandboxContext): DnsWarning[] {
  return podDnsConfig(pod, ctx).warnings;
}

/**
 * The PodSandboxConfig for RunPodSandbox, as the upstream kubelet builds it, so `crictl
 * inspectp` reads the same: metadata; hostname (left to the runtime on the host network,
 * where the pod shares the node's UTS namespace); the log directory; DNS by dnsPolicy;
 * port mappings of the regular containers; the pod's labels plus the pod name, namespace
 * and uid keys; the pod's annotations; the cgroup parent, sysctls and security context.
 * Throws TskubeError('invalid-argument') for a spec it cannot honour, naming the field.
 */
export function buildSandboxConfig(pod: V1Pod, attempt: number, ctx: SandboxContext): PodSandboxConfig {
  const name = pod.metadata?.name ?? '';
  const namespace = pod.metadata?.namespace ?? '';
  const uid = pod.metadata?.uid ?? '';
  const config: PodSandboxConfig = {
    metadata: { name, namespace, uid, attempt },
    logDirectory: podLogDirectory(ctx.podLogsRoot || defaultPodLogsRoot, namespace, name, uid),
    dnsConfig: podDnsConfig(pod, ctx).config,
    labels: sandboxLabels(pod),
    annotations: { ...(pod.metadata?.annotations ?? {}) },
    linux: linuxConfig(pod, ctx),
  };
  if (pod.spec?.hostNetwork !== true) config.hostname = kernelHostname(pod, ctx.clusterDomain);
  const ports = podPortMappings(pod);
  if (ports.length > 0) config.portMappings = ports;
  return config;
}
