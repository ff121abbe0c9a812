/*
 * The kubelet's HTTPS API joined to the rest of the kubelet: the serving certificate,
 * the narrow KubeletHost view the server reads through, and the listeners. kubelet.ts
 * calls prepareKubeletApi() once the runtime and the API connection are up.
 */
import type { AddressInfo } from 'node:net';
import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { CriClient } from '../cri-client/index.js';
import type { RestClient } from '../kube/rest-client.js';
import { ServingCertificates } from './bootstrap/serving-certificate.js';
import { logCheck, pingCheck, syncLoopCheck } from './healthz/healthz.js';
import type { KubeletOptions } from './options/kubelet-options.js';
import type { KubeletMetrics } from './metrics/kubelet-metrics.js';
import type { PodRuntimeState } from './pods/runtime-state.js';
import type { KubeletHost } from './server/kubelet-host.js';
import { serveKubeletApi } from './server/serve-kubelet-api.js';

export interface KubeletApiDeps {
  options: KubeletOptions;
  cri: CriClient;
  metrics: KubeletMetrics;
  pods: () => readonly V1Pod[];
  podStatus: (uid: string) => V1PodStatus | undefined;
  runtimePods: () => Promise<ReadonlyMap<string, PodRuntimeState>>;
  hostIPs: () => string[];
  /** When the pod sync loop last started a pass (ms since the epoch), for /healthz's syncloop check. */
  syncLoopEnteredAt: () => number;
  /** The API connection's REST client; absent in standalone mode. */
  rest?: RestClient | undefined;
  log: Logger;
  onListening?: (address: AddressInfo) => void;
}

export interface PreparedKubeletApi {
  /** For the Ready condition: a serving CSR waiting for approval. */
  notes: () => string[];
  run(signal: AbortSignal): Record<string, Promise<void>>;
}

/** Loads the serving certificate (a bad tlsCertFile fails here, before anything runs) and builds the server's view of the kubelet. */
export async function prepareKubeletApi(d: KubeletApiDeps): Promise<PreparedKubeletApi> {
  const cfg = d.options.config;
  const certificates = new ServingCertificates({
    certDir: d.options.certDir,
    nodeName: d.options.nodeName,
    tlsCertFile: cfg.tlsCertFile,
    tlsPrivateKeyFile: cfg.tlsPrivateKeyFile,
    serverTLSBootstrap: cfg.serverTLSBootstrap,
    altNames: () => ({ dnsNames: [d.options.nodeName], ips: d.hostIPs() }),
    kubeconfigPath: d.rest ? d.options.kubeconfig : undefined,
    log: d.log.child({ component: 'serving-certificate' }),
  });
  if (cfg.enableServer) await certificates.load();
  d.metrics.setServingCertificate(() => certificates.current?.notAfter);
  const host: KubeletHost = {
    nodeName: d.options.nodeName,
    pods: d.pods,
    podStatus: d.podStatus,
    runtimePods: d.runtimePods,
    cri: d.cri,
    config: cfg,
    rootDir: d.options.rootDir,
    metrics: d.metrics,
    healthChecks: [pingCheck, logCheck, syncLoopCheck(d.syncLoopEnteredAt, cfg.syncFrequency)],
  };
  const rest = d.rest;
  return {
    notes: () => {
      const note = certificates.pendingNote();
      return note ? [note] : [];
    },
    run: (signal) =>
      serveKubeletApi(
        {
          host,
          certificates,
          review: rest ? (path, body) => rest.request('POST', path, { body }) : undefined,
          log: d.log,
          ...(d.onListening ? { onListening: d.onListening } : {}),
        },
        signal,
      ),
  };
}
