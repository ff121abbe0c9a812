// kube-proxy's metrics under upstream's names, labels and buckets (pkg/proxy/metrics), in
// a registry of their own that :10249/metrics serves.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const exponential = (start: number, factor: number, count: number) => Array.from({ length: count }, (_, i) => start * factor ** i);
const linear = (start: number, width: number, count: number) => Array.from({ length: count }, (_, i) => start + width * i);

export type IPFamilyLabel = 'IPv4' | 'IPv6';

export class ProxyMetrics {
  readonly registry = new Registry();
  readonly syncDuration: Histogram<'ip_family'>;
  readonly syncFullDuration: Histogram<'ip_family'>;
  readonly syncPartialDuration: Histogram<'ip_family'>;
  readonly lastSync: Gauge<'ip_family'>;
  readonly lastQueued: Gauge<'ip_family'>;
  readonly networkProgramming: Histogram<'ip_family'>;
  readonly endpointChangesPending: Gauge;
  readonly endpointChangesTotal: Counter;
  readonly serviceChangesPending: Gauge;
  readonly serviceChangesTotal: Counter;
  readonly iptablesRestoreFailures: Counter<'ip_family'>;
  readonly iptablesPartialRestoreFailures: Counter<'ip_family'>;
  readonly iptablesTotal: Gauge<'table' | 'ip_family'>;
  readonly iptablesLast: Gauge<'table' | 'ip_family'>;
  readonly nftablesSyncFailures: Counter<'ip_family'>;
  readonly nftablesCleanupFailures: Counter<'ip_family'>;
  readonly healthzTotal: Counter<'code'>;
  readonly livezTotal: Counter<'code'>;
  readonly noLocalEndpoints: Gauge<'traffic_policy' | 'ip_family'>;
  readonly conntrackReconcileDuration: Histogram<'ip_family'>;
  readonly conntrackDeleted: Counter<'ip_family'>;

  constructor() {
    const registers = [this.registry];
    const syncBuckets = exponential(0.001, 2, 15);
    this.syncDuration = new Histogram({
      name: 'kubeproxy_sync_proxy_rules_duration_seconds',
      help: 'SyncProxyRules latency in seconds',
      labelNames: ['ip_family'],
      buckets: syncBuckets,
      registers,
    });
    this.syncFullDuration = new Histogram({
      name: 'kubeproxy_sync_full_proxy_rules_duration_seconds',
      help: 'SyncProxyRules latency in seconds for full resyncs',
      labelNames: ['ip_family'],
      buckets: syncBuckets,
      registers,
    });
    this.syncPartialDuration = new Histogram({
      name: 'kubeproxy_sync_partial_proxy_rules_duration_seconds',
      help: 'SyncProxyRules latency in seconds for partial resyncs',
      labelNames: ['ip_family'],
      buckets: syncBuckets,
      registers,
    });
    this.lastSync = new Gauge({
      name: 'kubeproxy_sync_proxy_rules_last_timestamp_seconds',
      help: 'The last time proxy rules were successfully synced',
      labelNames: ['ip_family'],
      registers,
    });
    this.lastQueued = new Gauge({
      name: 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds',
      help: 'The last time a sync of proxy rules was queued',
      labelNames: ['ip_family'],
      registers,
    });
    this.networkProgramming = new Histogram({
      name: 'kubeproxy_network_programming_duration_seconds',
      help: 'In Cluster Network Programming Latency in seconds',
      labelNames: ['ip_family'],
      buckets: [...linear(0.25, 0.25, 2), ...linear(1, 1, 59), ...linear(60, 5, 12), ...linear(120, 30, 7)],
      registers,
    });
    this.endpointChangesPending = new Gauge({
      name: 'kubeproxy_sync_proxy_rules_endpoint_changes_pending',
      help: 'Pending proxy rules Endpoint changes',
      registers,
    });
    this.endpointChangesTotal = new Counter({
      name: 'kubeproxy_sync_proxy_rules_endpoint_changes_total',
      help: 'Cumulative proxy rules Endpoint changes',
      registers,
    });
    this.serviceChangesPending = new Gauge({
      name: 'kubeproxy_sync_proxy_rules_service_changes_pending',
      help: 'Pending proxy rules Service changes',
      registers,
    });
    this.serviceChangesTotal = new Counter({
      name: 'kubeproxy_sync_proxy_rules_service_changes_total',
      help: 'Cumulative proxy rules Service changes',
      registers,
    });
    this.iptablesRestoreFailures = new Counter({
      name: 'kubeproxy_sync_proxy_rules_iptables_restore_failures_total',
      help: 'Cumulative proxy iptables restore failures',
      labelNames: ['ip_family'],
      registers,
    });
    this.iptablesPartialRestoreFailures = new Counter({
      name: 'kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total',
      help: 'Cumulative proxy iptables partial restore failures',
      labelNames: ['ip_family'],
      registers,
    });
    this.iptablesTotal = new Gauge({
      name: 'kubeproxy_sync_proxy_rules_iptables_total',
      help: 'Total number of iptables rules owned by kube-proxy',
      labelNames: ['table', 'ip_family'],
      registers,
    });
    this.iptablesLast = new Gauge({
      name: 'kubeproxy_sync_proxy_rules_iptables_last',
      help: 'Number of iptables rules written by kube-proxy in last sync',
      labelNames: ['table', 'ip_family'],
      registers,
    });
    this.nftablesSyncFailures = new Counter({
      name: 'kubeproxy_sync_proxy_rules_nftables_sync_failures_total',
      help: 'Cumulative proxy nftables sync failures',
      labelNames: ['ip_family'],
      registers,
    });
    this.nftablesCleanupFailures = new Counter({
      name: 'kubeproxy_sync_proxy_rules_nftables_cleanup_failures_total',
      help: 'Cumulative proxy nftables cleanup failures',
      labelNames: ['ip_family'],
      registers,
    });
    this.healthzTotal = new Counter({ name: 'kubeproxy_proxy_healthz_total', help: 'Cumulative proxy healthz HTTP status', labelNames: ['code'], registers });
    this.livezTotal = new Counter({ name: 'kubeproxy_proxy_livez_total', help: 'Cumulative proxy livez HTTP status', labelNames: ['code'], registers });
    this.noLocalEndpoints = new Gauge({
      name: 'kubeproxy_sync_proxy_rules_no_local_endpoints_total',
      help: 'Number of services with a Local traffic policy and no endpoints',
      labelNames: ['traffic_policy', 'ip_family'],
      registers,
    });
    this.conntrackReconcileDuration = new Histogram({
      name: 'kubeproxy_conntrack_reconciler_sync_duration_seconds',
      help: 'ReconcileConntrackFlowsLatency latency in seconds',
      labelNames: ['ip_family'],
      buckets: syncBuckets,
      registers,
    });
    this.conntrackDeleted = new Counter({
      name: 'kubeproxy_conntrack_reconciler_deleted_entries_total',
      help: 'Cumulative conntrack flows deleted by conntrack reconciler',
      labelNames: ['ip_family'],
      registers,
    });
  }
}
