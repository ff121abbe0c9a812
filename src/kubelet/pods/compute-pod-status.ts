// The pod's API status from the spec, the runtime state and the last sync's errors, as the
// upstream kubelet builds it: container statuses (waiting/running/terminated, lastState,
// restarts, ready, started), the phase, the kubelet's conditions and the addresses. Pure:
// `now` is a parameter and nothing is read from anywhere else.
//
// Times are cut to whole seconds, as the API stores them, so a status read back from the
// API server compares equal to the one computed again from the same state.
import type { V1Container, V1ContainerState, V1ContainerStatus, V1Pod, V1PodCondition, V1PodStatus, V1ResourceRequirements } from '@kubernetes/client-node';
import type { ContainerState, PodRuntimeState } from './runtime-state.js';
import type { WaitingReason } from './waiting-reason.js';
import { qosClass } from './qos.js';
import { kubeletConditions } from '../status/merge-pod-status.js';
import { isStaticPod } from './pod-source.js';
import { sandboxChange } from './compute-pod-actions.js';
import {
  ephemeralContainers,
  hasAnyRegularContainerCreated,
  initContainers,
  instancesOf,
  isRestartableInitContainer,
  latestInstance,
  nsToMs,
  podRestartPolicy,
  regularContainers,
  shouldContainerBeRestarted,
} from './container-outcome.js';

export interface PodStatusInput {
  now: Date;
  /** The node's IPs, primary first (one per family at most is used). */
  hostIPs: string[];
  /**
   * Why each container failed to start in the last sync (ErrImagePull, ImagePullBackOff,
   * CreateContainerConfigError, RunContainerError, CrashLoopBackOff, ...), by container name.
   */
  waiting: ReadonlyMap<string, WaitingReason>;
  /** Container IDs whose readiness probe passes; a running container without one is ready. */
  ready?: ReadonlySet<string>;
  /** Container IDs whose startup probe passed; a running container without one has started. */
  started?: ReadonlySet<string>;
  /** The status the kubelet last computed or sent; the pod's own status when absent. */
  previous?: V1PodStatus;
  /** Prefix of container IDs: "containerd" gives containerd://ID. */
  runtimeName: string;
  /** The pod worker knows the pod is done (terminating or terminated): no restarts will follow. */
  podIsTerminal?: boolean;
  /**
   * A container's resources as it runs (containerStatuses[].resources) and the requests
   * allocated to it (allocatedResources), for the containers the runtime shows.
   */
  containerResources?: (name: string, running: boolean) => { resources: V1ResourceRequirements; allocatedRequests?: { [name: string]: string } };
  /** PodResizePending / PodResizeInProgress, as the resize manager has them. */
  resizeConditions?: V1PodCondition[];
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

export const unknownStatusReason = 'ContainerStatusUnknown';

export function computePodStatus(pod: V1Pod, state: PodRuntimeState, input: PodStatusInput): V1PodStatus {
  const old = input.previous ?? pod.status ?? {};
  const now = wholeSeconds(input.now);
  const containerStatuses = containerStatusesFor(pod, state, regularContainers(pod), old.containerStatuses ?? [], 'regular', input).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  const initContainerStatuses = containerStatusesFor(pod, state, initContainers(pod), old.initContainerStatuses ?? [], 'init', input);
  const ephemeralContainerStatuses = containerStatusesFor(pod, state, ephemeralContainers(pod), old.ephemeralContainerStatuses ?? [], 'ephemeral', input).sort(
    (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  const all = [...initContainerStatuses, ...containerStatuses];

  const hasRunningRegular = regularContainers(pod).some((c) => latestInstance(state, c.name)?.phase === 'running');
  let phase: PodPhase = podPhase(pod, all, input.podIsTerminal === true, hasRunningRegular);
  // A terminal phase, once reported, is never left.
  if (!isTerminal(phase)) {
    if (isTerminal(old.phase)) phase = old.phase as PodPhase;
    else if (isTerminal(pod.status?.phase)) phase = pod.status?.phase as PodPhase;
  }
  if (isTerminal(pod.status?.phase) && phase !== pod.status?.phase) phase = pod.status?.phase as PodPhase;

  const status: V1PodStatus = { phase };
  if (phase === old.phase) {
    const reason = old.reason || pod.status?.reason;
    const message = old.message || pod.status?.message;
    if (reason) status.reason = reason;
    if (message) status.message = message;
  }
  const generation = pod.metadata?.generation;
  if (generation !== undefined) status.observedGeneration = generation;
  status.conditions = podConditions(pod, state, old, all, phase, now, input.resizeConditions ?? []);

  const hostIPs = input.hostIPs.slice(0, 2);
  if (hostIPs[0] !== undefined) {
    status.hostIP = hostIPs[0];
    status.hostIPs = hostIPs.map((ip) => ({ ip }));
  }
  const podIPs = podIPsFor(pod, state, input.hostIPs);
  const ips = podIPs.length > 0 ? podIPs : (old.podIPs ?? []).map((p) => p.ip);
  if (ips[0] !== undefined) {
    status.podIP = ips[0];
    status.podIPs = ips.map((ip) => ({ ip }));
  }
  status.startTime = old.startTime ? wholeSeconds(new Date(old.startTime)) : now;
  status.qosClass = qosClass(pod);
  if (initContainerStatuses.length > 0) status.initContainerStatuses = initContainerStatuses;
  status.containerStatuses = containerStatuses;
  if (ephemeralContainerStatuses.length > 0) status.ephemeralContainerStatuses = ephemeralContainerStatuses;
  return status;
}

/**
 * The phase from the container statuses, by upstream's rules: Pending while an init
 * container or a container has not started (sidecars count until the pod first ran);
 * Failed when an init container failed under restartPolicy Never; Running while
 * something runs or will restart; Succeeded/Failed when every container stopped for good.
 */
export function podPhase(pod: V1Pod, statuses: readonly V1ContainerStatus[], podIsTerminal: boolean, podHasInitialized: boolean): PodPhase {
  const byName = new Map(statuses.map((s) => [s.name, s]));
  const policy = podRestartPolicy(pod);
  let pendingInit = 0;
  let pendingSidecars = 0;
  let failedInit = 0;
  for (const c of initContainers(pod)) {
    if (isRestartableInitContainer(c)) continue;
    const s = byName.get(c.name);
    const st = s?.state;
    if (!s || st?.running) pendingInit++;
    else if (st?.terminated) {
      if (st.terminated.exitCode !== 0) failedInit++;
    } else if (st?.waiting) {
      const last = s.lastState?.terminated;
      if (last) {
        if (last.exitCode !== 0) failedInit++;
      } else pendingInit++;
    } else pendingInit++;
  }

  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeededCount = 0;
  for (const c of initContainers(pod)) {
    if (!isRestartableInitContainer(c)) continue;
    const s = byName.get(c.name);
    const st = s?.state;
    if (!s) unknown++;
    else if (st?.running) {
      if (s.started !== true) pendingSidecars++;
      running++;
    } else if (st?.terminated) {
      // a stopped sidecar does not decide the phase
    } else if (st?.waiting) {
      if (!s.lastState?.terminated) {
        pendingSidecars++;
        waiting++;
      }
    } else {
      pendingSidecars++;
      unknown++;
    }
  }
  for (const c of regularContainers(pod)) {
    const s = byName.get(c.name);
    const st = s?.state;
    if (!s) unknown++;
    else if (st?.running) running++;
    else if (st?.terminated) {
      stopped++;
      if (st.terminated.exitCode === 0) succeededCount++;
    } else if (st?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    } else unknown++;
  }

  if (failedInit > 0 && policy === 'Never') return 'Failed';
  if (pendingInit > 0 || (pendingSidecars > 0 && !podHasInitialized) || waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    // Upstream does not yet give static pods a terminal phase this way.
    if (podIsTerminal && !isStaticPod(pod)) {
      return stopped === succeededCount ? 'Succeeded' : 'Failed';
    }
    if (policy === 'Always') return 'Running';
    if (stopped === succeededCount) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function containerStatusesFor(
  pod: V1Pod,
  state: PodRuntimeState,
  specs: readonly V1Container[],
  oldList: readonly V1ContainerStatus[],
  kind: 'init' | 'regular' | 'ephemeral',
  input: PodStatusInput,
): V1ContainerStatus[] {
  const isInit = kind === 'init';
  const oldByName = new Map(oldList.map((s) => [s.name, s]));
  const defaultReason = initContainers(pod).length > 0 ? 'PodInitializing' : 'ContainerCreating';
  const out: V1ContainerStatus[] = [];
  for (const c of specs) {
    const old = oldByName.get(c.name);
    const [newest, previous] = instancesOf(state, c.name);
    let s: V1ContainerStatus;
    if (newest) {
      s = fromInstance(newest, old, input.runtimeName);
      // A runtime that names the image by its ID (containerd 1.6 drops userSpecifiedImage): show the spec's.
      if (isImageId(s.image) && c.image) s.image = c.image;
      const r = input.containerResources?.(c.name, newest.phase === 'running');
      if (r) {
        s.resources = r.resources;
        if (r.allocatedRequests && Object.keys(r.allocatedRequests).length > 0) s.allocatedResources = r.allocatedRequests;
      }
      if (previous) s.lastState = fromInstance(previous, old, input.runtimeName).state ?? {};
    } else if (old?.state?.terminated) {
      s = structuredClone(old);
    } else {
      s = {
        name: c.name,
        image: c.image ?? '',
        imageID: '',
        ready: false,
        restartCount: old?.restartCount ?? 0,
        state: { waiting: { reason: defaultReason } },
        lastState: old?.lastState ? structuredClone(old.lastState) : {},
      };
      // It ran before and vanished from the runtime: say it stopped, so the pod does not
      // fall back to Pending as if it never ran.
      if (old?.state?.running && !s.lastState?.terminated) {
        s.lastState = {
          terminated: {
            reason: unknownStatusReason,
            message: 'The container could not be located when the pod was deleted.  The container used to be Running',
            exitCode: 137,
          },
        };
        if (!pod.metadata?.deletionTimestamp) s.restartCount++;
      }
    }
    if (isInit && !newest && !isRestartableInitContainer(c) && s.state?.waiting && hasAnyRegularContainerCreated(pod, state)) {
      // Its record is gone but the pod got past it, so it completed.
      s.state = {
        terminated: {
          reason: 'Completed',
          message: 'Unable to get init container status from container runtime and pod has been initialized, treat it as exited normally',
          exitCode: 0,
        },
      };
    } else if (!(isInit && newest?.phase === 'exited' && newest.exitCode === 0)) {
      const why = input.waiting.get(c.name);
      if (why && shouldContainerBeRestarted(c, pod, state)) {
        if (s.state?.terminated) s.lastState = s.state;
        s.state = { waiting: dropEmpty({ reason: why.reason, message: why.message }) };
      }
    }
    // The prober never looks at ephemeral containers: they stay not ready, as upstream's.
    if (kind !== 'ephemeral') applyProbeResults(c, s, newest, isInit, input);
    out.push(s);
  }
  return out;
}

function fromInstance(inst: ContainerState, old: V1ContainerStatus | undefined, runtimeName: string): V1ContainerStatus {
  const containerID = `${runtimeName}://${inst.id}`;
  const s: V1ContainerStatus = {
    name: inst.name,
    image: inst.image,
    imageID: inst.imageRef,
    containerID,
    ready: false,
    restartCount: inst.attempt,
    lastState: {},
  };
  s.state = instanceState(inst, containerID);
  if (inst.phase === 'unknown' && old?.state?.running) {
    s.state = {
      terminated: { reason: unknownStatusReason, message: 'The container could not be located when the pod was terminated', exitCode: 137 },
    };
    s.restartCount = old.restartCount + 1;
  }
  return s;
}

function instanceState(inst: ContainerState, containerID: string): V1ContainerState {
  switch (inst.phase) {
    case 'running':
      return { running: dropEmpty({ startedAt: apiTime(inst.startedAt) }) };
    case 'exited':
      return {
        terminated: dropEmpty({
          exitCode: inst.exitCode ?? 0,
          reason: inst.reason,
          message: inst.message,
          startedAt: apiTime(inst.startedAt),
          finishedAt: apiTime(inst.finishedAt),
          containerID,
        }),
      };
    case 'created':
    case 'unknown':
      return { waiting: {} };
  }
}

/** What the prober would add: started and ready for running containers, ready for completed init containers. */
function applyProbeResults(c: V1Container, s: V1ContainerStatus, newest: ContainerState | undefined, isInit: boolean, input: PodStatusInput): void {
  const id = newest?.id;
  const running = s.state?.running !== undefined && id !== undefined;
  const started = running && (!c.startupProbe || input.started?.has(id) === true);
  s.started = started;
  if (isInit && !isRestartableInitContainer(c)) {
    s.ready = s.state?.terminated?.exitCode === 0;
    return;
  }
  s.ready = started && (!c.readinessProbe || input.ready?.has(id) === true);
}

function podConditions(
  pod: V1Pod,
  state: PodRuntimeState,
  old: V1PodStatus,
  all: readonly V1ContainerStatus[],
  phase: PodPhase,
  now: Date,
  resize: readonly V1PodCondition[],
): V1PodCondition[] {
  const kept = (pod.status?.conditions ?? []).filter((c) => !kubeletConditions.has(c.type) && c.type !== 'DisruptionTarget');
  const disruption = (old.conditions ?? []).find((c) => c.type === 'DisruptionTarget');
  if (disruption) kept.push(disruption);
  const generation = pod.metadata?.generation;
  const mine: V1PodCondition[] = [
    { type: 'PodReadyToStartContainers', status: sandboxChange(pod, state).create ? 'False' : 'True' },
    initializedCondition(pod, all, phase),
  ];
  const containersReady = containersReadyCondition(pod, all, phase);
  mine.push(readyCondition(pod, containersReady, kept), containersReady, { type: 'PodScheduled', status: 'True' });
  const oldByType = new Map((old.conditions ?? []).map((c) => [c.type, c]));
  for (const c of mine) if (generation !== undefined) c.observedGeneration = generation;
  // The resize conditions carry the generation of the resize they are about.
  mine.push(...resize.map((c) => ({ ...c })));
  for (const c of mine) {
    const before = oldByType.get(c.type);
    c.lastTransitionTime = before?.lastTransitionTime && before.status === c.status ? wholeSeconds(new Date(before.lastTransitionTime)) : now;
  }
  return [...kept, ...mine];
}

function initializedCondition(pod: V1Pod, all: readonly V1ContainerStatus[], phase: PodPhase): V1PodCondition {
  const byName = new Map(all.map((s) => [s.name, s]));
  const unknown: string[] = [];
  const incomplete: string[] = [];
  for (const c of initContainers(pod)) {
    const s = byName.get(c.name);
    if (!s) unknown.push(c.name);
    else if (isRestartableInitContainer(c) ? s.started !== true : !s.ready) incomplete.push(c.name);
  }
  if (phase === 'Succeeded' && unknown.length === 0) return { type: 'Initialized', status: 'True', reason: 'PodCompleted' };
  const regular = new Set(regularContainers(pod).map((c) => c.name));
  if (all.some((s) => regular.has(s.name) && (s.state?.running || s.state?.terminated))) return { type: 'Initialized', status: 'True' };
  const message = joinMessages([
    ['containers with unknown status', unknown],
    ['containers with incomplete status', incomplete],
  ]);
  if (message) return { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message };
  return { type: 'Initialized', status: 'True' };
}

function containersReadyCondition(pod: V1Pod, all: readonly V1ContainerStatus[], phase: PodPhase): V1PodCondition {
  const byName = new Map(all.map((s) => [s.name, s]));
  const unknown: string[] = [];
  const unready: string[] = [];
  for (const c of [...initContainers(pod).filter(isRestartableInitContainer), ...regularContainers(pod)]) {
    const s = byName.get(c.name);
    if (!s) unknown.push(c.name);
    else if (!s.ready) unready.push(c.name);
  }
  if ((phase === 'Succeeded' && unknown.length === 0) || phase === 'Failed') {
    return { type: 'ContainersReady', status: 'False', reason: phase === 'Failed' ? 'PodFailed' : 'PodCompleted' };
  }
  const message = joinMessages([
    ['containers with unknown status', unknown],
    ['containers with unready status', unready],
  ]);
  if (message) return { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message };
  return { type: 'ContainersReady', status: 'True' };
}

function readyCondition(pod: V1Pod, containersReady: V1PodCondition, conditions: readonly V1PodCondition[]): V1PodCondition {
  if (containersReady.status !== 'True')
    return dropEmpty({ type: 'Ready', status: containersReady.status, reason: containersReady.reason, message: containersReady.message });
  const problems: string[] = [];
  for (const gate of pod.spec?.readinessGates ?? []) {
    const c = conditions.find((x) => x.type === gate.conditionType);
    if (!c) problems.push(`corresponding condition of pod readiness gate "${gate.conditionType}" does not exist.`);
    else if (c.status !== 'True') problems.push(`the status of pod readiness gate "${gate.conditionType}" is not "True", but ${c.status}`);
  }
  if (problems.length > 0) return { type: 'Ready', status: 'False', reason: 'ReadinessGatesNotReady', message: problems.join(', ') };
  return { type: 'Ready', status: 'True' };
}

/** Upstream prints name lists with Go's %s: "containers with unready status: [a b]". */
function joinMessages(parts: [string, string[]][]): string {
  return parts
    .filter(([, names]) => names.length > 0)
    .map(([label, names]) => `${label}: [${names.join(' ')}]`)
    .join(', ');
}

/**
 * Pod IPs from the newest sandbox while it is ready: the first of the node's primary
 * family, then the first of the other. Host-network pods carry the node's IPs.
 */
function podIPsFor(pod: V1Pod, state: PodRuntimeState, hostIPs: readonly string[]): string[] {
  if (pod.spec?.hostNetwork) return hostIPs.slice(0, 2);
  const newest = state.sandboxes[0];
  if (newest?.phase !== 'ready') return [];
  const primaryV6 = hostIPs[0] !== undefined && isV6(hostIPs[0]);
  const primary = newest.ips.find((ip) => isV6(ip) === primaryV6);
  const secondary = newest.ips.find((ip) => isV6(ip) !== primaryV6);
  return [primary, secondary].filter((ip): ip is string => ip !== undefined);
}

/** sha256:<hex> or a bare 64-hex image ID, as opposed to a name people wrote. */
function isImageId(image: string): boolean {
  return /^(sha256:)?[0-9a-f]{64}$/.test(image);
}

function isV6(ip: string): boolean {
  return ip.includes(':');
}

function isTerminal(phase: string | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}

function apiTime(ns: bigint | undefined): Date | undefined {
  return ns === undefined || ns <= 0n ? undefined : wholeSeconds(new Date(nsToMs(ns)));
}

function wholeSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

/** Leaves out undefined and empty-string fields, as the API server does on the way back. */
function dropEmpty<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== '') out[k] = v;
  return out as T;
}

/**
 * Whether two statuses say the same thing, so the caller patches only on change: list
 * order (conditions, container statuses), sub-second time noise, and fields that are
 * absent on one side and empty on the other do not count.
 */
export function podStatusEqual(a: V1PodStatus | undefined, b: V1PodStatus | undefined): boolean {
  return JSON.stringify(canonical(a ?? {})) === JSON.stringify(canonical(b ?? {}));
}

const sortedLists: Record<string, string> = {
  conditions: 'type',
  containerStatuses: 'name',
  initContainerStatuses: 'name',
  ephemeralContainerStatuses: 'name',
};

function canonical(v: unknown, key = ''): unknown {
  if (v instanceof Date) return Math.floor(v.getTime() / 1000);
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(v)) {
    return Math.floor(Date.parse(v) / 1000);
  }
  if (Array.isArray(v)) {
    const items = v.map((x) => canonical(x));
    const by = sortedLists[key];
    if (by) {
      items.sort((x, y) => {
        const kx = String((x as Record<string, unknown>)[by]);
        const ky = String((y as Record<string, unknown>)[by]);
        return kx < ky ? -1 : kx > ky ? 1 : 0;
      });
    }
    return items;
  }
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x === undefined || x === null || x === '') continue;
      // An empty lastState is what the API returns for "none".
      if (k === 'lastState' && typeof x === 'object' && Object.keys(x).length === 0) continue;
      if (Array.isArray(x) && x.length === 0) continue;
      out[k] = canonical(x, k);
    }
    return out;
  }
  return v;
}
