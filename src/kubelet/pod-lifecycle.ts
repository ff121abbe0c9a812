/*
 * The kubelet's pod machinery, assembled around one container runtime: the runtime cache
 * (relist every second), the pod syncer and its per-pod workers, the reconciler between
 * the pod sources and the workers, the status manager, the prober and container GC. kubelet.ts builds
 * it on the CRI client; unit tests build the same thing on the in-memory runtime, so what
 * they exercise is what runs on a node.
 */
import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { TskubeError } from '../common/errors.js';
import { containerSpecHash } from './cri-requests/container-hash.js';
import { ContainerGc } from './gc/container-gc.js';
import { removePodLogs } from './gc/log-links.js';
import { type ClusterLookup, type NodeContext, type ObjectLookup, criRequestBuilders } from './cri-request-builders.js';
import { podStatusEqual } from './pods/compute-pod-status.js';
import { CrashBackoff } from './pods/crash-backoff.js';
import { podKey } from './pods/pod-names.js';
import { type PodAdmission, PodReconciler } from './pods/pod-reconciler.js';
import type { PodSourceName } from './pods/pod-source.js';
import { PodSyncer } from './pods/pod-syncer.js';
import { PodWorkers } from './pods/pod-workers.js';
import type { CriRuntime } from './runtime/cri-runtime.js';
import type { ExecutorDeps, PodEvents } from './runtime/executor-deps.js';
import { ImagePuller } from './runtime/image-puller.js';
import { RuntimeCache } from './runtime/runtime-cache.js';
import { RuntimeObserver } from './runtime/runtime-observer.js';
import { PodResizeManager } from './resize/pod-resize-manager.js';
import type { PodStatusApi } from './status/pod-status-api.js';
import { ProberManager } from '../probes/prober-manager.js';
import type { ProbeObserver } from '../probes/probe-worker.js';
import { StatusManager } from './status/status-manager.js';
import { systemMounter, type Mounter } from './volumes/mounter.js';
import { ServiceAccountTokens } from './volumes/service-account-tokens.js';
import { VolumeManager } from './volumes/volume-manager.js';
import { errorMessage } from '../common/errors.js';
import { sleep } from '../common/sleep.js';

export interface PodLifecycleOptions {
  runtime: CriRuntime;
  /** "containerd", for container IDs in the status (containerd://…). */
  runtimeName: string;
  node: NodeContext;
  /** What pods' env, pull secrets and volumes refer to; `prefetch` runs before each sync, `release` once a pod's containers are gone. */
  objects: ObjectLookup & { prefetch?(pod: V1Pod): Promise<void>; release?(uid: string): void };
  /** The mount table's seam (mount(8) on a node, an in-memory table in unit tests). */
  mounter?: Mounter;
  /** Service-account tokens for projected volumes (none standalone). */
  tokens?: ServiceAccountTokens;
  /** How often pod directories nobody knows are looked for and removed, volumes first (upstream's housekeeping). */
  orphanSweepMs?: number;
  /** Services and RuntimeClasses, in cluster mode. */
  cluster?: ClusterLookup;
  events: PodEvents;
  /** Warning events about the Node itself. */
  nodeWarning?: (reason: string, message: string) => void;
  /** The sources that must list once before runtime leftovers may be removed. */
  sources: PodSourceName[];
  /** The API side of pod status; absent in standalone mode, where statuses are only kept for the kubelet's use. */
  statusApi?: { api: PodStatusApi; target: (pod: V1Pod) => V1Pod | undefined };
  /** Completes the API deletion of a pod whose containers are gone. */
  finishDeletion: (pod: V1Pod) => Promise<void>;
  rootDir: string;
  containerLogLinksDir: string;
  containerGcPeriodMs: number;
  /** How often every pod is reconciled even when nothing changes. */
  resyncMs: number;
  maxContainerRestartPeriodMs?: number;
  /** Image pulls at once: 1 with serializeImagePulls (upstream's default), else maxParallelImagePulls (Infinity when unset). */
  maxParallelImagePulls?: number;
  log: Logger;
  /** Observers for the kubelet's metrics; none of them may throw. */
  observe?: PodLifecycleObservers;
  /** Makes each pod's cgroup before its sandbox (cgroupsPerQOS). */
  podCgroups?: ExecutorDeps['podCgroups'];
  /** Kubelet-managed pod networking, when on (--network-plugin=cni). */
  network?: ExecutorDeps['network'];
  /** Node-level admission of pods about to start for the first time. */
  admission?: PodAdmission;
  /** What pods may take of the node, for in-place resizes (unlimited when absent). */
  allocatable?: () => { cpuMillis: number; memoryBytes: number };
  /** After a pod is removed from the runtime and disk: what else the kubelet keeps of it (its cgroup, its admission). */
  onRemoved?: (uid: string) => Promise<void>;
}

export interface PodLifecycleObservers {
  relisted?: (durationMs: number, startedAt: number) => void;
  /** Probe runs (/metrics/probes). */
  probes?: ProbeObserver;
  status?: (pod: V1Pod, status: V1PodStatus) => void;
  removed?: (uid: string) => void;
}

export class PodLifecycle {
  readonly cache: RuntimeCache;
  readonly statuses: StatusManager;
  readonly prober: ProberManager;
  readonly syncer: PodSyncer;
  readonly workers: PodWorkers;
  readonly reconciler: PodReconciler;
  readonly gc: ContainerGc;
  readonly resize: PodResizeManager;
  readonly volumes: VolumeManager;
  readonly #o: PodLifecycleOptions;

  constructor(o: PodLifecycleOptions) {
    this.#o = o;
    const { log, node } = o;
    this.volumes = new VolumeManager({
      rootDir: o.rootDir,
      mounter: o.mounter ?? systemMounter,
      objects: o.objects,
      tokens: o.tokens ?? new ServiceAccountTokens({}),
      allocatable: () => node.allocatable(),
      clusterDomain: node.clusterDomain,
      log,
    });
    const deps: ExecutorDeps = {
      cri: o.runtime,
      rootDir: o.rootDir,
      containerLogLinksDir: o.containerLogLinksDir,
      images: new ImagePuller(o.runtime, Date.now, o.maxParallelImagePulls ?? 1),
      builders: criRequestBuilders(node, o.objects, o.cluster),
      events: o.events,
      log,
      ...(o.podCgroups ? { podCgroups: o.podCgroups } : {}),
      ...(o.nodeWarning ? { nodeWarning: o.nodeWarning } : {}),
      volumes: this.volumes,
      ...(o.network ? { network: o.network } : {}),
    };
    this.resize = new PodResizeManager({
      events: o.events,
      ...(o.allocatable ? { allocatable: o.allocatable } : {}),
      activePods: () => [...this.reconciler.desired().values()].filter((p) => this.workers.phase(p.metadata?.uid ?? '') === 'syncing'),
    });
    this.cache = new RuntimeCache(new RuntimeObserver(o.runtime, { rootDir: o.rootDir }), {
      onPodChanged: (uid) => this.workers.resync(uid),
      onHealth: (healthy, err) => (healthy ? log.info('runtime relist recovered') : log.error({ err: err?.message }, 'runtime relist failing')),
      ...(o.observe?.relisted ? { onRelisted: o.observe.relisted } : {}),
    });
    this.statuses = new StatusManager({
      ...(o.statusApi ? { api: o.statusApi.api, target: o.statusApi.target } : {}),
      couldHaveRunningContainers: (uid) => this.workers.couldHaveRunningContainers(uid),
      equal: (a, b) => podStatusEqual(a, b),
      log,
      onError: (pod, err) => log.warn({ pod: podKey(pod), err: err.message }, 'writing pod status failed; will retry'),
      onStatus: (pod, status) => {
        o.observe?.status?.(pod, status);
        this.prober.statusChanged(pod, status);
      },
    });
    this.prober = new ProberManager({
      cri: o.runtime,
      statusOf: (uid) => this.statuses.statusOf(uid),
      onResultChanged: (uid) => {
        // A terminating pod's worker is busy stopping it: its readiness reaches the status the short way.
        const pod = this.workers.phase(uid) === 'terminating' ? this.workers.pod(uid) : undefined;
        if (pod)
          this.syncer.reportTerminating(pod).catch((err: unknown) => log.warn({ uid, err: TskubeError.from(err).message }, 'reporting readiness failed'));
        else this.workers.resync(uid);
      },
      warning: (pod, fieldPath, reason, message) => o.events.warning(pod, reason, message, fieldPath),
      observe: o.observe?.probes,
      log,
    });
    this.syncer = new PodSyncer({
      deps,
      cache: this.cache,
      statuses: this.statuses,
      backoff: new CrashBackoff(o.maxContainerRestartPeriodMs ? { maxMs: o.maxContainerRestartPeriodMs } : {}),
      specHash: containerSpecHash,
      hostIPs: () => node.hostIPs(),
      runtimeName: o.runtimeName,
      log,
      prefetch: async (pod) => o.objects.prefetch?.(pod),
      probes: this.prober,
      resize: this.resize,
    });
    this.workers = new PodWorkers({
      sync: (pod, s) => {
        this.prober.addPod(pod);
        return this.syncer.sync(pod, s);
      },
      terminate: (pod, grace, s) => {
        // A terminating pod's containers are not restarted: no liveness or startup probe may kill one now.
        this.prober.stopLivenessAndStartup(pod.metadata?.uid ?? '');
        return this.syncer.terminate(pod, grace, s);
      },
      terminated: async (pod) => {
        this.prober.removePod(pod.metadata?.uid ?? '');
        // Every container has stopped: the volumes go (a finished pod keeps its API object, not its mounts).
        const uid = pod.metadata?.uid ?? '';
        o.objects.release?.(uid);
        await this.volumes.tearDown(uid);
        // The containers are gone: finish the API deletion so `kubectl delete` returns.
        if (pod.metadata?.deletionTimestamp) await o.finishDeletion(pod);
        // A terminal phase held back while containers could run may be written now.
        this.statuses.recheck(pod.metadata?.uid ?? '');
        this.reconciler.trigger();
      },
      onError: (pod, op, err, retryIn) => log.warn({ pod: podKey(pod), op, retryInMs: retryIn }, err.message),
    });
    this.reconciler = new PodReconciler({
      ...(o.admission ? { admission: o.admission } : {}),
      workers: this.workers,
      sources: o.sources,
      runtimeUids: async () => new Set((await this.cache.all()).keys()),
      isFinished: (uid) => {
        const phase = this.statuses.statusOf(uid)?.phase;
        return phase === 'Succeeded' || phase === 'Failed';
      },
      finishDeletion: o.finishDeletion,
      remove: async (uid) => {
        this.prober.removePod(uid);
        await this.syncer.removeFromRuntime(uid);
        o.objects.release?.(uid);
        await this.volumes.removePod(uid);
        await removePodLogs(node.podLogsRoot, o.containerLogLinksDir, uid);
        this.statuses.forget(uid);
        this.resize.forget(uid);
        await o.onRemoved?.(uid);
        o.observe?.removed?.(uid);
      },
      log,
      resyncMs: o.resyncMs,
    });
    this.gc = new ContainerGc({
      cri: o.runtime,
      runtimePods: () => this.cache.all(),
      knownPodUids: () => this.reconciler.knownPodUids(),
      podLogsRoot: node.podLogsRoot,
      linksDir: o.containerLogLinksDir,
      periodMs: o.containerGcPeriodMs,
      log,
    });
  }

  /** The long-running parts, by name, for the kubelet's supervisor. */
  run(signal: AbortSignal): Record<string, Promise<void>> {
    return {
      'runtime relist': this.cache.run(signal),
      // Standalone, statuses are only kept for the planner: nothing to write them to.
      ...(this.#o.statusApi ? { 'pod status': this.statuses.run(signal) } : {}),
      reconciler: this.reconciler.run(signal),
      'container gc': this.gc.run(signal),
      'orphaned pod dirs': this.#sweepOrphans(signal),
    };
  }

  /**
   * Removes the directories (volumes first) of pods no source wants, no worker handles and
   * the runtime does not hold: left by a pod deleted while the kubelet was down.
   */
  async #sweepOrphans(signal: AbortSignal): Promise<void> {
    const failing = new Set<string>();
    while (!signal.aborted) {
      await sleep(this.#o.orphanSweepMs ?? 10_000, signal);
      // Directories first: one made after this listing belongs to a pod the checks below already know.
      const dirs = await this.volumes.podDirs();
      const known = this.reconciler.knownPodUids();
      if (!known || signal.aborted) continue;
      const inRuntime = await this.cache.all().catch(() => undefined);
      if (!inRuntime) continue;
      for (const uid of dirs) {
        if (known.has(uid) || inRuntime.has(uid)) continue;
        try {
          await this.volumes.removePod(uid);
          failing.delete(uid);
          this.#o.log.info({ uid }, 'removed the directory of an orphaned pod');
        } catch (err) {
          if (!failing.has(uid)) this.#o.log.warn({ uid, err: errorMessage(err) }, 'removing the directory of an orphaned pod failed; will retry');
          failing.add(uid);
        }
      }
    }
  }

  /**
   * Aborts what the pod workers are doing (shutdown) and waits, a few seconds at most, for
   * them to let go of the runtime; containers keep running.
   */
  async stop(): Promise<void> {
    this.workers.stop();
    this.prober.stop();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.workers.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, 5000)))]);
    clearTimeout(timer);
  }
}
