// The kubelet's pod machinery (PodLifecycle, as kubelet.ts assembles it) on a runtime of
// the test's choice — the in-memory one for unit tests, the real containerd for the
// agreement test — with pods handed in directly, events recorded, and its files in a
// temporary directory. Unit tests drive time with vitest's fake timers through tick().
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Container, V1Pod, V1PodSpec, V1PodStatus } from '@kubernetes/client-node';
import { pino } from 'pino';
import { vi } from 'vitest';
import type { NodeContext } from '../../src/kubelet/cri-request-builders.js';
import { PodLifecycle, type PodLifecycleOptions } from '../../src/kubelet/pod-lifecycle.js';
import type { PodSourceName } from '../../src/kubelet/pods/pod-source.js';
import type { CriRuntime } from '../../src/kubelet/runtime/cri-runtime.js';
import { FakeMounter } from './fake-mounter.js';

export interface RecordedEvent {
  pod: string;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface PodHarness {
  lifecycle: PodLifecycle;
  /** The mount table the kubelet's volumes use (in memory, unless the test passed a mounter). */
  mounter: FakeMounter;
  dir: string;
  rootDir: string;
  podLogsRoot: string;
  linksDir: string;
  events: RecordedEvent[];
  /** The kubelet's log lines (info and above), parsed. */
  logs: { level: number; msg: string; [field: string]: unknown }[];
  /** A source's complete set of pods (the API's by default). */
  setPods(pods: V1Pod[], source?: PodSourceName): void;
  status(pod: V1Pod): V1PodStatus | undefined;
  /** Every status the kubelet computed for the pod, oldest first (also those replaced before a test looked). */
  history(pod: V1Pod): V1PodStatus[];
  /** The distinct waiting reasons a container went through, in order. */
  waitingReasons(pod: V1Pod, container: string): string[];
  /** "Reason: message" of the events about one pod, in order. */
  eventsOf(pod: V1Pod): string[];
  /** Stops the kubelet's parts; containers keep running, as on a node. */
  stop(): Promise<void>;
  /** Stops and removes the temporary directory. */
  destroy(): Promise<void>;
}

/** The node the harness's kubelet runs on. */
export function testNode(rootDir: string, podLogsRoot: string): NodeContext {
  return {
    nodeName: 'node-1',
    hostIPs: () => ['192.0.2.10'],
    clusterDNS: ['10.96.0.10'],
    clusterDomain: 'cluster.local',
    hostResolv: { nameservers: ['192.0.2.53'], searches: [], options: [] },
    podLogsRoot,
    cgroupParent: () => '',
    cgroupV2: false,
    cpuCFSQuota: true,
    seccompDefault: false,
    singleProcessOOMKill: true,
    nodeMemoryCapacityBytes: 8 * 2 ** 30,
    allocatable: () => ({ cpu: '2', memory: String(8 * 2 ** 30) }),
    rootDir,
  };
}

// The real setTimeout, kept before any test fakes it: tick() waits on it for real file I/O.
const realSetTimeout = globalThis.setTimeout;

export function startPodHarness(options: {
  runtime: CriRuntime;
  sources?: PodSourceName[];
  /** Reuse the files of an earlier harness (a kubelet restart). */
  dir?: string;
  overrides?: Partial<PodLifecycleOptions>;
}): PodHarness {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'tskube-pods-'));
  const rootDir = join(dir, 'root');
  const podLogsRoot = join(dir, 'pod-logs');
  const linksDir = join(dir, 'containers');
  for (const d of [rootDir, podLogsRoot, linksDir]) mkdirSync(d, { recursive: true });
  const events: RecordedEvent[] = [];
  const record = (type: RecordedEvent['type']) => (pod: V1Pod, reason: string, message: string) =>
    events.push({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, type, reason, message });
  const logs: PodHarness['logs'] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const sources = options.sources ?? ['api'];
  const mounter = new FakeMounter();
  const lifecycle = new PodLifecycle({
    mounter,
    runtime: options.runtime,
    runtimeName: 'containerd',
    node: testNode(rootDir, podLogsRoot),
    objects: { configMap: () => undefined, secret: () => undefined },
    events: { normal: record('Normal'), warning: record('Warning') },
    sources,
    finishDeletion: async () => undefined,
    rootDir,
    containerLogLinksDir: linksDir,
    // Tests that look at GC run it themselves (or set a period); others keep every instance to look at.
    containerGcPeriodMs: 3_600_000,
    resyncMs: 10_000,
    log,
    ...options.overrides,
  });
  const history = new Map<string, V1PodStatus[]>();
  const set = lifecycle.statuses.set.bind(lifecycle.statuses);
  lifecycle.statuses.set = (pod, status) => {
    const uid = pod.metadata?.uid ?? '';
    history.set(uid, [...(history.get(uid) ?? []), status]);
    set(pod, status);
  };
  const controller = new AbortController();
  const parts = Object.values(lifecycle.run(controller.signal));
  const stop = async () => {
    if (controller.signal.aborted) return;
    controller.abort();
    void lifecycle.stop();
    await Promise.allSettled(parts);
  };
  return {
    lifecycle,
    mounter,
    dir,
    rootDir,
    podLogsRoot,
    linksDir,
    events,
    logs,
    setPods: (pods, source = sources[0] ?? 'api') => lifecycle.reconciler.setPods(source, pods),
    status: (pod) => lifecycle.statuses.statusOf(pod.metadata?.uid ?? ''),
    history: (pod) => history.get(pod.metadata?.uid ?? '') ?? [],
    waitingReasons: (pod, name) => {
      const reasons = (history.get(pod.metadata?.uid ?? '') ?? []).map(
        (s) => [...(s.initContainerStatuses ?? []), ...(s.containerStatuses ?? [])].find((c) => c.name === name)?.state?.waiting?.reason,
      );
      return reasons.filter((r, i): r is string => r !== undefined && r !== reasons[i - 1]);
    },
    eventsOf: (pod) => events.filter((e) => e.pod === `${pod.metadata?.namespace}/${pod.metadata?.name}`).map((e) => `${e.reason}: ${e.message}`),
    stop,
    async destroy() {
      await stop();
      // A sync the stop aborted may still be writing files (real I/O, not timers): let it end first.
      await Promise.race([lifecycle.workers.idle(), new Promise((resolve) => realSetTimeout(resolve, 2000))]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Fake timers for Date and the timer functions; setImmediate stays real so file I/O completes. */
export function useFakeClock(start = '2026-01-01T00:00:00Z'): void {
  vi.useFakeTimers({ now: new Date(start), toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
}

/**
 * Waits (in real time) until no file system request is in flight, so fake time moves on
 * only once the kubelet's file I/O of the moment is done, however loaded the machine.
 */
async function settleFileIo(): Promise<void> {
  for (let i = 0; i < 500; i++) {
    await new Promise((resolve) => realSetTimeout(resolve, 0));
    if (!process.getActiveResourcesInfo().some((r) => r.startsWith('FSReq'))) return;
  }
}

/** Moves fake time on by `ms` in steps, letting real file I/O finish between steps. */
export async function tick(ms: number, stepMs = 100): Promise<void> {
  for (let done = 0; done < ms; done += stepMs) {
    await settleFileIo();
    await vi.advanceTimersByTimeAsync(Math.min(stepMs, ms - done));
  }
  await settleFileIo();
}

/** Moves fake time on until `check` holds (checked between steps); fails after `withinMs` of fake time. */
export async function tickUntil(check: () => boolean | Promise<boolean>, withinMs = 30_000, stepMs = 100): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started >= withinMs) throw new Error(`not within ${withinMs} ms of fake time: ${check.toString()}`);
    await tick(stepMs, stepMs);
  }
}

let uidSeq = 0;

/** A pod as the API server would hand it to the kubelet (uid, namespace, defaults that matter). */
export function testPod(name: string, spec: Partial<V1PodSpec> & { containers: V1Container[] }, meta: V1Pod['metadata'] = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: `00000000-0000-4000-8000-${String(++uidSeq).padStart(12, '0')}`,
      annotations: { 'kubernetes.io/config.source': 'api' },
      ...meta,
    },
    spec: { nodeName: 'node-1', restartPolicy: 'Always', terminationGracePeriodSeconds: 30, ...spec },
  };
}

export const testImage = 'localhost/tskube/busybox:latest';
export const pauseImage = 'registry.k8s.io/pause:3.10';

/** A container of the test image, pulled only if absent. */
export function container(name: string, extra: Partial<V1Container> = {}): V1Container {
  return {
    name,
    image: testImage,
    imagePullPolicy: 'IfNotPresent',
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    ...extra,
  };
}
