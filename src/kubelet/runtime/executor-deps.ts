import type { V1Container, V1Pod, V1Secret } from '@kubernetes/client-node';
import type { ContainerConfig } from '../../gen/cri/runtime/v1/ContainerConfig.js';
import type { Mount } from '../../gen/cri/runtime/v1/Mount.js';
import type { PodSandboxConfig } from '../../gen/cri/runtime/v1/PodSandboxConfig.js';
import type { CriClient } from '../../cri-client/index.js';
import type { ImagePuller } from './image-puller.js';

/** Pod → CRI config, bound to this node's settings by the kubelet (see cri-config/). */
export interface ConfigBuilders {
  sandbox(pod: V1Pod, attempt: number): PodSandboxConfig;
  container(
    pod: V1Pod,
    container: V1Container,
    attempt: number,
    ctx: { env: { name: string; value: string }[]; imageRef: string; podIPs: string[]; mounts?: Mount[] },
  ): ContainerConfig;
  env(
    pod: V1Pod,
    container: V1Container,
    podIPs: string[],
  ): { ok: true; env: { name: string; value: string }[] } | { ok: false; reason: string; message: string };
  pullSecrets(pod: V1Pod): V1Secret[];
}

/** Events about a pod, as `kubectl describe pod` shows them. */
export interface PodEvents {
  normal(pod: V1Pod, reason: string, message: string): void;
  warning(pod: V1Pod, reason: string, message: string): void;
}

export interface ExecutorDeps {
  cri: CriClient;
  /** The kubelet's --root-dir: per-pod files (termination messages, volumes) live below it. */
  rootDir: string;
  /** Where the /var/log/containers-style link to each container's log goes. */
  containerLogLinksDir: string;
  images: ImagePuller;
  builders: ConfigBuilders;
  events: PodEvents;
}
