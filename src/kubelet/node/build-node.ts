// The Node the kubelet registers and the status it reports, as pure functions of the
// facts it gathered, the runtime's answers and its settings. Reasons and messages are
// upstream's (pkg/kubelet/nodestatus/setters.go), because users and tools read them.
import type { NodeFacts, NodeImage, RuntimeFacts } from './node-facts.js';
import type { NodeSettings } from './node-settings.js';
import { thresholdAmount } from './node-settings.js';
import { apiTime, type Node, type NodeCondition, type NodeStatus } from './node-wire.js';
import { formatBytes, formatCpuMillis } from '../../kube/quantity.js';
import { nodeAllocatable } from './allocatable.js';

/** The labels the kubelet owns and puts back on a re-registration (upstream updateDefaultLabels). */
export const defaultLabelKeys = [
  'kubernetes.io/hostname',
  'kubernetes.io/os',
  'kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/arch',
] as const;

/** Tells the attach/detach controller, not the kubelet, to attach volumes to this node. */
export const controllerManagedAttachAnnotation = 'volumes.kubernetes.io/controller-managed-attach-detach';

/** The labels every kubelet sets on its Node; --node-labels override them, as upstream. */
export function nodeLabels(facts: NodeFacts, settings: NodeSettings): Record<string, string> {
  return {
    'kubernetes.io/hostname': settings.nodeName,
    'kubernetes.io/os': facts.operatingSystem,
    'kubernetes.io/arch': facts.architecture,
    'beta.kubernetes.io/os': facts.operatingSystem,
    'beta.kubernetes.io/arch': facts.architecture,
    ...settings.labels,
  };
}

/** The Node the kubelet creates; the apiserver keeps the status given on create. */
export function buildNode(facts: NodeFacts, settings: NodeSettings, status?: NodeStatus): Node {
  const spec: NonNullable<Node['spec']> = {};
  if (settings.taints.length > 0) spec.taints = settings.taints.map((t) => ({ ...t }));
  if (settings.providerID) spec.providerID = settings.providerID;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: settings.nodeName,
      labels: nodeLabels(facts, settings),
      annotations: { [controllerManagedAttachAnnotation]: 'true' },
    },
    spec,
    ...(status ? { status } : {}),
  };
}

export interface StatusInputs {
  facts: NodeFacts;
  runtime: RuntimeFacts;
  settings: NodeSettings;
  images: NodeImage[];
  now: Date;
  /** The status the apiserver holds, for the transition times of unchanged conditions. */
  previous?: NodeStatus | undefined;
  /** What the operator should know while the node is ready (a serving CSR waiting for approval), appended to Ready's message. */
  notes?: string[] | undefined;
  /** The eviction manager's pressure conditions; without it, the hard thresholds against the facts. */
  pressure?: { memory: boolean; disk: boolean; pid: boolean } | undefined;
  /** A graceful node shutdown is under way: the node is not Ready (upstream's shutdown manager error). */
  shuttingDown?: boolean | undefined;
}

function condition(type: string, ok: boolean, reason: string, message: string, now: Date, previous: NodeStatus | undefined): NodeCondition {
  const status = ok ? 'True' : 'False';
  const before = previous?.conditions?.find((c) => c.type === type);
  // lastTransitionTime moves only when the status flips, so `kubectl describe` is honest.
  const lastTransitionTime = before && before.status === status && before.lastTransitionTime ? before.lastTransitionTime : apiTime(now);
  return { type, status, reason, message, lastHeartbeatTime: apiTime(now), lastTransitionTime };
}

/**
 * Why the node is not Ready, in upstream's words (runtimeState.runtimeErrors and
 * networkErrors joined with ","), or undefined when it is. An unreachable runtime says
 * which CRI call failed or hung, where and for how long.
 */
export function notReadyMessage(runtime: RuntimeFacts, shuttingDown = false): string | undefined {
  if (runtime.unreachable !== undefined) return `container runtime is down: ${runtime.unreachable}`;
  const problems: string[] = [];
  if (shuttingDown) problems.push('node is shutting down');
  const { runtimeReady: r, networkReady: n } = runtime;
  if (!r.ok) problems.push(`container runtime not ready: RuntimeReady=false reason:${r.reason} message:${r.message}`);
  if (!n.ok) problems.push(`container runtime network not ready: NetworkReady=false reason:${n.reason} message:${n.message}`);
  return problems.length > 0 ? problems.join(',') : undefined;
}

/** The pressure the hard eviction thresholds see, as the eviction manager would report it. */
export function pressures(facts: NodeFacts, settings: NodeSettings): { memory: boolean; disk: boolean; pid: boolean } {
  const e = settings.evictionHard;
  return {
    memory: e.memoryAvailable !== undefined && facts.memoryAvailableBytes < thresholdAmount(e.memoryAvailable, facts.memoryBytes),
    disk: e.nodefsAvailable !== undefined && facts.rootfsAvailableBytes < thresholdAmount(e.nodefsAvailable, facts.rootfsBytes),
    pid: e.pidAvailable !== undefined && facts.pidMax > 0 && facts.pidMax - facts.pidsInUse < thresholdAmount(e.pidAvailable, facts.pidMax),
  };
}

/** status.images: digests then tags, at most 5 names each, largest images first, at most maxImages; nameless (dangling) images left out. */
export function nodeImages(images: NodeImage[], maxImages: number): { names: string[]; sizeBytes: number }[] {
  const sorted = images.filter((i) => i.names.length > 0).sort((a, b) => b.sizeBytes - a.sizeBytes);
  const kept = maxImages >= 0 ? sorted.slice(0, maxImages) : sorted;
  return kept.map((i) => ({ names: i.names.slice(0, 5), sizeBytes: i.sizeBytes }));
}

/** The Node status the kubelet reports: capacity, allocatable, conditions, addresses, info, images. */
export function buildNodeStatus(input: StatusInputs): NodeStatus {
  const { facts, runtime, settings, now, previous } = input;
  const capacity = {
    cpu: formatCpuMillis(facts.cpuCores * 1000),
    'ephemeral-storage': formatBytes(facts.rootfsBytes),
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: formatBytes(facts.memoryBytes),
    pods: String(settings.maxPods),
  };
  // Allocatable = capacity - (kube + system reserved) - hard eviction threshold (upstream's
  // GetNodeAllocatableReservation); never below zero.
  const usable = nodeAllocatable(facts, settings);
  const allocatable = {
    ...capacity,
    cpu: formatCpuMillis(usable.cpuMillis),
    'ephemeral-storage': formatBytes(usable.ephemeralBytes),
    memory: formatBytes(usable.memoryBytes),
  };
  const pressure = input.pressure ?? pressures(facts, settings);
  const notReady = notReadyMessage(runtime, input.shuttingDown === true);
  const ips = settings.nodeIPs.length > 0 ? settings.nodeIPs : facts.hostIPs.slice(0, 1);
  return {
    capacity,
    allocatable,
    // Ready last: old components read the last condition as the node's readiness (upstream #16961).
    conditions: [
      pressure.memory
        ? condition('MemoryPressure', true, 'KubeletHasInsufficientMemory', 'kubelet has insufficient memory available', now, previous)
        : condition('MemoryPressure', false, 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available', now, previous),
      pressure.disk
        ? condition('DiskPressure', true, 'KubeletHasDiskPressure', 'kubelet has disk pressure', now, previous)
        : condition('DiskPressure', false, 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure', now, previous),
      pressure.pid
        ? condition('PIDPressure', true, 'KubeletHasInsufficientPID', 'kubelet has insufficient PID available', now, previous)
        : condition('PIDPressure', false, 'KubeletHasSufficientPID', 'kubelet has sufficient PID available', now, previous),
      notReady === undefined
        ? condition('Ready', true, 'KubeletReady', ['kubelet is posting ready status', ...(input.notes ?? [])].join('; '), now, previous)
        : condition('Ready', false, 'KubeletNotReady', notReady, now, previous),
    ],
    addresses: [...ips.map((address) => ({ type: 'InternalIP', address })), { type: 'Hostname', address: settings.nodeName }],
    daemonEndpoints: { kubeletEndpoint: { Port: settings.kubeletPort } },
    nodeInfo: {
      machineID: facts.machineID,
      systemUUID: facts.systemUUID,
      bootID: facts.bootID,
      kernelVersion: facts.kernelVersion,
      osImage: facts.osImage,
      containerRuntimeVersion: runtime.runtimeVersion,
      kubeletVersion: settings.kubeletVersion,
      kubeProxyVersion: '',
      operatingSystem: facts.operatingSystem,
      architecture: facts.architecture,
    },
    images: nodeImages(input.images, settings.maxImages),
    ...(settings.declaredFeatures?.length ? { declaredFeatures: [...settings.declaredFeatures] } : {}),
  };
}

/** The Ready condition of a status, if any. */
export function readyCondition(status: NodeStatus | undefined): NodeCondition | undefined {
  return status?.conditions?.find((c) => c.type === 'Ready');
}
