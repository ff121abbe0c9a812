/*
 * Everything the kubelet does with the API server, built from the kubeconfig (after the
 * TLS bootstrap when only a bootstrap kubeconfig works yet). Absent in standalone mode.
 */
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { makeKubeClients } from '../kube/clients.js';
import { EventRecorder, podReference } from '../kube/event-recorder.js';
import { loadKubeconfig } from '../kube/kubeconfig.js';
import { RestClient } from '../kube/rest-client.js';
import type { CriClient } from '../cri-client/index.js';
import { bootstrapClientCertificate, ClientCertificateRotator } from './bootstrap/index.js';
import type { KubeletOptions } from './config/options.js';
import { nodeControllerFromOptions } from './node/node-controller.js';
import { MirrorPodClient, MirrorPodSyncer, podFullName } from './pods/mirror-pods.js';
import { ApiSource } from './pods/sources/api-source.js';
import type { PodConfig } from './pods/sources/pod-config.js';
import type { PodEvents } from './runtime/executor-deps.js';
import { kubePodStatusApi } from './status/kube-pod-status-api.js';
import type { PodStatusApi } from './status/pod-status-api.js';
import type { StatusTarget } from './status/status-manager.js';
import { kubeletVersion } from './version.js';

export interface ApiRunContext {
  cri: CriClient;
  signal: AbortSignal;
}

export interface ApiConnection {
  /** The typed core API, rebuilt after a client certificate rotation. */
  core: () => CoreV1Api;
  events: PodEvents;
  podStatus: PodStatusApi;
  /** Where a pod's status is written: the pod itself, or a static pod's mirror pod (once it exists). */
  statusTarget: (pod: V1Pod) => StatusTarget | undefined;
  /** Runs the API side: pods bound here, mirror pods, events, the Node and its Lease, certificate rotation. */
  run(ctx: ApiRunContext): Record<string, Promise<void>>;
}

export async function connectToApi(options: KubeletOptions, config: PodConfig, log: Logger, signal: AbortSignal): Promise<ApiConnection> {
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
  let core = makeKubeClients(kc).core;
  const recorder = new EventRecorder({ rest, component: 'kubelet', host: options.nodeName, logger: log });
  const events: PodEvents = {
    normal: (pod, reason, message) => recorder.normal(podReference(pod), reason, message),
    warning: (pod, reason, message) => recorder.warning(podReference(pod), reason, message),
  };
  const statusTarget = (pod: V1Pod): StatusTarget | undefined => {
    const { namespace = 'default', name, uid, annotations } = pod.metadata ?? {};
    if (!name || !uid) return undefined;
    if (annotations?.['kubernetes.io/config.source'] === 'api' || annotations?.['kubernetes.io/config.source'] === undefined) return { namespace, name, uid };
    // A static pod's status is shown on its mirror pod.
    const mirror = config.mirrorPods().find((m) => podFullName(m) === podFullName(pod));
    return mirror?.metadata?.uid ? { namespace, name, uid: mirror.metadata.uid } : undefined;
  };

  return {
    core: () => core,
    events,
    podStatus: kubePodStatusApi(() => core),
    statusTarget,
    run(ctx) {
      const source = new ApiSource({ rest, nodeName: options.nodeName, onPods: (pods) => config.set('api', pods), logger: log });
      const mirrors = new MirrorPodSyncer({ config, client: new MirrorPodClient({ rest, nodeName: options.nodeName, logger: log }), logger: log });
      const node = nodeControllerFromOptions(options, { kubeConfig: kc, cri: ctx.cri, kubeletVersion, logger: log });
      const running: Record<string, Promise<void>> = {
        events: recorder.run(ctx.signal),
        'api pod source': source.run(ctx.signal),
        'mirror pods': mirrors.run(ctx.signal),
        node: node.run(ctx.signal),
      };
      if (options.config.rotateCertificates && options.bootstrapKubeconfig) {
        const rotator = new ClientCertificateRotator({
          kubeconfigPath,
          certDir: options.certDir,
          nodeName: options.nodeName,
          log: (e) => log.info(e, 'client certificate rotation'),
          // The typed client reads its certificate once: build a new one. The REST client
          // (reflector, events, node) re-reads its credentials by itself.
          onRotated: () => {
            core = makeKubeClients(loadKubeconfig(kubeconfigPath)).core;
            log.info('client certificate rotated; API clients use the new one');
          },
        });
        running['certificate rotation'] = rotator.run(ctx.signal);
      }
      return running;
    },
  };
}
