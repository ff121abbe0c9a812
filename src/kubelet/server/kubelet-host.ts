/*
 * What the kubelet's HTTPS API needs from the rest of the kubelet, and nothing more:
 * the pods it was told to run and the statuses it computed, the runtime's view of its
 * pods, the CRI client (streaming URLs, container status, stats), the configuration
 * (/configz) and the metrics. kubelet.ts builds one; tests can build a small one.
 */
import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { CriClient } from '../../cri-client/index.js';
import type { KubeletConfiguration } from '../options/types.js';
import type { HealthCheck } from '../healthz/healthz.js';
import type { KubeletMetrics } from '../metrics/kubelet-metrics.js';
import type { PodRuntimeState } from '../pods/runtime-state.js';

export interface KubeletHost {
  nodeName: string;
  /** The pods the sources want here (API pods bound to the node, static pods), mirror pods left out. */
  pods(): readonly V1Pod[];
  /** The status the kubelet last computed for a pod, by UID. */
  podStatus(uid: string): V1PodStatus | undefined;
  /** The runtime's view of every kubelet-made pod, by UID (the relist cache; not a fresh relist). */
  runtimePods(): Promise<ReadonlyMap<string, PodRuntimeState>>;
  cri: CriClient;
  config: KubeletConfiguration;
  /** The kubelet's root dir, whose filesystem is the node's in /stats/summary. */
  rootDir: string;
  metrics: KubeletMetrics;
  /** What /healthz checks (ping, log, syncloop). */
  healthChecks: readonly HealthCheck[];
}

/** A pod by namespace and name, as the kubelet's pod manager finds it (a static pod answers to its mirror pod's name). */
export function findPod(host: KubeletHost, namespace: string, name: string): V1Pod | undefined {
  return host.pods().find((p) => p.metadata?.name === name && (p.metadata?.namespace ?? 'default') === namespace);
}
