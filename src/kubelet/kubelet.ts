/*
 * The kubelet's composition root: builds every part from the resolved options and runs
 * them until the signal aborts. Parts, in the order a pod meets them:
 *
 *   sources (API pods bound here, static pod files) ─► PodConfig ─► PodReconciler ─► PodWorkers ─► PodSyncer
 *        ▲                                                               ▲                 │ plan: computePodActions
 *        │                              RuntimeCache (relist │ every 1 s) ◄───┤ act:  runtime/ (CRI)
 *   NodeController (register, lease, status)                                 └ report: StatusManager ─► API
 *
 * Standalone mode (no kubeconfig): only static pods, no API writes.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import type { V1Pod } from '@kubernetes/client-node';
import { pino, type Logger } from 'pino';
import { TskubeError } from '../common/errors.js';
import { CriClient } from '../cri-client/index.js';
import type { KubeletOptions } from './config/options.js';
import { containerSpecHash } from './cri-config/container-hash.js';
import { parseResolvConf } from './cri-config/resolv-conf.js';
import { podConfigBuilders, type NodeContext } from './pod-config-builders.js';
import { podStatusEqual } from './pods/compute-pod-status.js';
import { CrashBackoff } from './pods/crash-backoff.js';
import { PodReconciler, type PodSourceName } from './pods/pod-reconciler.js';
import { PodSyncer } from './pods/pod-syncer.js';
import { PodWorkers } from './pods/pod-workers.js';
import { ReferencedObjectCache } from './referenced-objects.js';
import type { PodEvents } from './runtime/executor-deps.js';
import { ImagePuller } from './runtime/image-puller.js';
import { decideCgroupDriver, queryRuntimeCgroupDriver } from './node/cgroup-driver.js';
import { removePodDir } from './runtime/pod-dirs.js';
import { ContainerGc } from './gc/container-gc.js';
import { removePodLogs } from './gc/log-links.js';
import { RuntimeCache } from './runtime/runtime-cache.js';
import { RuntimeObserver } from './runtime/runtime-observer.js';
import { StatusManager } from './status/status-manager.js';
import { startFileSource } from './kubelet-sources.js';
import { connectToApi, type ApiConnection } from './kubelet-api.js';
import { PodConfig } from './pods/sources/pod-config.js';
import { sleep } from '../kube/sleep.js';

export function kubeletLogger(verbosity: number): Logger {
  const level = process.env['TSKUBE_LOG_LEVEL'] ?? (verbosity >= 4 ? 'debug' : 'info');
  return pino({ name: 'kubelet', level, base: { component: 'kubelet' } }, pino.destination(2));
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

async function waitForRuntime(cri: CriClient, log: Logger, signal: AbortSignal): Promise<string> {
  let said = false;
  for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
    try {
      const v = await cri.version({ signal });
      if (said) log.info({ endpoint: cri.endpoint }, 'container runtime is back');
      return `${v.runtimeName}://${v.runtimeVersion}`;
    } catch (err) {
      if (signal.aborted) throw TskubeError.from(err);
      if (!said) log.error({ endpoint: cri.endpoint, err: TskubeError.from(err).message }, 'waiting for the container runtime');
      said = true;
      await sleep(delay, signal);
    }
  }
}

function logEvents(log: Logger): PodEvents {
  const line = (level: 'info' | 'warn') => (pod: V1Pod, reason: string, message: string) =>
    log[level]({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, reason }, message);
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
  const cri = new CriClient({
    endpoint: cfg.containerRuntimeEndpoint,
    imageEndpoint: cfg.imageServiceEndpoint || cfg.containerRuntimeEndpoint,
    timeoutMs: cfg.runtimeRequestTimeout,
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
  const podConfig = new PodConfig();
  const api: ApiConnection | undefined = options.kubeconfig || options.bootstrapKubeconfig ? await connectToApi(options, podConfig, log, signal) : undefined;
  const hostIPs = options.nodeIPs.length ? options.nodeIPs : detectHostIPs();
  const resolvText = cfg.resolvConf ? await readFile(cfg.resolvConf, 'utf8').catch(() => '') : '';
  const { totalmem, availableParallelism } = await import('node:os');
  const node: NodeContext = {
    nodeName: options.nodeName,
    hostIPs: () => hostIPs,
    clusterDNS: cfg.clusterDNS,
    clusterDomain: cfg.clusterDomain,
    hostResolv: parseResolvConf(resolvText),
    podLogsRoot: cfg.podLogsDir || '/var/log/pods',
    cgroupDriver: cgroup.driver,
    nodeMemoryCapacityBytes: totalmem(),
    allocatable: { cpu: String(availableParallelism()), memory: String(totalmem()) },
    rootDir: options.rootDir,
  };
  const objects = new ReferencedObjectCache(api?.core);
  const events = api?.events ?? logEvents(log);
  const deps = {
    cri,
    rootDir: options.rootDir,
    containerLogLinksDir: options.containerLogLinksDir,
    images: new ImagePuller(cri),
    builders: podConfigBuilders(node, objects),
    events,
  };

  let workers: PodWorkers | undefined;
  const cache = new RuntimeCache(new RuntimeObserver(cri, { rootDir: options.rootDir }), {
    onPodChanged: (uid) => workers?.resync(uid),
    onHealth: (healthy, err) => (healthy ? log.info('runtime relist recovered') : log.error({ err: err?.message }, 'runtime relist failing')),
  });
  const statuses = new StatusManager({
    ...(api ? { api: api.podStatus, target: api.statusTarget } : {}),
    equal: (a, b) => podStatusEqual(a, b),
    onError: (pod, err) => log.warn({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, err: err.message }, 'writing pod status failed; will retry'),
  });
  const syncer = new PodSyncer({
    deps,
    cache,
    statuses,
    backoff: new CrashBackoff(cfg.crashLoopBackOff?.maxContainerRestartPeriod ? { maxMs: cfg.crashLoopBackOff.maxContainerRestartPeriod } : {}),
    specHash: containerSpecHash,
    hostIPs: () => hostIPs,
    runtimeName: runtimeVersion.split('://')[0] ?? 'containerd',
    log,
    prefetch: (pod) => objects.prefetch(pod),
  });
  workers = new PodWorkers({
    sync: (pod, s) => syncer.sync(pod, s),
    terminate: (pod, grace, s) => syncer.terminate(pod, grace, s),
    terminated: async (pod) => {
      // The containers are gone: finish the API deletion so `kubectl delete` returns.
      if (pod.metadata?.deletionTimestamp) await finishDeletion(pod);
      reconciler.trigger();
    },
    onError: (pod, op, err, retryIn) => log.warn({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, op, retryInMs: retryIn }, err.message),
  });
  const finishDeletion = async (pod: V1Pod): Promise<void> => {
    if (!api || pod.metadata?.annotations?.['kubernetes.io/config.source'] === 'file') return;
    await api.podStatus.deleteFinal(pod.metadata?.namespace ?? 'default', pod.metadata?.name ?? '', pod.metadata?.uid ?? '');
  };
  const sourceNames: PodSourceName[] = [...(cfg.staticPodPath ? (['file'] as const) : []), ...(api ? (['api'] as const) : [])];
  const reconciler = new PodReconciler({
    workers,
    sources: sourceNames,
    runtimeUids: async () => new Set((await cache.all()).keys()),
    isFinished: (uid) => {
      const phase = statuses.statusOf(uid)?.phase;
      return phase === 'Succeeded' || phase === 'Failed';
    },
    finishDeletion,
    remove: async (uid) => {
      await syncer.removeFromRuntime(uid);
      await removePodDir(options.rootDir, uid);
      await removePodLogs(node.podLogsRoot, options.containerLogLinksDir, uid);
      statuses.forget(uid);
    },
    log,
    resyncMs: Math.min(cfg.syncFrequency || 10_000, 10_000),
  });

  const gc = new ContainerGc({
    cri,
    runtimePods: () => cache.all(),
    knownPodUids: () => reconciler.knownPodUids(),
    podLogsRoot: node.podLogsRoot,
    linksDir: options.containerLogLinksDir,
    periodMs: options.containerGcPeriodMs,
    log,
  });
  await mkdir(options.containerLogLinksDir, { recursive: true, mode: 0o755 });

  podConfig.subscribe((source, pods) => reconciler.setPods(source, pods));
  log.info(
    {
      node: options.nodeName,
      runtime: runtimeVersion,
      cgroupDriver: `${cgroup.driver} (from the ${cgroup.source})`,
      mode: api ? 'cluster' : 'standalone',
      staticPodPath: cfg.staticPodPath || undefined,
    },
    'kubelet starting',
  );
  const parts: Record<string, Promise<void>> = {
    'runtime relist': cache.run(signal),
    // Standalone, statuses are only kept for the planner: nothing to write them to.
    ...(api ? { 'pod status': statuses.run(signal) } : {}),
    reconciler: reconciler.run(signal),
    'container gc': gc.run(signal),
    ...startFileSource(options, podConfig, log, signal),
    ...(api ? api.run({ cri, signal }) : {}),
  };
  try {
    await runParts(parts, signal, log);
  } finally {
    workers.stop();
    cri.close();
    log.info('kubelet stopped; containers keep running');
  }
}
