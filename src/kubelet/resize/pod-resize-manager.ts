/*
 * In-place pod resize as upstream's allocation manager runs it. Each pod's containers have
 * allocated resources: the spec's when the pod is first synced, then a resize the node can
 * take (the pod's new requests fit allocatable beside the other pods' allocations). A resize
 * that does not fit is pending (PodResizePending, reason Deferred, upstream's message) and
 * is looked at again on every sync. What was applied to each running container (actuated)
 * is tracked so the syncer knows what to update; PodResizeInProgress says a resize is
 * allocated and not yet applied, or failed (reason Error).
 *
 *   spec resources ──fits──► allocated ──UpdateContainerResources / restart──► actuated
 *         │                      ▲                                              │
 *         └── does not fit ──► PodResizePending (Deferred), retried each sync    └─► ResizeCompleted
 */
import type { V1Pod, V1PodCondition, V1ResourceRequirements } from '@kubernetes/client-node';
import type { NodeAllocatable } from '../admission/admit-pod.js';
import { podRequests } from '../admission/pod-requests.js';
import type { PodEvents } from '../runtime/executor-deps.js';
import { resizableContainers, resizeMessage, sameResources, withContainerResources } from './resize-plan.js';

export interface PodResizeManagerOptions {
  events: PodEvents;
  /** What pods may take of the node; unlimited when absent. */
  allocatable?: () => Pick<NodeAllocatable, 'cpuMillis' | 'memoryBytes'>;
  /** The other pods that hold allocations (running or about to). */
  activePods?: () => V1Pod[];
}

interface PodAllocation {
  containers: Map<string, V1ResourceRequirements>;
  /** The resize waiting for room, with the generation it was decided for. */
  pending?: { reason: 'Deferred' | 'Infeasible'; message: string; generation: number };
  /** An allocated resize not yet applied everywhere; an error from applying it. */
  inProgress?: { generation: number; error?: string };
}

type Condition = V1PodCondition & { observedGeneration?: number };

export class PodResizeManager {
  readonly #o: PodResizeManagerOptions;
  readonly #pods = new Map<string, PodAllocation>();
  /** Resources applied to running containers, by pod UID and container name. */
  readonly #actuated = new Map<string, Map<string, V1ResourceRequirements>>();

  constructor(options: PodResizeManagerOptions) {
    this.#o = options;
  }

  /**
   * The pod as the kubelet runs it: its containers with their allocated resources. A pod seen
   * for the first time is allocated what its spec asks (admission already let it in); a
   * later change of the spec's resources is a resize, allocated now if it fits.
   */
  allocate(pod: V1Pod): V1Pod {
    const uid = pod.metadata?.uid ?? '';
    const current = this.#pods.get(uid);
    if (!current) {
      this.#pods.set(uid, { containers: new Map(resizableContainers(pod).map((c) => [c.name, c.resources ?? {}])) });
      return pod;
    }
    const wanted = resizableContainers(pod).filter((c) => !sameResources(c.resources, current.containers.get(c.name)));
    if (wanted.length === 0) {
      // A resize taken back before it was allocated is no longer pending.
      current.pending = undefined;
      return this.#allocated(pod, current);
    }
    const problem = this.#fitProblem(pod);
    const generation = pod.metadata?.generation ?? 0;
    if (problem) {
      if (current.pending?.message !== problem || current.pending.generation !== generation) {
        current.pending = { reason: 'Deferred', message: problem, generation };
        this.#o.events.warning(pod, 'ResizeDeferred', resizeMessage('Pod resize Deferred', pod, problem));
      }
      return this.#allocated(pod, current);
    }
    for (const c of wanted) current.containers.set(c.name, c.resources ?? {});
    current.pending = undefined;
    current.inProgress = { generation };
    this.#o.events.normal(pod, 'ResizeStarted', resizeMessage('Pod resize started', pod));
    return this.#allocated(pod, current);
  }

  /** The resources applied to a running container (undefined: not known, e.g. after a kubelet restart). */
  actuated(uid: string, name: string): V1ResourceRequirements | undefined {
    return this.#actuated.get(uid)?.get(name);
  }

  setActuated(uid: string, name: string, resources: V1ResourceRequirements): void {
    const m = this.#actuated.get(uid) ?? new Map<string, V1ResourceRequirements>();
    this.#actuated.set(uid, m);
    m.set(name, resources);
  }

  /** Applying the allocated resources failed: PodResizeInProgress says why. */
  failed(pod: V1Pod, error: string): void {
    const a = this.#pods.get(pod.metadata?.uid ?? '');
    if (!a) return;
    const generation = a.inProgress?.generation ?? pod.metadata?.generation ?? 0;
    if (a.inProgress?.error !== error) this.#o.events.warning(pod, 'ResizeError', resizeMessage('Pod resize error', pod, error));
    a.inProgress = { generation, error };
  }

  /** Every running resizable container has its allocation applied: a resize in progress is complete. */
  settled(pod: V1Pod): void {
    const a = this.#pods.get(pod.metadata?.uid ?? '');
    if (!a?.inProgress) return;
    a.inProgress = undefined;
    this.#o.events.normal(pod, 'ResizeCompleted', resizeMessage('Pod resize completed', pod));
  }

  /** The allocated requests of a container, for containerStatuses[].allocatedResources. */
  allocatedRequests(uid: string, name: string): V1ResourceRequirements['requests'] {
    return this.#pods.get(uid)?.containers.get(name)?.requests;
  }

  /** PodResizePending and PodResizeInProgress, as they stand (their transition times are the status builder's). */
  conditions(uid: string): Condition[] {
    const a = this.#pods.get(uid);
    const out: Condition[] = [];
    if (a?.pending) {
      out.push({ type: 'PodResizePending', status: 'True', reason: a.pending.reason, message: a.pending.message, observedGeneration: a.pending.generation });
    }
    if (a?.inProgress) {
      out.push({
        type: 'PodResizeInProgress',
        status: 'True',
        ...(a.inProgress.error ? { reason: 'Error', message: a.inProgress.error } : {}),
        observedGeneration: a.inProgress.generation,
      });
    }
    return out;
  }

  forget(uid: string): void {
    this.#pods.delete(uid);
    this.#actuated.delete(uid);
  }

  #allocated(pod: V1Pod, a: PodAllocation): V1Pod {
    return withContainerResources(pod, (name) => a.containers.get(name));
  }

  /** Upstream's resource fit for the resized pod beside the others' allocations, or undefined when it fits. */
  #fitProblem(pod: V1Pod): string | undefined {
    const cap = this.#o.allocatable?.();
    if (!cap) return undefined;
    const uid = pod.metadata?.uid ?? '';
    const used = { cpuMillis: 0, memoryBytes: 0 };
    for (const other of this.#o.activePods?.() ?? []) {
      const otherUid = other.metadata?.uid ?? '';
      if (otherUid === uid) continue;
      const a = this.#pods.get(otherUid);
      const r = podRequests(a ? this.#allocated(other, a) : other);
      used.cpuMillis += r.cpuMillis;
      used.memoryBytes += r.memoryBytes;
    }
    const want = podRequests(pod);
    if (want.cpuMillis > cap.cpuMillis - used.cpuMillis) {
      return `Node didn't have enough resource: cpu, requested: ${want.cpuMillis}, used: ${used.cpuMillis}, capacity: ${cap.cpuMillis}`;
    }
    if (want.memoryBytes > cap.memoryBytes - used.memoryBytes) {
      return `Node didn't have enough resource: memory, requested: ${want.memoryBytes}, used: ${used.memoryBytes}, capacity: ${cap.memoryBytes}`;
    }
    return undefined;
  }
}
