import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { TskubeError } from '../common/errors.js';
import type { CriClient } from '../cri-client/index.js';
import type { KubeletOptions } from './config/options.js';
import type { PodEvents } from './runtime/executor-deps.js';
import type { PodStatusApi } from './status/pod-status-api.js';
import type { StatusTarget } from './status/status-manager.js';

export interface NodeRunContext {
  options: KubeletOptions;
  hostIPs: string[];
  runtimeVersion: string;
  cri: CriClient;
  log: Logger;
  signal: AbortSignal;
}

/** Everything the kubelet does with the API server, in one place; absent in standalone mode. */
export interface ApiConnection {
  core: CoreV1Api;
  events: PodEvents;
  podStatus: PodStatusApi;
  /** Where a pod's status is written: itself, or a static pod's mirror pod. */
  statusTarget: (pod: V1Pod) => StatusTarget | undefined;
  /** Keeps mirror pods in step with the static pods. */
  setStaticPods(pods: V1Pod[]): void;
  /** Lists and watches pods bound to this node; calls onPods with the full set on each change. */
  watchPods(onPods: (pods: V1Pod[]) => void, signal: AbortSignal): Promise<void>;
  /** Registers the Node, renews its Lease, reports its status. */
  runNode(ctx: NodeRunContext): Promise<void>;
}

export async function connectToApi(options: KubeletOptions, log: Logger, signal: AbortSignal): Promise<ApiConnection> {
  void log;
  void signal;
  throw new TskubeError('unimplemented', `joining a control plane (${options.kubeconfig ?? options.bootstrapKubeconfig}) is not wired yet`);
}
