/*
 * The kubelet's own Prometheus metrics, served at /metrics, with upstream's names, labels,
 * buckets and help texts (pkg/kubelet/metrics), so dashboards and alerts written for the
 * upstream kubelet read them unchanged. The kubelet's parts report through the few
 * functions here; nothing else touches prom-client.
 */
import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TskubeError } from '../../common/errors.js';
import type { ProbeLabels, ProbeObserver } from '../../probes/probe-worker.js';
import type { PodRuntimeState } from '../pods/runtime-state.js';

/** prometheus.DefBuckets. */
const defBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const podStartupBuckets = [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600];
/** ExponentialBuckets(.005, 2.5, 14). */
const runtimeOperationBuckets = Array.from({ length: 14 }, (_, i) => 0.005 * 2.5 ** i);
const alpha = (help: string) => `[ALPHA] ${help}`;
const beta = (help: string) => `[BETA] ${help}`;

/**
 * Upstream's operation_type for a CRI RPC (instrumented_services.go): snake case, with
 * "pod_sandbox" written "podsandbox" and UpdateContainerResources as update_container.
 */
export function runtimeOperationType(method: string): string {
  if (method === 'UpdateContainerResources') return 'update_container';
  return method
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/pod_sandbox/g, 'podsandbox');
}

// Label names in Go's order (sorted), so the text reads as upstream's does.
const probeTotalLabels = (l: ProbeLabels, result: 'successful' | 'failed' | 'unknown') => ({
  container: l.container,
  namespace: l.namespace,
  pod: l.pod,
  pod_uid: l.pod_uid,
  probe_type: l.probe_type,
  result,
});
const probeDurationLabels = (l: ProbeLabels) => ({ container: l.container, namespace: l.namespace, pod: l.pod, probe_type: l.probe_type });

export interface HttpRequestLabels {
  method: string;
  path: string;
  server_type: 'readonly' | 'readwrite';
  long_running: 'true' | 'false';
}

export class KubeletMetrics {
  readonly registry = new Registry();
  /** /metrics/probes: the prober's metrics alone, as upstream serves them. */
  readonly probeRegistry = new Registry();
  readonly #probeTotal: Counter<keyof ProbeLabels | 'result'>;
  readonly #probeDuration: Histogram<Exclude<keyof ProbeLabels, 'pod_uid'>>;
  readonly #runtimeOps: Counter<'operation_type'>;
  readonly #runtimeOpErrors: Counter<'operation_type'>;
  readonly #runtimeOpDuration: Histogram<'operation_type'>;
  readonly #relistDuration: Histogram;
  readonly #relistInterval: Histogram;
  readonly #plegLastSeen: Gauge;
  readonly #podStartDuration: Histogram;
  readonly #httpRequests: Counter<keyof HttpRequestLabels>;
  readonly #httpDuration: Histogram<keyof HttpRequestLabels>;
  readonly #httpInflight: Gauge<keyof HttpRequestLabels>;
  readonly #websocketStreams: Counter<'subresource'>;
  #runtimePods: () => Promise<ReadonlyMap<string, PodRuntimeState>> = async () => new Map();
  #servingNotAfter: () => Date | undefined = () => undefined;
  #lastRelistAt: number | undefined;
  /** Pods whose start was observed (or which were running when first seen), by UID. */
  readonly #started = new Set<string>();

  constructor(nodeName: string) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    new Gauge({ name: 'kubelet_node_name', help: alpha("The node's name. The count is always 1."), labelNames: ['node'], registers }).set(
      { node: nodeName },
      1,
    );
    const self = this;
    new Gauge({
      name: 'kubelet_running_pods',
      help: alpha('Number of pods that have a running pod sandbox'),
      registers,
      async collect() {
        const pods = await self.#runtimePods();
        this.set([...pods.values()].filter((p) => p.sandboxes.some((s) => s.phase === 'ready')).length);
      },
    });
    new Gauge({
      name: 'kubelet_running_containers',
      help: alpha('Number of containers currently running'),
      labelNames: ['container_state'],
      registers,
      async collect() {
        const counts: Record<string, number> = { created: 0, running: 0, exited: 0, unknown: 0 };
        for (const pod of (await self.#runtimePods()).values()) for (const c of pod.containers) counts[c.phase] = (counts[c.phase] ?? 0) + 1;
        this.reset();
        for (const [state, n] of Object.entries(counts)) this.set({ container_state: state }, n);
      },
    });
    this.#runtimeOps = new Counter({
      name: 'kubelet_runtime_operations_total',
      help: alpha('Cumulative number of runtime operations by operation type.'),
      labelNames: ['operation_type'],
      registers,
    });
    this.#runtimeOpErrors = new Counter({
      name: 'kubelet_runtime_operations_errors_total',
      help: alpha('Cumulative number of runtime operation errors by operation type.'),
      labelNames: ['operation_type'],
      registers,
    });
    this.#runtimeOpDuration = new Histogram({
      name: 'kubelet_runtime_operations_duration_seconds',
      help: alpha('Duration in seconds of runtime operations. Broken down by operation type.'),
      labelNames: ['operation_type'],
      buckets: runtimeOperationBuckets,
      registers,
    });
    this.#relistDuration = new Histogram({
      name: 'kubelet_pleg_relist_duration_seconds',
      help: alpha('Duration in seconds for relisting pods in PLEG.'),
      buckets: defBuckets,
      registers,
    });
    this.#relistInterval = new Histogram({
      name: 'kubelet_pleg_relist_interval_seconds',
      help: alpha('Interval in seconds between relisting in PLEG.'),
      buckets: defBuckets,
      registers,
    });
    this.#plegLastSeen = new Gauge({ name: 'kubelet_pleg_last_seen_seconds', help: alpha('Timestamp in seconds when PLEG was last seen active.'), registers });
    this.#podStartDuration = new Histogram({
      name: 'kubelet_pod_start_duration_seconds',
      help: alpha('Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run'),
      buckets: podStartupBuckets,
      registers,
    });
    const httpLabels: (keyof HttpRequestLabels)[] = ['method', 'path', 'server_type', 'long_running'];
    this.#httpRequests = new Counter({
      name: 'kubelet_http_requests_total',
      help: alpha('Number of the http requests received since the server started'),
      labelNames: httpLabels,
      registers,
    });
    this.#httpDuration = new Histogram({
      name: 'kubelet_http_requests_duration_seconds',
      help: alpha('Duration in seconds to serve http requests'),
      labelNames: httpLabels,
      buckets: defBuckets,
      registers,
    });
    this.#websocketStreams = new Counter({
      name: 'kubelet_websocket_streaming_requests_total',
      help: alpha('Total number of WebSocket streaming requests (exec/attach/portforward) received by the kubelet.'),
      labelNames: ['subresource'],
      registers,
    });
    this.#httpInflight = new Gauge({
      name: 'kubelet_http_inflight_requests',
      help: alpha('Number of the inflight http requests'),
      labelNames: httpLabels,
      registers,
    });
    const startTime = Date.now() / 1000 - process.uptime();
    new Gauge({
      name: 'process_start_time_seconds',
      help: alpha('Start time of the process since unix epoch in seconds.'),
      registers: [this.probeRegistry],
      collect() {
        this.set(startTime);
      },
    });
    this.#probeTotal = new Counter({
      name: 'prober_probe_total',
      help: beta('Cumulative number of a liveness, readiness or startup probe for a container by result.'),
      labelNames: ['probe_type', 'result', 'container', 'pod', 'namespace', 'pod_uid'],
      registers: [this.probeRegistry],
    });
    this.#probeDuration = new Histogram({
      name: 'prober_probe_duration_seconds',
      help: alpha('Duration in seconds for a probe response.'),
      labelNames: ['probe_type', 'container', 'pod', 'namespace'],
      buckets: defBuckets,
      registers: [this.probeRegistry],
    });
    new Gauge({
      name: 'kubelet_certificate_manager_server_ttl_seconds',
      help: alpha(
        "Gauge of the shortest TTL (time-to-live) of the Kubelet's serving certificate. The value is in seconds until certificate expiry (negative if already expired). If serving certificate is invalid or unused, the value will be +INF.",
      ),
      registers,
      collect() {
        const notAfter = self.#servingNotAfter();
        this.set(notAfter ? (notAfter.getTime() - Date.now()) / 1000 : Number.POSITIVE_INFINITY);
      },
    });
  }

  /** Where kubelet_running_pods and kubelet_running_containers come from (the runtime cache). */
  setRuntimePods(source: () => Promise<ReadonlyMap<string, PodRuntimeState>>): void {
    this.#runtimePods = source;
  }

  /** The serving certificate's expiry, for kubelet_certificate_manager_server_ttl_seconds. */
  setServingCertificate(notAfter: () => Date | undefined): void {
    this.#servingNotAfter = notAfter;
  }

  /** One CRI call ended (the CRI client's observer). */
  readonly runtimeOperation = (method: string, durationMs: number, error: TskubeError | undefined): void => {
    const labels = { operation_type: runtimeOperationType(method) };
    this.#runtimeOps.inc(labels);
    this.#runtimeOpDuration.observe(labels, durationMs / 1000);
    if (error) this.#runtimeOpErrors.inc(labels);
  };

  /** One relist of the runtime finished, taking `durationMs`, started at `startedAt` (ms since the epoch). */
  readonly relisted = (durationMs: number, startedAt: number): void => {
    this.#relistDuration.observe(durationMs / 1000);
    if (this.#lastRelistAt !== undefined) this.#relistInterval.observe((startedAt - this.#lastRelistAt) / 1000);
    this.#lastRelistAt = startedAt;
    this.#plegLastSeen.set(Date.now() / 1000);
  };

  /**
   * A pod's status was computed. The first time it is Running, observe how long since
   * the kubelet first saw it (the kubernetes.io/config.seen annotation), as upstream.
   * Only the first time the pod runs: an API status that already said Running (the
   * kubelet restarted) or a restarted container is not a pod start.
   */
  readonly podStatus = (pod: V1Pod, status: V1PodStatus, now = Date.now()): void => {
    const uid = pod.metadata?.uid;
    if (!uid || this.#started.has(uid) || status.phase !== 'Running') return;
    this.#started.add(uid);
    // Running already as far as the API knows (a kubelet restart): no start to time.
    if (pod.status?.phase === 'Running') return;
    const seen = Date.parse(pod.metadata?.annotations?.['kubernetes.io/config.seen'] ?? '');
    if (Number.isFinite(seen)) this.#podStartDuration.observe(Math.max(0, now - seen) / 1000);
  };

  /** Probe runs: prober_probe_total, and prober_probe_duration_seconds for the ones that did not fail (as upstream). */
  readonly probes: ProbeObserver = {
    probed: (labels, result, durationMs) => {
      this.#probeTotal.inc(probeTotalLabels(labels, result));
      if (result !== 'failed') this.#probeDuration.observe(probeDurationLabels(labels), durationMs / 1000);
    },
    forget: (labels) => {
      for (const result of ['successful', 'failed', 'unknown'] as const) this.#probeTotal.remove(probeTotalLabels(labels, result));
      this.#probeDuration.remove(probeDurationLabels(labels));
    },
  };

  /** A pod is gone: forget it. */
  readonly podRemoved = (uid: string): void => {
    this.#started.delete(uid);
  };

  /** A websocket stream the kubelet ends itself (v5 exec/attach, tunneled port-forward). */
  websocketStream(subresource: 'exec' | 'attach' | 'portforward'): void {
    this.#websocketStreams.inc({ subresource });
  }

  /** Counts an HTTP request and returns the function that ends it. */
  httpRequest(labels: HttpRequestLabels): () => void {
    this.#httpRequests.inc(labels);
    this.#httpInflight.inc(labels);
    const end = this.#httpDuration.startTimer(labels);
    return () => {
      end();
      this.#httpInflight.dec(labels);
    };
  }
}
