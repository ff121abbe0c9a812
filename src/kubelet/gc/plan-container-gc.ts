// Which dead containers and sandboxes the kubelet removes (upstream's container garbage
// collection with its kubelet defaults: no minimum age, one dead instance kept per
// container). The newest instance of every container name stays whatever its state,
// so restart counts, lastState and `logs --previous` keep what they read; older
// instances that are not running go, and so does a sandbox that is neither the pod's
// newest nor holds a container any more. Pods no source wants are the reconciler's.
import { newestFirst, type ContainerState, type PodRuntimeState } from '../pods/runtime-state.js';

export interface ContainerRemoval {
  id: string;
  podUid: string;
  podName: string;
  podNamespace: string;
  containerName: string;
  attempt: number;
}

export interface SandboxRemoval {
  id: string;
  podUid: string;
}

export interface ContainerGcPlan {
  containers: ContainerRemoval[];
  sandboxes: SandboxRemoval[];
}

export interface ContainerGcPolicy {
  /** Dead instances kept per (pod, container name), counting the newest if it is dead. */
  maxDeadPerContainer: number;
}

export const defaultContainerGcPolicy: ContainerGcPolicy = { maxDeadPerContainer: 1 };

export function planContainerGc(pods: Iterable<PodRuntimeState>, policy: ContainerGcPolicy = defaultContainerGcPolicy): ContainerGcPlan {
  const plan: ContainerGcPlan = { containers: [], sandboxes: [] };
  for (const pod of pods) {
    const doomed = new Set<string>();
    for (const instances of byName(pod.containers).values()) {
      const newest = [...instances].sort(newestFirst);
      const dead = newest.filter((c, i) => i > 0 && isDead(c));
      // The newest instance counts against the allowance when it is dead itself.
      const allowance = Math.max(0, policy.maxDeadPerContainer - (isDead(newest[0]) ? 1 : 0));
      for (const c of dead.slice(allowance)) {
        doomed.add(c.id);
        plan.containers.push({ id: c.id, podUid: pod.uid, podName: pod.name, podNamespace: pod.namespace, containerName: c.name, attempt: c.attempt });
      }
    }
    const newestSandbox = [...pod.sandboxes].sort(newestFirst)[0];
    for (const s of pod.sandboxes) {
      if (s === newestSandbox || s.phase === 'ready') continue;
      if (pod.containers.some((c) => c.sandboxId === s.id && !doomed.has(c.id))) continue;
      plan.sandboxes.push({ id: s.id, podUid: pod.uid });
    }
  }
  return plan;
}

function isDead(c: ContainerState | undefined): boolean {
  return c !== undefined && c.phase !== 'running' && c.phase !== 'unknown';
}

function byName(containers: ContainerState[]): Map<string, ContainerState[]> {
  const groups = new Map<string, ContainerState[]>();
  for (const c of containers) groups.set(c.name, [...(groups.get(c.name) ?? []), c]);
  return groups;
}
