// `tskube proxy`, put together:
//
//   reflectors (Services, EndpointSlices, this Node, ServiceCIDRs)
//        │ handlers only feed the trackers and ask for a sync
//        ▼
//   ProxySyncer ── one writer, minSyncPeriod apart ──► back end per IP family (nftables | iptables | ipvs)
//        │ after each sync                                 └─ the kernel, atomically
//        ├─► conntrack reconciler (UDP)
//        └─► health-check servers of externalTrafficPolicy=Local Services
//   :10256 /healthz /livez        :10249 /metrics /proxyMode /configz
import { writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { networkInterfaces } from 'node:os';
import { pino } from 'pino';
import { TskubeError } from '../common/errors.js';
import { memoryReleaseLoop } from '../common/memory-release.js';
import { sleep } from '../common/sleep.js';
import { EventRecorder, nodeReference } from '../kube/event-recorder.js';
import { inClusterKubeconfig, type Kubeconfig, loadKubeconfig, withServer } from '../kube/kubeconfig.js';
import type { Logger } from '../common/logger.js';
import type { KubeObject } from '../kube/object-meta.js';
import { type Reflector, reflectorFor } from '../kube/reflector.js';
import { RestClient } from '../kube/rest-client.js';
import type { ProxyBackend } from './backend.js';
import type { ProxyOptions } from './config/options.js';
import { ConntrackReconciler } from './conntrack/conntrack-reconciler.js';
import { applyConntrackSettings } from './conntrack/conntrack-sysctls.js';
import { type Exec, processExec } from './exec/exec.js';
import { labelTopologyZone, type EndpointSlice, type Node, proxyLabelSelector, type Service } from './model/api-objects.js';
import { EndpointSliceChangeTracker, ServiceChangeTracker } from './model/change-trackers.js';
import { ServiceMap } from './model/service-map.js';
import type { IPFamily } from './net/ip.js';
import { type HostAddress, nodeHostIPs, proxyNodeConfig } from './plan/node-settings.js';
import { createBackends } from './backends.js';
import { cleanupOtherModes } from './cleanup.js';
import { boundPort, closeServer, healthHandler, type Listen, listenHere, metricsHandler, splitHostPort } from './server/http-servers.js';
import { ProxyHealthState } from './server/proxy-health.js';
import { ProxyMetrics } from './server/proxy-metrics.js';
import { ServiceHealthServers } from './server/service-health-servers.js';
import { ProxySyncer } from './sync/proxy-syncer.js';
import { proxyVersion } from './version.js';

export interface ProxyRunDeps {
  exec?: Exec;
  listen?: Listen;
  /** The addresses on this host's interfaces (NodePort addresses). */
  hostAddresses?: () => HostAddress[];
  log?: Logger;
  /** Called once the first sync of every family is done, with the bound server ports. */
  onReady?: (info: { healthzPort?: number; metricsPort?: number; families: IPFamily[] }) => void;
}

export function hostAddressesHere(): HostAddress[] {
  const out: HostAddress[] = [];
  for (const [name, list] of Object.entries(networkInterfaces())) for (const a of list ?? []) out.push({ interface: name, address: a.address });
  return out;
}

/** Upstream's verbosity levels onto pino's: 0-1 info, 2-3 debug-ish info, 4+ debug. */
export function proxyLogger(verbosity: number): Logger {
  const level = process.env['TSKUBE_LOG_LEVEL'] ?? (verbosity >= 4 ? 'debug' : 'info');
  return pino({ name: 'tskube-proxy', level }, pino.destination(2));
}

function kubeConfigFor(options: ProxyOptions): Kubeconfig {
  let kc: Kubeconfig;
  if (options.kubeconfig) kc = loadKubeconfig(options.kubeconfig);
  else {
    try {
      kc = inClusterKubeconfig();
    } catch (err) {
      throw new TskubeError(
        'invalid-argument',
        `no kubeconfig (--kubeconfig or clientConnection.kubeconfig) and no in-cluster service account: ${TskubeError.from(err).detail}`,
      );
    }
  }
  return options.master ? withServer(kc, options.master) : kc;
}

export async function runProxy(options: ProxyOptions, signal: AbortSignal, deps: ProxyRunDeps = {}): Promise<void> {
  const log = deps.log ?? proxyLogger(options.verbosity);
  const exec = deps.exec ?? processExec;
  const listen = deps.listen ?? listenHere;
  const hostAddresses = deps.hostAddresses ?? hostAddressesHere;
  const metrics = new ProxyMetrics();
  const health = new ProxyHealthState(2 * options.syncPeriodMs);

  const backends = await createBackends(options, { exec, metrics, log }, signal);
  const families = [...backends.keys()];
  log.info({ mode: options.mode, families, nodeName: options.nodeName, version: proxyVersion }, 'starting the service proxy');
  await cleanupOtherModes(options.mode, exec, log, signal);
  await applyConntrackSettings(options.config.conntrack, log);
  await setOomScoreAdj(options.config.oomScoreAdj, log);

  const kc = kubeConfigFor(options);
  const rest = new RestClient(kc, { userAgent: `tskube-proxy/${proxyVersion} (${options.nodeName})` });
  const services = new ServiceChangeTracker(families, (family, ports) => backends.get(family)?.portsRead?.(ports));
  const slices = new EndpointSliceChangeTracker();
  let node: Node | undefined;
  let serviceCIDRs: string[] = [];

  const conntrack = new ConntrackReconciler({ exec, metrics, log });
  const healthServers = new ServiceHealthServers({
    listen,
    addresses: (family) => {
      const c = proxyNodeConfig({ family, options, node, host: hostAddresses(), serviceCIDRs });
      if (!c.nodePortAddresses.matchAll) return c.nodePortAddresses.ips;
      return [family === 'IPv4' ? '0.0.0.0' : '::'];
    },
    proxyHealthy: () => health.health(Date.now()).healthy,
    log,
    onListenFailed: (service, port, err) => {
      const [namespace, name] = service.split('/');
      recorder.warning(
        { apiVersion: 'v1', kind: 'Service', namespace: namespace!, name: name! },
        'FailedToStartServiceHealthcheck',
        `node ${options.nodeName} failed to start healthcheck "${service}" on port ${port}: ${TskubeError.from(err).detail}`,
      );
    },
  });
  const syncer = new ProxySyncer({
    families: families.map((family) => ({ map: new ServiceMap(family), backend: backends.get(family)! })),
    services,
    slices,
    nodeName: options.nodeName,
    nodeConfig: (family) => proxyNodeConfig({ family, options, node, host: hostAddresses(), serviceCIDRs }),
    schedule: { minIntervalMs: options.minSyncPeriodMs, retryIntervalMs: options.syncPeriodMs, maxIntervalMs: 3_600_000 },
    metrics,
    health,
    log,
    after: [conntrack, healthServers],
  });
  const recorder = new EventRecorder({ rest, component: 'kube-proxy', host: options.nodeName, logger: log });

  const serviceReflector = reflectorFor<Service>(rest, '/api/v1/services', {
    name: 'services',
    labelSelector: proxyLabelSelector,
    logger: log,
    handler: {
      onAdd: (s) => services.update(undefined, s) && syncer.requestSync(),
      onUpdate: (old, s) => services.update(old, s) && syncer.requestSync(),
      onDelete: (s) => services.update(s, undefined) && syncer.requestSync(),
    },
  });
  const sliceReflector = reflectorFor<EndpointSlice>(rest, '/apis/discovery.k8s.io/v1/endpointslices', {
    name: 'endpointslices',
    labelSelector: proxyLabelSelector,
    logger: log,
    handler: {
      onAdd: (s) => slices.update(s, false) && syncer.requestSync(),
      onUpdate: (_old, s) => slices.update(s, false) && syncer.requestSync(),
      onDelete: (s) => slices.update(s, true) && syncer.requestSync(),
    },
  });
  // The node's zone, addresses and pod CIDRs shape every rule: a change means a full sync.
  const nodeFingerprint = (n: Node | undefined) => JSON.stringify([n?.metadata?.labels?.[labelTopologyZone] ?? '', nodeHostIPs(n), n?.spec?.podCIDRs ?? []]);
  const setNode = (n: Node | undefined) => {
    const changed = nodeFingerprint(n) !== nodeFingerprint(node);
    node = n;
    if (changed) {
      log.info({ zone: n?.metadata?.labels?.[labelTopologyZone] ?? '', nodeIPs: nodeHostIPs(n) }, 'node settings changed; syncing all rules');
      syncer.requestFullSync();
    }
  };
  const nodeReflector = reflectorFor<Node>(rest, '/api/v1/nodes', {
    name: 'node',
    fieldSelector: `metadata.name=${options.nodeName}`,
    logger: log,
    handler: { onAdd: setNode, onUpdate: (_o, n) => setNode(n), onDelete: () => setNode(undefined) },
  });
  const cidrReflector = reflectorFor<KubeObject & { spec?: { cidrs?: string[] } }>(rest, '/apis/networking.k8s.io/v1/servicecidrs', {
    name: 'servicecidrs',
    logger: log,
    handler: { onSynced: () => refreshCidrs(), onAdd: () => refreshCidrs(), onUpdate: () => refreshCidrs(), onDelete: () => refreshCidrs() },
  });
  // Traffic to an unallocated address of a Service CIDR is dropped; a new CIDR changes the fixed rules.
  function refreshCidrs(): void {
    const next = cidrReflector.store.list().flatMap((c) => c.spec?.cidrs ?? []);
    if (JSON.stringify(next) === JSON.stringify(serviceCIDRs)) return;
    serviceCIDRs = next;
    syncer.requestFullSync();
  }

  const servers: Server[] = [];
  const bind = async (address: string, what: string, handler: Parameters<Listen>[2]): Promise<number | undefined> => {
    if (address === '') return undefined;
    const { host, port } = splitHostPort(address);
    try {
      const server = await listen(host, port, handler);
      servers.push(server);
      return boundPort(server);
    } catch (err) {
      const e = TskubeError.from(err).wrap(`${what} server on ${address}`);
      if (options.config.bindAddressHardFail) throw e;
      log.error({ err: e.message }, `cannot serve ${what}; going on without it (bindAddressHardFail is false)`);
      recorder.warning(nodeReference(options.nodeName), what === 'healthz' ? 'FailedToStartProxierHealthcheck' : 'FailedToStartMetricServer', e.detail);
      return undefined;
    }
  };
  const healthzPort = await bind(options.config.healthzBindAddress, 'healthz', healthHandler({ health, metrics, node: () => node }));
  const metricsPort = await bind(options.config.metricsBindAddress, 'metrics', metricsHandler({ metrics, mode: options.mode, configz: () => options.config }));

  const runs: Promise<void>[] = [
    recorder.run(signal),
    serviceReflector.run(signal),
    sliceReflector.run(signal),
    nodeReflector.run(signal),
    cidrReflector.run(signal),
    syncer.run(signal),
  ];
  // A full sync builds every rule anew: the heap V8 grows for it stays resident unless given back.
  const memoryRelease = memoryReleaseLoop(log, signal);
  if (memoryRelease) runs.push(memoryRelease);
  try {
    await waitReady([serviceReflector, sliceReflector], signal);
    await settleNodeSettings([nodeReflector, cidrReflector], signal);
    if (!signal.aborted) {
      recorder.normal(nodeReference(options.nodeName), 'Starting', 'StartKubeProxy');
      syncer.setInitialized();
      await Promise.race([syncer.synced, abortion(signal)]);
      if (!signal.aborted) {
        log.info({ healthzPort, metricsPort }, 'proxy rules in place; serving');
        deps.onReady?.({ ...(healthzPort !== undefined && { healthzPort }), ...(metricsPort !== undefined && { metricsPort }), families });
      }
    }
    await Promise.all(runs);
  } finally {
    await healthServers.close();
    await Promise.all(servers.map(closeServer));
  }
}

async function waitReady(reflectors: Reflector<KubeObject>[], signal: AbortSignal): Promise<void> {
  await Promise.race([Promise.all(reflectors.map((r) => r.ready)), abortion(signal)]);
}

/** How long the first sync waits for the Node and ServiceCIDR lists after the Services and slices are in. */
const nodeSettingsWaitMs = 2000;

// The Node (addresses, zone, pod CIDRs) and the ServiceCIDRs shape every rule: a first sync
// made before their lists land is redone in full as soon as they do (seen at start in about
// one run in four at 1,000 Services, a second full sync a second after the first). Upstream
// waits for its Node before it starts; tskube waits for both, briefly, and goes on without
// them when they are late (an API server without ServiceCIDRs, say).
async function settleNodeSettings(reflectors: Reflector<KubeObject>[], signal: AbortSignal): Promise<void> {
  let wake: (() => void) | undefined;
  const listed = Promise.all(reflectors.map((r) => r.ready)).then(
    () => wake?.(),
    () => wake?.(),
  );
  await Promise.race([listed, sleep(nodeSettingsWaitMs, signal, (w) => (wake = w))]);
}

function abortion(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

async function setOomScoreAdj(value: number, log: Logger): Promise<void> {
  try {
    await writeFile('/proc/self/oom_score_adj', String(value));
  } catch (err) {
    log.warn({ oomScoreAdj: value, err: TskubeError.from(err).detail }, 'cannot set oom_score_adj; going on');
  }
}

export type { ProxyBackend };
