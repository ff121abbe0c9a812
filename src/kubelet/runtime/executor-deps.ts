import type { V1Container, V1Pod, V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ContainerConfig } from '../../gen/cri/runtime/v1/ContainerConfig.js';
import type { LinuxContainerResources } from '../../gen/cri/runtime/v1/LinuxContainerResources.js';
import type { Mount } from '../../gen/cri/runtime/v1/Mount.js';
import type { PodSandboxConfig } from '../../gen/cri/runtime/v1/PodSandboxConfig.js';
import type { CriRuntime } from './cri-runtime.js';
import type { ImagePuller, ImageUser } from './image-puller.js';
import type { ResolvedEnv } from '../cri-requests/env.js';
import type { DnsWarning } from '../cri-requests/pod-dns.js';
import type { PodVolumes } from '../volumes/volume-manager.js';

/** Pod → CRI requests (PodSandboxConfig, ContainerConfig), bound to this node by cri-request-builders.ts (see cri-requests/). */
export interface CriRequestBuilders {
  sandbox(pod: V1Pod, attempt: number): PodSandboxConfig;
  /** What forming the sandbox config had to cut or fall back on (DNS limits, no cluster DNS), for Warning events. */
  sandboxWarnings(pod: V1Pod): DnsWarning[];
  /** The runtime handler of the pod's RuntimeClass ('' for the default); throws for a class that does not exist. */
  runtimeHandler(pod: V1Pod): string;
  container(
    pod: V1Pod,
    container: V1Container,
    attempt: number,
    ctx: { env: { name: string; value: string }[]; imageRef: string; podIPs: string[]; mounts?: Mount[]; imageUser?: ImageUser; pidTarget?: string },
  ): ContainerConfig;
  env(pod: V1Pod, container: V1Container, podIPs: string[]): ResolvedEnv;
  /** A running container's resources for UpdateContainerResources (an in-place resize). */
  resources(pod: V1Pod, container: V1Container): LinuxContainerResources;
  pullSecrets(pod: V1Pod): V1Secret[];
}

/** Events about a pod, as `kubectl describe pod` shows them; `fieldPath` names a container ("spec.containers{web}"). */
export interface PodEvents {
  normal(pod: V1Pod, reason: string, message: string, fieldPath?: string): void;
  warning(pod: V1Pod, reason: string, message: string, fieldPath?: string): void;
}

export interface ExecutorDeps {
  cri: CriRuntime;
  /** The kubelet's --root-dir: per-pod files (termination messages, volumes) live below it. */
  rootDir: string;
  /** Where the /var/log/containers-style link to each container's log goes. */
  containerLogLinksDir: string;
  images: ImagePuller;
  builders: CriRequestBuilders;
  events: PodEvents;
  /** For what the steps cannot report otherwise: cleanups that failed, links not made. */
  log: Logger;
  /** Makes the pod's cgroup with its limits before its sandbox (cgroupsPerQOS). */
  podCgroups?: { ensure(pod: V1Pod): Promise<void> };
  /** Warning events about the Node (MissingClusterDNS is recorded on both, as upstream does). */
  nodeWarning?: (reason: string, message: string) => void;
  /** The pod's volumes, set up before its sandbox, and each container's mounts of them; none: no volume mounts. */
  volumes?: PodVolumes;
  /** Kubelet-managed pod networking (--network-plugin=cni): the pod IPs from the ADD result of a sandbox. */
  network?: { podIPs(sandboxId: string): string[] | undefined };
}
