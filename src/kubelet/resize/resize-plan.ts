// In-place pod resize, the pure part (upstream's allocation manager and
// computePodResizeAction): which containers may be resized (regular ones and sidecars),
// what a container's resources come to in cpu millis and memory bytes, whether a running
// container takes a change by UpdateContainerResources or must restart (its resizePolicy
// says RestartContainer for a resource that changed), and the events' wording.
import type { V1Container, V1Pod, V1ResourceRequirements } from '@kubernetes/client-node';
import { quantityMillis, quantityValue } from '../../kube/quantity.js';
import { goJson } from '../../common/go-json.js';
import { initContainers, isRestartableInitContainer, regularContainers } from '../pods/container-outcome.js';

export interface ResourceNumbers {
  cpuRequest: number;
  cpuLimit: number;
  memoryRequest: number;
  memoryLimit: number;
}

function amount(list: Record<string, string | number> | undefined, name: string, value: (q: string | number) => number): number {
  const q = list?.[name];
  if (q === undefined) return 0;
  try {
    return value(q);
  } catch {
    return 0;
  }
}

/** A container's cpu (millis) and memory (bytes) requests and limits; 0 for unset. */
export function resourceNumbers(r: V1ResourceRequirements | undefined): ResourceNumbers {
  return {
    cpuRequest: amount(r?.requests, 'cpu', (q) => quantityMillis(q)),
    cpuLimit: amount(r?.limits, 'cpu', (q) => quantityMillis(q)),
    memoryRequest: amount(r?.requests, 'memory', (q) => quantityValue(q)),
    memoryLimit: amount(r?.limits, 'memory', (q) => quantityValue(q)),
  };
}

export function sameResources(a: V1ResourceRequirements | undefined, b: V1ResourceRequirements | undefined): boolean {
  const x = resourceNumbers(a);
  const y = resourceNumbers(b);
  return x.cpuRequest === y.cpuRequest && x.cpuLimit === y.cpuLimit && x.memoryRequest === y.memoryRequest && x.memoryLimit === y.memoryLimit;
}

/** The containers resized in place: the regular ones and sidecars (other init containers have finished). */
export function resizableContainers(pod: V1Pod): V1Container[] {
  return [...initContainers(pod).filter(isRestartableInitContainer), ...regularContainers(pod)];
}

export type ContainerResize = 'none' | 'update' | 'restart';

/**
 * What a running container needs to go from `actuated` to `desired`: nothing, an update of
 * its resources, or a restart (its resizePolicy says RestartContainer for a resource that
 * changed; NotRequired is the default).
 */
export function containerResize(
  container: V1Container,
  desired: V1ResourceRequirements | undefined,
  actuated: V1ResourceRequirements | undefined,
): ContainerResize {
  const want = resourceNumbers(desired);
  const have = resourceNumbers(actuated);
  const changed = {
    cpu: want.cpuRequest !== have.cpuRequest || want.cpuLimit !== have.cpuLimit,
    memory: want.memoryRequest !== have.memoryRequest || want.memoryLimit !== have.memoryLimit,
  };
  if (!changed.cpu && !changed.memory) return 'none';
  const restarts = (resource: 'cpu' | 'memory') =>
    changed[resource] && (container.resizePolicy ?? []).some((p) => p.resourceName === resource && p.restartPolicy === 'RestartContainer');
  return restarts('cpu') || restarts('memory') ? 'restart' : 'update';
}

/** The larger of two resource sets, value by value: a pod cgroup sized for both while containers move between them. */
export function largerResources(a: V1ResourceRequirements | undefined, b: V1ResourceRequirements | undefined): V1ResourceRequirements {
  const x = resourceNumbers(a);
  const y = resourceNumbers(b);
  const pick = (p: number, q: number, unit: 'm' | '') => (Math.max(p, q) > 0 ? `${Math.max(p, q)}${unit}` : undefined);
  const list = (cpu?: string, memory?: string) => ({ ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) });
  return {
    requests: list(pick(x.cpuRequest, y.cpuRequest, 'm'), pick(x.memoryRequest, y.memoryRequest, '')),
    limits: list(pick(x.cpuLimit, y.cpuLimit, 'm'), pick(x.memoryLimit, y.memoryLimit, '')),
  };
}

/** A copy of the pod with these resources for the named containers. */
export function withContainerResources(pod: V1Pod, resources: (name: string) => V1ResourceRequirements | undefined): V1Pod {
  const swap = (c: V1Container): V1Container => {
    const r = resources(c.name);
    return r ? { ...c, resources: r } : c;
  };
  return {
    ...pod,
    spec: {
      ...pod.spec,
      containers: regularContainers(pod).map(swap),
      ...(pod.spec?.initContainers ? { initContainers: pod.spec.initContainers.map((c) => (isRestartableInitContainer(c) ? swap(c) : c)) } : {}),
    },
  };
}

/** Go writes a map's keys sorted. */
function sortedList(list: Record<string, string | number> | undefined): Record<string, string | number> | undefined {
  if (!list || Object.keys(list).length === 0) return undefined;
  return Object.fromEntries(
    Object.keys(list)
      .sort()
      .map((k) => [k, list[k] as string | number]),
  );
}

function resourcesJson(r: V1ResourceRequirements | undefined): Record<string, unknown> {
  const limits = sortedList(r?.limits);
  const requests = sortedList(r?.requests);
  return { ...(limits ? { limits } : {}), ...(requests ? { requests } : {}) };
}

/** An upstream resize event message: "<prefix>: {"containers":[…],"generation":N}" (and the error, if any). */
export function resizeMessage(prefix: string, pod: V1Pod, error = ''): string {
  const entry = (c: V1Container) => ({ name: c.name, resources: resourcesJson(c.resources) });
  const summary = {
    ...(initContainers(pod).length > 0 ? { initContainers: initContainers(pod).map(entry) } : {}),
    ...(regularContainers(pod).length > 0 ? { containers: regularContainers(pod).map(entry) } : {}),
    generation: pod.metadata?.generation ?? 0,
    ...(error ? { error } : {}),
  };
  return `${prefix}: ${goJson(summary)}`;
}
