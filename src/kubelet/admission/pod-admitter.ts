// Runs the admission check for pods the kubelet has not started yet, oldest first (as
// upstream's HandlePodAdditions does), each against the pods admitted before it. A
// rejected pod is reported Failed with upstream's reason and message and an event, and
// never started; pods a critical pod preempts are stopped first.
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { errorMessage } from '../../common/errors.js';
import { admitPod, type AdmissionInput, type AdmissionResult, type NodeAllocatable, type NodePressure } from './admit-pod.js';
import type { NodeView } from './node-affinity.js';
import type { SysctlAllowlist } from './sysctls.js';

export interface PodAdmitterOptions {
  /** The Node as last seen (labels, taints); the locally built one before the API answered. */
  node: () => NodeView;
  /** Reads the Node afresh: a node-affinity failure is checked once more against it (labels just added). */
  refreshNode?: () => Promise<NodeView | undefined>;
  allocatable: () => NodeAllocatable;
  os: string;
  sysctls: SysctlAllowlist;
  pressure: () => NodePressure;
  shuttingDown: () => boolean;
  appArmorEnabled: boolean;
  /** Reports the pod Failed ("Pod was rejected: ...") with a Warning event. */
  reject: (pod: V1Pod, reason: string, message: string) => void;
  /** Stops a pod to make room for a critical one. */
  preempt: (victim: V1Pod, by: V1Pod) => void;
  log: Logger;
}

const byCreation = (a: V1Pod, b: V1Pod) => {
  const ta = new Date(a.metadata?.creationTimestamp ?? 0).getTime();
  const tb = new Date(b.metadata?.creationTimestamp ?? 0).getTime();
  return ta - tb;
};

export class PodAdmitter {
  readonly #o: PodAdmitterOptions;
  readonly #admitted = new Set<string>();
  readonly #rejected = new Set<string>();

  constructor(options: PodAdmitterOptions) {
    this.#o = options;
  }

  isAdmitted(uid: string): boolean {
    return this.#admitted.has(uid);
  }

  /** Admitted or rejected: either way, not checked again. */
  decided(uid: string): boolean {
    return this.#admitted.has(uid) || this.#rejected.has(uid);
  }

  /** The pod is gone: a pod with its UID will never come back. */
  forget(uid: string): void {
    this.#admitted.delete(uid);
    this.#rejected.delete(uid);
  }

  /** Admits what fits, oldest first; returns the admitted pods, to be started. */
  async admit(candidates: readonly V1Pod[], active: readonly V1Pod[]): Promise<V1Pod[]> {
    const running = [...active];
    const out: V1Pod[] = [];
    for (const pod of [...candidates].sort(byCreation)) {
      const uid = pod.metadata?.uid ?? '';
      let result: AdmissionResult;
      try {
        result = await this.#check(pod, running);
      } catch (err) {
        result = { admit: false, reason: 'UnexpectedAdmissionError', message: `Unexpected error while admitting the pod: ${errorMessage(err)}` };
      }
      const name = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
      if (!result.admit) {
        this.#o.log.info({ pod: name, reason: result.reason, message: result.message }, 'pod rejected by admission');
        this.#rejected.add(uid);
        this.#o.reject(pod, result.reason, result.message);
        continue;
      }
      for (const victim of result.preempt) {
        this.#o.log.info({ pod: `${victim.metadata?.namespace}/${victim.metadata?.name}`, for: name }, 'preempting a pod to admit a critical pod');
        this.#o.preempt(victim, pod);
        const i = running.indexOf(victim);
        if (i >= 0) running.splice(i, 1);
      }
      this.#admitted.add(uid);
      running.push(pod);
      out.push(pod);
    }
    return out;
  }

  async #check(pod: V1Pod, running: readonly V1Pod[]): Promise<AdmissionResult> {
    const input: AdmissionInput = {
      pod,
      activePods: running,
      node: this.#o.node(),
      os: this.#o.os,
      allocatable: this.#o.allocatable(),
      sysctls: this.#o.sysctls,
      pressure: this.#o.pressure(),
      shuttingDown: this.#o.shuttingDown(),
      appArmorEnabled: this.#o.appArmorEnabled,
    };
    const first = admitPod(input);
    if (first.admit || first.reason !== 'NodeAffinity' || !this.#o.refreshNode) return first;
    const fresh = await this.#o.refreshNode();
    return fresh ? admitPod({ ...input, node: fresh }) : first;
  }
}
