/*
 * The kubelet's composition root: builds every part from the resolved options and runs
 * them until the signal aborts. Parts, in the order a pod meets them:
 *
 *   sources (API pods bound here, static pod files) ─► PodSourceMerger ─► PodReconciler ─► PodWorkers ─► PodSyncer
 *        ▲                                                               ▲                 │ plan: computePodActions
 *        │                              RuntimeCache (relist │ every 1 s) ◄───┤ act:  runtime/ (CRI)
 *   NodeController (register, lease, status)                                 └ report: StatusManager ─► API
 *
 * The pod half (reconciler to status manager, with GC) is PodLifecycle (pod-lifecycle.ts).
 * Standalone mode (no kubeconfig): only static pods, no API writes.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { backoffDelay, type BackoffPolicy } from '../common/backoff.js';
import { stderrLogger } from '../common/logger.js';
import { TskubeError } from '../common/errors.js';
import { memoryReleaseLoop } from '../common/memory-release.js';
import { CriClient } from '../cri-client/index.js';
import { askVersion, type CriRuntime } from './runtime/cri-runtime.js';
import type { KubeletOptions } from './options/kubelet-options.js';
import { parseResolvConf } from './cri-requests/resolv-conf.js';
import type { NodeContext } from './cri-request-builders.js';
import { PodLifecycle } from './pod-lifecycle.js';
import { podKey } from './pods/pod-names.js';
import { isStaticPod } from './pods/pod-source.js';
import { ReferencedObjectCache } from './referenced-objects.js';
import { restTokenRequest, ServiceAccountTokens } from './volumes/service-account-tokens.js';
import type { PodEvents } from './runtime/executor-deps.js';
import { decideCgroupDriver, queryRuntimeCgroupDriver } from './node/cgroup-driver.js';
import { startFileSource } from './kubelet-sources.js';
import { connectToApi, type ApiConnection } from './kubelet-api.js';
import { PodSourceMerger } from './pods/sources/pod-source-merger.js';
import { sleep } from '../common/sleep.js';
import { KubeletMetrics } from './metrics/kubelet-metrics.js';
import { prepareKubeletApi } from './kubelet-serving.js';
import { kubeletAdmitter } from './kubelet-admission.js';
import { hostAppArmorEnabled } from './admission/apparmor-host.js';
import { detectCgroupLayout } from './cm/cgroup-layout.js';
import { checkConfigAgainstHost } from './cm/host-config-checks.js';
import { tryParseQuantity } from '../kube/quantity.js';
import { ContainerLogRotator } from './logs/container-log-rotator.js';
import { EvictionManager } from './eviction/eviction-manager.js';
import { ShutdownManager } from './shutdown/shutdown-manager.js';
import { busctlLogind } from './shutdown/logind-bus.js';
import { LogindShutdownWatcher } from './shutdown/logind-watcher.js';
import { evictionThresholds } from './eviction/thresholds.js';
import { ImageGc } from './gc/image-gc.js';
import type { NodeEvents } from './kubelet-api.js';
import { NodeStatsProvider } from './stats/node-stats.js';
import { cgroupManagerFromConfig } from './cm/cgroup-manager-from-config.js';
import { nodeAllocatable } from './node/allocatable.js';
import { nodeLabels } from './node/build-node.js';
import { NodeFactsGatherer } from './node/gather-node-facts.js';
import type { NodeFacts } from './node/node-facts.js';
import { nodeSettingsFromOptions } from './node/node-settings.js';
import { kubeletFailedStatus, type KubeletStop } from './pods/terminal-status.js';
import { kubeletVersion } from './version.js';
import { PodNetwork } from './network/pod-network.js';
import { nodePodCIDRs } from './network/pod-attachment.js';

const statusIsFinal = (phase: string | undefined) => phase === 'Succeeded' || phase === 'Failed';

export function kubeletLogger(verbosity: number): Logger {
  return stderrLogger('kubelet', process.env['TSKUBE_LOG_LEVEL'] ?? (verbosity >= 4 ? 'debug' : 'info'), { component: 'kubelet' });
}

/** The node's addresses when --node-ip is not given: every global unicast address of the host. */
export function detectHostIPs(): string[] {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.internal || a.address.startsWith('fe80:')) continue;
      (a.family === 'IPv4' ? v4 : v6).push(a.address);
    }
  }
  return [...v4.slice(0, 1), ...v6.slice(0, 1)];
}

/** Asking a runtime that is not there yet: 0.5 s doubling to 10 s. */
const runtimeWaitBackoff: BackoffPolicy = { initialMs: 500, maxMs: 10_000, factor: 2, jitter: 0 };

async function waitForRuntime(cri: CriRuntime, log: Logger, signal: AbortSignal): Promise<string> {
  let said = false;
  for (let attempt = 0; ; attempt++) {
    try {
      const v = await askVersion(cri, { signal });
      if (said) log.info({ endpoint: cri.endpoint }, 'container runtime is back');
      return `${v.runtimeName}://${v.runtimeVersion}`;
    } catch (err) {
      if (signal.aborted) throw TskubeError.from(err);
      if (!said) log.error({ endpoint: cri.endpoint, err: TskubeError.from(err).message }, 'waiting for the container runtime');
      said = true;
      await sleep(backoffDelay(runtimeWaitBackoff, attempt, 0), signal);
    }
  }
}

function logEvents(log: Logger): PodEvents {
  const line = (level: 'info' | 'warn') => (pod: V1Pod, reason: string, message: string) => log[level]({ pod: podKey(pod), reason }, message);
  return { normal: line('info'), warning: line('warn') };
}

/**
 * Runs the kubelet's long-lived parts until the signal aborts. The first part to fail
 * stops the kubelet; after an abort every part gets a few seconds to finish, and the
 * ones that do not are named in the log rather than holding the process.
 */
async function runParts(parts: Record<string, Promise<void>>, signal: AbortSignal, log: Logger): Promise<void> {
  const pending = new Set(Object.keys(parts));
  const settled = Object.entries(parts).map(([name, p]) =>
    p.then(
      () => {
        pending.delete(name);
        if (!signal.aborted) log.warn({ part: name }, 'kubelet part ended early');
      },
      (err: unknown) => {
        pending.delete(name);
        if (!signal.aborted) throw TskubeError.from(err).wrap(name);
      },
    ),
  );
  const aborted = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  await Promise.race([Promise.all(settled), aborted.then(() => undefined)]);
  if (!signal.aborted) return;
  // Not unref'd: a part stuck on a promise that holds no handle would otherwise let the
  // loop drain with the kubelet's own promise unsettled (Node exits 13, not 0).
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, 5000)));
  await Promise.race([Promise.allSettled(settled), grace]);
  clearTimeout(timer);
  if (pending.size > 0) log.warn({ parts: [...pending] }, 'parts still stopping at exit');
}

export async function runKubelet(options: KubeletOptions, signal: AbortSignal): Promise<void> {
  const log = kubeletLogger(options.verbosity);
  const cfg = options.config;
  const metrics = new KubeletMetrics(options.nodeName);
  const cri = new CriClient({
    endpoint: cfg.containerRuntimeEndpoint,
    imageEndpoint: cfg.imageServiceEndpoint || cfg.containerRuntimeEndpoint,
    timeoutMs: cfg.runtimeRequestTimeout,
    observe: metrics.runtimeOperation,
  });
  const runtimeVersion = await waitForRuntime(cri, log, signal);
  // One clear error (and exit 1) on a mismatch, rather than pods failing one by one.
  const cgroup = decideCgroupDriver(
    await queryRuntimeCgroupDriver(cri, { timeoutMs: 5000, signal }),
    cfg.cgroupDriver === 'systemd' ? 'systemd' : 'cgroupfs',
    cri.endpoint,
  );
  if (!cgroup.ok) {
    cri.close();
    throw cgroup.error;
  }
  const settings = nodeSettingsFromOptions(options, kubeletVersion);
  const gatherer = new NodeFactsGatherer({ rootDir: options.rootDir, detectHostIPs: options.nodeIPs.length === 0 });
  // The machine's capacity for allocatable; refreshed with every gather (status, eviction).
  let facts = await gatherer.gather();
  const gatherFacts = async (): Promise<NodeFacts> => (facts = await gatherer.gather());
  const podSources = new PodSourceMerger();
  const api: ApiConnection | undefined = options.kubeconfig || options.bootstrapKubeconfig ? await connectToApi(options, podSources, log, signal) : undefined;
  const hostIPs = options.nodeIPs.length ? options.nodeIPs : detectHostIPs();
  const resolvText = cfg.resolvConf ? await readFile(cfg.resolvConf, 'utf8').catch(() => '') : '';
  const { totalmem } = await import('node:os');
  const layout = await detectCgroupLayout();
  checkConfigAgainstHost(cfg, { cgroupV2: layout.version === 2, swaps: await readFile('/proc/swaps', 'utf8').catch(() => '') });
  // The pod machinery is built below; the node-level parts reach it through these, called only once it runs.
  let pods: PodLifecycle | undefined;
  /** Pods admitted and still meant to run: what cgroups, eviction and shutdown act on (none before the pod machinery exists). */
  const activePods = (): V1Pod[] => {
    if (!pods) return [];
    const { reconciler, workers, statuses } = pods;
    return [...reconciler.desired().values()].filter((p) => {
      const uid = p.metadata?.uid ?? '';
      return admitter.isAdmitted(uid) && workers.phase(uid) === 'syncing' && !statusIsFinal(statuses.statusOf(uid)?.phase);
    });
  };
  const cgroups = cfg.cgroupsPerQOS
    ? cgroupManagerFromConfig({
        config: cfg,
        driver: cgroup.driver,
        layout,
        capacity: () => ({ cpuMillis: facts.cpuCores * 1000, memoryBytes: facts.memoryBytes, pids: facts.pidMax }),
        // Asked only once the pods exist: setup() below runs before activePods is defined.
        activePods: () => (pods ? activePods() : []),
        knownPodUids: () => pods?.reconciler.knownPodUids(),
        log,
      })
    : undefined;
  // One clear error (and exit 1) when the cgroups cannot be made, before any pod starts.
  await cgroups?.setup();
  const node: NodeContext = {
    nodeName: options.nodeName,
    hostIPs: () => hostIPs,
    clusterDNS: cfg.clusterDNS,
    clusterDomain: cfg.clusterDomain,
    hostResolv: parseResolvConf(resolvText),
    podLogsRoot: cfg.podLogsDir || '/var/log/pods',
    cgroupParent: (pod) => cgroups?.podCgroupParent(pod) ?? (cfg.cgroupRoot || ''),
    cgroupV2: layout.version === 2,
    cpuCFSQuota: cfg.cpuCFSQuota,
    seccompDefault: cfg.seccompDefault,
    singleProcessOOMKill: cfg.singleProcessOOMKill ?? layout.version === 1,
    nodeMemoryCapacityBytes: totalmem(),
    allocatable: () => {
      const a = nodeAllocatable(facts, settings);
      return { cpu: `${a.cpuMillis}m`, memory: String(a.memoryBytes), 'ephemeral-storage': String(a.ephemeralBytes) };
    },
    rootDir: options.rootDir,
  };
  const objects = new ReferencedObjectCache({
    ...(api ? { rest: api.rest } : {}),
    log,
    // A referenced object appeared or changed: the pods using it sync now (env, volumes).
    onChanged: (uids) => {
      for (const uid of uids) pods?.workers.resync(uid);
    },
  });
  const events = api?.events ?? logEvents(log);
  const nodeEvents: NodeEvents = api?.nodeEvents ?? {
    normal: (reason, message) => log.info({ node: options.nodeName, reason }, message),
    warning: (reason, message) => log.warn({ node: options.nodeName, reason }, message),
  };
  const finishDeletion = async (pod: V1Pod): Promise<void> => {
    if (!api || isStaticPod(pod)) return;
    await api.podStatus.deleteFinal(pod.metadata?.namespace ?? 'default', pod.metadata?.name ?? '', pod.metadata?.uid ?? '');
  };
  /** Stops a pod on the kubelet's own account: Failed with the reason, then terminated within the grace period. */
  const stopPod = (pod: V1Pod, stop: KubeletStop, gracePeriodSeconds?: number): void => {
    if (!pods) return;
    const uid = pod.metadata?.uid ?? '';
    events.warning(pod, stop.reason, stop.message);
    pods.statuses.set(pod, kubeletFailedStatus(pod, pods.statuses.statusOf(uid) ?? pod.status, stop, new Date()));
    pods.workers.terminate(pod, gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30);
  };
  const stats = new NodeStatsProvider({
    cri,
    rootDir: options.rootDir,
    ...(layout.version === 1 && layout.mounts.get('memory') ? { memoryCgroupMount: layout.mounts.get('memory') as string } : {}),
  });
  const imageGc = new ImageGc({
    cri,
    stats,
    policy: {
      highThresholdPercent: cfg.imageGCHighThresholdPercent,
      lowThresholdPercent: cfg.imageGCLowThresholdPercent,
      minAgeMs: cfg.imageMinimumGCAge,
      maxAgeMs: cfg.imageMaximumGCAge,
    },
    events: nodeEvents,
    log,
    periodMs: options.imageGcPeriodMs,
  });
  const shutdown = new ShutdownManager({
    gracePeriodMs: cfg.shutdownGracePeriod,
    criticalGracePeriodMs: cfg.shutdownGracePeriodCriticalPods,
    activePods,
    stop: (pod, stop, grace) => stopPod(pod, stop, grace),
    stopped: async (pod) => {
      while (pods?.workers.phase(pod.metadata?.uid ?? '') !== 'terminated' && !signal.aborted) await sleep(200, signal);
    },
    log,
  });
  const shutdownWatcher = new LogindShutdownWatcher({
    bus: busctlLogind(),
    gracePeriodMs: cfg.shutdownGracePeriod,
    shutdown: () => shutdown.shutdown(),
    cancelled: () => shutdown.cancel(),
    events: nodeEvents,
    log,
  });
  const eviction = new EvictionManager({
    stats,
    thresholds: evictionThresholds(cfg),
    pressureTransitionPeriodMs: cfg.evictionPressureTransitionPeriod,
    maxPodGracePeriodSeconds: cfg.evictionMaxPodGracePeriod,
    activePods,
    reclaimDisk: async () => {
      await imageGc.collect();
      await pods?.gc.collectOnce();
    },
    evict: (pod, stop, grace) => stopPod(pod, stop, grace),
    events: nodeEvents,
    log,
  });
  const admitter = kubeletAdmitter({
    config: cfg,
    nodeName: options.nodeName,
    localNode: () => ({ name: options.nodeName, labels: nodeLabels(facts, settings), taints: settings.taints }),
    ...(api ? { apiNode: () => api.node(), fetchNode: () => api.fetchNode() } : {}),
    allocatable: () => nodeAllocatable(facts, settings),
    pressure: () => eviction.pressure(),
    shuttingDown: () => shutdown.shuttingDown,
    appArmorEnabled: await hostAppArmorEnabled(),
    reject: (pod, reason, message) => {
      events.warning(pod, reason, message);
      pods?.statuses.set(
        pod,
        kubeletFailedStatus(
          pod,
          pods.statuses.statusOf(pod.metadata?.uid ?? '') ?? pod.status,
          { reason, message: `Pod was rejected: ${message}` },
          new Date(),
        ),
      );
    },
    preempt: (victim) =>
      stopPod(victim, {
        reason: 'Preempting',
        message: 'Preempted in order to admit critical pod',
        disruption: 'Pod was preempted by Kubelet to accommodate a critical pod.',
      }),
    log,
  });
  // Kubelet-managed pod networking: the runtime's CNI calls come here through tskube-cni-shim.
  const network = options.cni
    ? new PodNetwork({
        settings: options.cni,
        stateDir: join(options.rootDir, 'cni'),
        runtime: cri,
        pod: (uid) => pods?.reconciler.desired().get(uid),
        // The Node as the status loop last read it; read afresh while it shows no pod CIDR
        // (the controller manager assigns one just after registration).
        podCIDRs: async () => {
          if (!api) return undefined;
          const known = nodePodCIDRs(api.node());
          return known.length ? known : nodePodCIDRs(await api.fetchNode());
        },
        events: nodeEvents,
        log,
      })
    : undefined;
  pods = new PodLifecycle({
    runtime: cri,
    runtimeName: runtimeVersion.split('://')[0] ?? 'containerd',
    node,
    objects,
    ...(api ? { cluster: api.cluster } : {}),
    events,
    nodeWarning: (reason, message) => nodeEvents.warning(reason, message),
    sources: [...(cfg.staticPodPath ? (['file'] as const) : []), ...(api ? (['api'] as const) : [])],
    ...(api ? { statusApi: { api: api.podStatus, target: api.statusTarget } } : {}),
    finishDeletion,
    rootDir: options.rootDir,
    containerLogLinksDir: options.containerLogLinksDir,
    containerGcPeriodMs: options.containerGcPeriodMs,
    observe: { relisted: metrics.relisted, status: metrics.podStatus, removed: metrics.podRemoved, probes: metrics.probes },
    ...(cgroups ? { podCgroups: { ensure: (pod: V1Pod) => cgroups.ensurePod(pod) } } : {}),
    tokens: new ServiceAccountTokens({
      ...(api ? { request: restTokenRequest(api.rest) } : {}),
      ...(options.tokenRefreshFraction ? { refreshFraction: options.tokenRefreshFraction } : {}),
    }),
    ...(network ? { network: { podIPs: (id: string) => network.podIPs(id) } } : {}),
    admission: admitter,
    allocatable: () => nodeAllocatable(facts, settings),
    onRemoved: async (uid) => {
      admitter.forget(uid);
      await cgroups?.removePod(uid);
    },
    resyncMs: Math.min(cfg.syncFrequency || 10_000, 10_000),
    ...(cfg.crashLoopBackOff?.maxContainerRestartPeriod ? { maxContainerRestartPeriodMs: cfg.crashLoopBackOff.maxContainerRestartPeriod } : {}),
    maxParallelImagePulls: cfg.serializeImagePulls ? 1 : (cfg.maxParallelImagePulls ?? Number.POSITIVE_INFINITY),
    log,
  });
  const lifecycle = pods;
  // The root dir exists from the start, as upstream's data dirs do: stats and eviction statfs it.
  await mkdir(options.rootDir, { recursive: true, mode: 0o750 });
  await mkdir(options.containerLogLinksDir, { recursive: true, mode: 0o755 });
  metrics.setRuntimePods(() => lifecycle.cache.all());
  const kubeletApi = await prepareKubeletApi({
    options,
    cri,
    metrics,
    pods: () => podSources.pods(),
    podStatus: (uid) => lifecycle.statuses.statusOf(uid),
    runtimePods: () => lifecycle.cache.all(),
    hostIPs: () => hostIPs,
    rest: api?.rest,
    syncLoopEnteredAt: () => lifecycle.reconciler.loopEnteredAt,
    log,
  });

  // Before any pod syncs: its sandbox's network comes through the socket this opens.
  await network?.start(signal);
  podSources.subscribe((source, list) => lifecycle.reconciler.setPods(source, list));
  // A status that waited for its API object (a static pod's mirror pod) goes once it shows up.
  podSources.onChange(() => lifecycle.statuses.targetsChanged());
  log.info(
    {
      node: options.nodeName,
      runtime: runtimeVersion,
      cgroupDriver: `${cgroup.driver} (from the ${cgroup.source})`,
      mode: api ? 'cluster' : 'standalone',
      staticPodPath: cfg.staticPodPath || undefined,
      podNetwork: network ? `the kubelet's (${options.cni?.confDir})` : "the runtime's",
    },
    'kubelet starting',
  );
  const memoryRelease = memoryReleaseLoop(log, signal);
  const parts: Record<string, Promise<void>> = {
    ...lifecycle.run(signal),
    'referenced objects': objects.run(signal),
    'image gc': imageGc.run(signal),
    eviction: eviction.run(signal),
    ...(cgroups ? { cgroups: cgroups.run(signal) } : {}),
    ...(network ? { 'pod network': network.run(signal) } : {}),
    'log rotation': new ContainerLogRotator({
      cri,
      maxSizeBytes: tryParseQuantity(cfg.containerLogMaxSize) ?? 10 * 2 ** 20,
      maxFiles: cfg.containerLogMaxFiles,
      workers: cfg.containerLogMaxWorkers,
      intervalMs: cfg.containerLogMonitorInterval,
      log,
    }).run(signal),
    ...startFileSource(options, podSources, log, signal),
    'node shutdown watch': shutdownWatcher.run(signal),
    ...(api
      ? api.run({
          cri,
          signal,
          notes: kubeletApi.notes,
          facts: gatherFacts,
          pressure: () => eviction.pressure(),
          shuttingDown: () => shutdown.shuttingDown,
          ...(network ? { networkReady: () => network.condition() } : {}),
        })
      : {}),
    ...kubeletApi.run(signal),
    ...(memoryRelease ? { 'memory release': memoryRelease } : {}),
  };
  try {
    await runParts(parts, signal, log);
  } finally {
    // Every part and pod worker has let go of the runtime before its client closes.
    await pods.stop();
    cri.close();
    log.info('kubelet stopped; containers keep running');
  }
}
