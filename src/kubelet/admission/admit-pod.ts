// The kubelet's admission check for a pod about to start on this node, as upstream's
// admit handlers run, in order: node pressure (eviction manager), sysctls, the general
// predicates (OS, resources fit allocatable, node affinity, node name, host ports,
// NoExecute taints) with critical-pod preemption, and node shutdown. Pure: the caller
// supplies the node, the pods already admitted and the node's state. The first
// failure decides the reason and message, which are upstream's, because tools read them.
import type { V1Pod } from '@kubernetes/client-node';
import { appArmorProblem } from '../cri-requests/apparmor.js';
import { qosClass } from '../pods/qos.js';
import { isCriticalPod, isStaticPod } from './critical-pods.js';
import { matchesNodeAffinity, toleratesTaint, untoleratedNoExecuteTaint, type NodeView } from './node-affinity.js';
import { podRequests } from './pod-requests.js';
import { podsToPreempt, type Shortfall } from './preemption.js';
import { sysctlAllowed, type SysctlAllowlist } from './sysctls.js';

export interface NodeAllocatable {
  cpuMillis: number;
  memoryBytes: number;
  ephemeralBytes: number;
  pods: number;
}

export interface NodePressure {
  memory: boolean;
  disk: boolean;
  pid: boolean;
}

export interface AdmissionInput {
  pod: V1Pod;
  /** Pods admitted earlier that still run or will (not Succeeded/Failed, not terminated). */
  activePods: readonly V1Pod[];
  node: NodeView;
  /** GOOS-style name of this node's OS. */
  os: string;
  allocatable: NodeAllocatable;
  sysctls: SysctlAllowlist;
  /** The node conditions the eviction manager reports. */
  pressure: NodePressure;
  shuttingDown: boolean;
  /** The kernel enforces AppArmor; a pod that asks for a profile is refused where it does not. */
  appArmorEnabled: boolean;
}

export type AdmissionResult =
  | { admit: true /** Pods to stop first, so a critical pod fits. */; preempt: V1Pod[] }
  | { admit: false; reason: string; message: string };

/** A failed resource fit, as upstream's InsufficientResourceError carries it. */
interface Insufficient {
  kind: 'resource';
  resource: 'pods' | 'cpu' | 'memory' | 'ephemeral-storage';
  requested: number;
  used: number;
  capacity: number;
}

interface PredicateFailure {
  kind: 'predicate';
  name: string;
  desc: string;
}

type Failure = Insufficient | PredicateFailure;

const admitted: AdmissionResult = { admit: true, preempt: [] };

export function admitPod(input: AdmissionInput): AdmissionResult {
  const predicates = pressureCheck(input) ?? sysctlCheck(input) ?? osCheck(input) ?? generalPredicates(input);
  if (predicates && !predicates.admit) return predicates;
  return (
    appArmorCheck(input) ??
    (input.shuttingDown ? { admit: false, reason: 'NodeShutdown', message: 'Pod was rejected as the node is shutting down.' } : (predicates ?? admitted))
  );
}

function appArmorCheck({ pod, appArmorEnabled }: AdmissionInput): AdmissionResult | undefined {
  // Upstream checks only pods that have not run yet.
  if ((pod.status?.phase ?? 'Pending') !== 'Pending') return undefined;
  const problem = appArmorProblem(pod, appArmorEnabled);
  return problem ? { admit: false, reason: 'AppArmor', message: `Cannot enforce AppArmor: ${problem}` } : undefined;
}

/** Names of the pressure conditions, in the order the eviction manager lists them. */
export function pressureConditions(p: NodePressure): string[] {
  return [...(p.memory ? ['MemoryPressure'] : []), ...(p.disk ? ['DiskPressure'] : []), ...(p.pid ? ['PIDPressure'] : [])];
}

function pressureCheck({ pod, pressure }: AdmissionInput): AdmissionResult | undefined {
  const conditions = pressureConditions(pressure);
  if (conditions.length === 0 || isCriticalPod(pod)) return undefined;
  // Memory pressure alone turns away only BestEffort pods that do not tolerate it.
  if (conditions.length === 1 && pressure.memory) {
    if (qosClass(pod) !== 'BestEffort') return undefined;
    if (toleratesTaint(pod.spec?.tolerations, { key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' })) return undefined;
  }
  return { admit: false, reason: 'Evicted', message: `The node had condition: [${conditions.join(' ')}]. ` };
}

function sysctlCheck({ pod, sysctls }: AdmissionInput): AdmissionResult | undefined {
  for (const s of pod.spec?.securityContext?.sysctls ?? []) {
    const problem = sysctlAllowed(sysctls, s.name, pod.spec?.hostNetwork === true, pod.spec?.hostIPC === true);
    if (problem) return { admit: false, reason: 'SysctlForbidden', message: `forbidden sysctl: ${problem}` };
  }
  return undefined;
}

function osCheck({ pod, os }: AdmissionInput): AdmissionResult | undefined {
  const wanted = pod.metadata?.labels?.['kubernetes.io/os'];
  // Upstream compares with the node's label, which it takes to be its own OS when missing or wrong.
  if (wanted !== undefined && wanted !== os) {
    return {
      admit: false,
      reason: 'PodOSSelectorNodeLabelDoesNotMatch',
      message: "Failed to admit pod as the `kubernetes.io/os` label doesn't match node label",
    };
  }
  if (pod.spec?.os?.name !== undefined && pod.spec.os.name !== os) {
    return { admit: false, reason: 'PodOSNotSupported', message: "Failed to admit pod as the OS field doesn't match node OS" };
  }
  return undefined;
}

function generalPredicates(input: AdmissionInput): AdmissionResult | undefined {
  const failures = [...resourceFit(input), ...otherPredicates(input)];
  if (failures.length === 0) return undefined;
  const { pod } = input;
  if (isCriticalPod(pod) && failures.every((f) => f.kind === 'resource')) {
    const shortfalls: Shortfall[] = (failures as Insufficient[]).map((f) => ({ resource: f.resource, amount: f.requested - (f.capacity - f.used) }));
    const victims = podsToPreempt(pod, input.activePods, shortfalls);
    if (victims.ok) return { admit: true, preempt: victims.pods };
    return {
      admit: false,
      reason: 'UnexpectedAdmissionError',
      message: `Unexpected error while attempting to recover from admission failure: preemption: error finding a set of pods to preempt: ${victims.error}`,
    };
  }
  const first = failures.find((f) => !(isCriticalPod(pod) && f.kind === 'resource')) ?? (failures[0] as Failure);
  if (first.kind === 'resource') {
    return {
      admit: false,
      reason: `OutOf${first.resource}`,
      message: `Node didn't have enough resource: ${first.resource}, requested: ${first.requested}, used: ${first.used}, capacity: ${first.capacity}`,
    };
  }
  return { admit: false, reason: first.name, message: `Predicate ${first.name} failed: ${first.desc}` };
}

/** Upstream noderesources.Fits: pod count first, then cpu, memory and ephemeral storage a pod asks for. */
function resourceFit({ pod, activePods, allocatable }: AdmissionInput): Insufficient[] {
  const out: Insufficient[] = [];
  if (activePods.length + 1 > allocatable.pods) {
    out.push({ kind: 'resource', resource: 'pods', requested: 1, used: activePods.length, capacity: allocatable.pods });
  }
  const want = podRequests(pod);
  const used = { cpuMillis: 0, memoryBytes: 0, ephemeralBytes: 0 };
  for (const p of activePods) {
    const r = podRequests(p);
    used.cpuMillis += r.cpuMillis;
    used.memoryBytes += r.memoryBytes;
    used.ephemeralBytes += r.ephemeralBytes;
  }
  const check = (resource: Insufficient['resource'], key: keyof typeof used) => {
    const cap = allocatable[key];
    if (want[key] > 0 && want[key] > cap - used[key]) out.push({ kind: 'resource', resource, requested: want[key], used: used[key], capacity: cap });
  };
  check('cpu', 'cpuMillis');
  check('memory', 'memoryBytes');
  check('ephemeral-storage', 'ephemeralBytes');
  return out;
}

function otherPredicates({ pod, node, activePods }: AdmissionInput): PredicateFailure[] {
  const out: PredicateFailure[] = [];
  if (!matchesNodeAffinity(pod, node)) out.push({ kind: 'predicate', name: 'NodeAffinity', desc: "node(s) didn't match Pod's node affinity/selector" });
  if (pod.spec?.nodeName && pod.spec.nodeName !== node.name) {
    out.push({ kind: 'predicate', name: 'NodeName', desc: "node(s) didn't match the requested node name" });
  }
  if (hostPortConflict(pod, activePods)) out.push({ kind: 'predicate', name: 'NodePorts', desc: "node(s) didn't have free ports for the requested pod ports" });
  if (!isStaticPod(pod) && untoleratedNoExecuteTaint(pod, node)) {
    out.push({ kind: 'predicate', name: 'TaintToleration', desc: "node(s) had taints that the pod didn't tolerate" });
  }
  return out;
}

interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

function hostPorts(pod: V1Pod): HostPort[] {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].flatMap((c) =>
    (c.ports ?? []).filter((p) => (p.hostPort ?? 0) > 0).map((p) => ({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol ?? 'TCP', port: p.hostPort ?? 0 })),
  );
}

function hostPortConflict(pod: V1Pod, others: readonly V1Pod[]): boolean {
  const wanted = hostPorts(pod);
  if (wanted.length === 0) return false;
  const used = others.flatMap(hostPorts);
  return wanted.some((w) => used.some((u) => u.port === w.port && u.protocol === w.protocol && (u.ip === w.ip || u.ip === '0.0.0.0' || w.ip === '0.0.0.0')));
}
