import type { ProbeType } from './probe-outcome.js';
import type { ResultValue } from './worker-step.js';

/**
 * The current result of every probe, by probe type and container instance (ID), as
 * upstream's results managers keep them. A result belongs to one container instance: a
 * restarted container starts with none, so nothing leaks from its predecessor. A change
 * is reported with the pod's UID, so the kubelet syncs that pod.
 */
export class ProbeResults {
  readonly #results: Record<ProbeType, Map<string, ResultValue>> = { Liveness: new Map(), Readiness: new Map(), Startup: new Map() };
  readonly #onChange: (podUid: string, type: ProbeType, containerId: string, result: ResultValue) => void;

  constructor(onChange: (podUid: string, type: ProbeType, containerId: string, result: ResultValue) => void) {
    this.#onChange = onChange;
  }

  get(type: ProbeType, containerId: string): ResultValue | undefined {
    return this.#results[type].get(containerId);
  }

  set(type: ProbeType, containerId: string, result: ResultValue, podUid: string): void {
    const map = this.#results[type];
    if (map.get(containerId) === result) return;
    map.set(containerId, result);
    this.#onChange(podUid, type, containerId, result);
  }

  remove(type: ProbeType, containerId: string): void {
    this.#results[type].delete(containerId);
  }

  /** How many results are kept (for tests: nothing may be left of a pod that is gone). */
  get size(): number {
    return this.#results.Liveness.size + this.#results.Readiness.size + this.#results.Startup.size;
  }
}
