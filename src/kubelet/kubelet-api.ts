/*
 * Everything the kubelet does with the API server, built from the kubeconfig (after the
 * TLS bootstrap when only a bootstrap kubeconfig works yet). Absent in standalone mode.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { EventRecorder, nodeReference, podReference } from '../kube/event-recorder.js';
import { loadKubeconfig } from '../kube/kubeconfig.js';
import { RestClient } from '../kube/rest-client.js';
import type { CriRuntime } from './runtime/cri-runtime.js';
import { bootstrapClientCertificate, ClientCertificateRotator } from './bootstrap/index.js';
import type { KubeletOptions } from './options/kubelet-options.js';
import { nodeControllerFromOptions, type NodeController } from './node/node-controller.js';
import { restNodeApi } from './node/node-api.js';
import type { NodeFacts, RuntimeCondition } from './node/node-facts.js';
import type { Node } from './node/node-wire.js';
import { MirrorPodClient, MirrorPodSyncer } from './pods/mirror-pods.js';
import { podFullName } from './pods/pod-names.js';
import { isStaticPod } from './pods/pod-source.js';
import { ApiSource } from './pods/sources/api-source.js';
import type { PodSourceMerger } from './pods/sources/pod-source-merger.js';
import type { PodEvents } from './runtime/executor-deps.js';
import { kubePodStatusApi } from './status/kube-pod-status-api.js';
import type { PodStatusApi } from './status/pod-status-api.js';
import { kubeletVersion } from './version.js';
import type { ClusterLookup } from './cri-request-builders.js';
import { RuntimeClassSource } from './cluster/runtime-class-source.js';
import { ServiceSource } from './cluster/service-source.js';

export interface ApiRunContext {
  cri: CriRuntime;
  signal: AbortSignal;
  /** Notes for the Node's Ready condition (the serving certificate's state). */
  notes?: () => string[];
  /** The machine's facts, as the rest of the kubelet sees them. */
  facts: () => Promise<NodeFacts>;
  /** The eviction manager's node conditions. */
  pressure: () => { memory: boolean; disk: boolean; pid: boolean };
  /** A graceful node shutdown is under way (the Node is then not Ready). */
  shuttingDown?: () => boolean;
  /** NetworkReady when the kubelet manages pod networking (--network-plugin=cni). */
  networkReady?: () => RuntimeCondition;
}

/** Events about the Node (eviction thresholds met, image GC failures), as `kubectl describe node` shows them. */
export interface NodeEvents {
  normal(reason: string, message: string): void;
  warning(reason: string, message: string): void;
}

export interface ApiConnection {
  /** The REST client on the node's credentials (the kubelet API's TokenReviews and SubjectAccessReviews). */
  rest: RestClient;
  events: PodEvents;
  podStatus: PodStatusApi;
  /** The API object a pod's status is written to, as last seen: the pod itself, or a static pod's mirror pod (once it exists). */
  statusTarget: (pod: V1Pod) => V1Pod | undefined;
  /** This kubelet's Node as last read by the status loop (labels, taints); undefined before. */
  node(): Node | undefined;
  /** Reads this kubelet's Node now. */
  fetchNode(): Promise<Node | undefined>;
  /** Events about the Node itself. */
  nodeEvents: NodeEvents;
  /** Services (for env vars) and RuntimeClasses (for runtime handlers), watched from run() on. */
  cluster: ClusterLookup;
  /** Runs the API side: pods bound here, mirror pods, events, the Node and its Lease, certificate rotation. */
  run(ctx: ApiRunContext): Record<string, Promise<void>>;
}

export async function connectToApi(options: KubeletOptions, sources: PodSourceMerger, log: Logger, signal: AbortSignal): Promise<ApiConnection> {
  const kubeconfigPath = options.kubeconfig ?? '';
  if (options.bootstrapKubeconfig) {
    const result = await bootstrapClientCertificate(
      {
        kubeconfigPath,
        bootstrapKubeconfigPath: options.bootstrapKubeconfig,
        certDir: options.certDir,
        nodeName: options.nodeName,
        log: (e) => log.info(e, 'tls bootstrap'),
      },
      signal,
    );
    log.info({ action: result.action, notAfter: result.notAfter.toISOString() }, 'client certificate ready');
  }
  const kc = loadKubeconfig(kubeconfigPath);
  const rest = new RestClient(kc, { userAgent: `tskube-kubelet/${kubeletVersion} (${options.nodeName})` });
  const recorder = new EventRecorder({ rest, component: 'kubelet', host: options.nodeName, logger: log });
  const events: PodEvents = {
    normal: (pod, reason, message, fieldPath) => recorder.normal(podReference(pod, fieldPath), reason, message),
    warning: (pod, reason, message, fieldPath) => recorder.warning(podReference(pod, fieldPath), reason, message),
  };
  const statusTarget = (pod: V1Pod): V1Pod | undefined => {
    // A static pod's status is shown on its mirror pod; an API pod's on itself, as the API last showed it.
    if (isStaticPod(pod)) return sources.mirrorPods().find((m) => podFullName(m) === podFullName(pod));
    return sources.pod(pod.metadata?.uid ?? '');
  };

  const services = new ServiceSource({ rest, logger: log });
  const runtimeClasses = new RuntimeClassSource({ rest, logger: log });
  let controller: NodeController | undefined;
  const nodeApi = restNodeApi(rest);
  const nodeRef = nodeReference(options.nodeName);
  return {
    rest,
    events,
    node: () => controller?.status.node,
    fetchNode: () => nodeApi.getNode(options.nodeName, AbortSignal.timeout(10_000)),
    nodeEvents: {
      normal: (reason, message) => recorder.normal(nodeRef, reason, message),
      warning: (reason, message) => recorder.warning(nodeRef, reason, message),
    },
    cluster: { services: () => services.services(), runtimeHandler: runtimeClasses.handler },
    podStatus: kubePodStatusApi(rest),
    statusTarget,
    run(ctx) {
      const source = new ApiSource({ rest, nodeName: options.nodeName, onPods: (pods) => sources.set('api', pods), logger: log });
      const mirrors = new MirrorPodSyncer({ sources, client: new MirrorPodClient({ rest, nodeName: options.nodeName, logger: log }), logger: log });
      const node = nodeControllerFromOptions(options, {
        kubeConfig: kc,
        cri: ctx.cri,
        kubeletVersion,
        logger: log,
        ...(ctx.notes ? { notes: ctx.notes } : {}),
        facts: ctx.facts,
        pressure: ctx.pressure,
        ...(ctx.shuttingDown ? { shuttingDown: ctx.shuttingDown } : {}),
        ...(ctx.networkReady ? { networkReady: ctx.networkReady } : {}),
      });
      controller = node;
      const running: Record<string, Promise<void>> = {
        events: recorder.run(ctx.signal),
        'api pod source': source.run(ctx.signal),
        'mirror pods': mirrors.run(ctx.signal),
        node: node.run(ctx.signal),
        services: services.run(ctx.signal),
        'runtime classes': runtimeClasses.run(ctx.signal),
      };
      if (options.config.rotateCertificates && options.bootstrapKubeconfig) {
        const rotator = new ClientCertificateRotator({
          kubeconfigPath,
          certDir: options.certDir,
          nodeName: options.nodeName,
          log: (e) => log.info(e, 'client certificate rotation'),
          // The REST client (every API call) re-reads its credentials by itself.
          onRotated: () => log.info('client certificate rotated; API clients use the new one'),
        });
        running['certificate rotation'] = rotator.run(ctx.signal);
      }
      return running;
    },
  };
}
