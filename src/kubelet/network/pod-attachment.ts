// What the kubelet hands the plugin chain for one pod sandbox: the CNI_ARGS upstream's
// kubelet and containerd pass, and the capability arguments from the pod itself (hostPorts
// as portMappings, the bandwidth annotations) and from the Node (its podCIDRs as the IPAM
// ranges). A sandbox the kubelet did not make (crictl runp) keeps what the runtime passed.
// Pure.
import type { V1Pod } from '@kubernetes/client-node';
import { TskubeError } from '../../common/errors.js';
import type { Attachment } from '../../cni/network-config.js';
import { quantityValue } from '../../kube/quantity.js';
import { podPortMappings } from '../cri-requests/port-mappings.js';
import { cniArg, type ShimCall } from './shim-call.js';

export const ingressBandwidthAnnotation = 'kubernetes.io/ingress-bandwidth';
export const egressBandwidthAnnotation = 'kubernetes.io/egress-bandwidth';
/** Upstream's sanity range for the bandwidth annotations, in bits per second. */
const minBandwidth = 1000;
const maxBandwidth = 10 ** 15;
/** containerd's burst for a shaped pod (upstream never made it configurable). */
const bandwidthBurst = 2 ** 32 - 1;

/** The `bandwidth` capability argument from the pod's annotations; undefined when it has none. */
export function podBandwidth(annotations: Readonly<Record<string, string>> | undefined): Record<string, number> | undefined {
  const out: Record<string, number> = {};
  for (const [key, rate, burst] of [
    [ingressBandwidthAnnotation, 'ingressRate', 'ingressBurst'],
    [egressBandwidthAnnotation, 'egressRate', 'egressBurst'],
  ] as const) {
    const text = annotations?.[key];
    if (text === undefined) continue;
    let bits: number;
    try {
      bits = quantityValue(text);
    } catch (err) {
      throw new TskubeError('invalid-argument', `annotation ${key}: ${TskubeError.from(err).detail}`);
    }
    if (bits < minBandwidth) throw new TskubeError('invalid-argument', `annotation ${key}: "${text}" is unreasonably small (< 1k bits per second)`);
    if (bits > maxBandwidth) throw new TskubeError('invalid-argument', `annotation ${key}: "${text}" is unreasonably large (> 1P bits per second)`);
    out[rate] = bits;
    out[burst] = bandwidthBurst;
  }
  return Object.keys(out).length ? out : undefined;
}

/** The pod's hostPorts in the `portMappings` capability's shape (containerd's toCNIPortMappings). */
export function podCniPortMappings(pod: V1Pod): { hostPort: number; containerPort: number; protocol: string; hostIP: string }[] {
  return podPortMappings(pod).flatMap((p) =>
    p.hostPort
      ? [{ hostPort: p.hostPort, containerPort: p.containerPort ?? 0, protocol: String(p.protocol ?? 'TCP').toLowerCase(), hostIP: p.hostIp ?? '' }]
      : [],
  );
}

/** spec.podCIDRs of a Node (spec.podCIDR on an old API server); empty when none is assigned yet. */
export function nodePodCIDRs(node: { spec?: { podCIDR?: string; [other: string]: unknown } } | undefined): string[] {
  const list = node?.spec?.['podCIDRs'];
  if (Array.isArray(list) && list.length) return list.filter((c): c is string => typeof c === 'string' && c !== '');
  return node?.spec?.podCIDR ? [node.spec.podCIDR] : [];
}

/** The Node's pod CIDRs as `ipRanges`: one range set per CIDR, so a dual-stack node gets an address of each family. */
export function podCidrRanges(podCIDRs: readonly string[]): { subnet: string }[][] {
  return podCIDRs.map((subnet) => [{ subnet }]);
}

export interface AttachmentInputs {
  call: ShimCall;
  /** The pod the sandbox is for (found by K8S_POD_UID); undefined for a sandbox the kubelet did not make. */
  pod: V1Pod | undefined;
  /** spec.podCIDRs of this Node; empty standalone or before the controller manager assigned them. */
  podCIDRs: readonly string[];
}

/** The attachment for ADD: the sandbox from the call, the arguments from the pod where the kubelet knows it. */
export function podAttachment({ call, pod, podCIDRs }: AttachmentInputs): Attachment {
  const { ['io.kubernetes.cri.pod-annotations']: _annotations, ...fromRuntime } = call.runtimeConfig;
  const capabilityArgs: Record<string, unknown> = { ...fromRuntime };
  let args: [string, string][] = call.args;
  if (pod) {
    const meta = pod.metadata ?? {};
    args = [
      ['IgnoreUnknown', '1'],
      ['K8S_POD_NAMESPACE', meta.namespace ?? 'default'],
      ['K8S_POD_NAME', meta.name ?? ''],
      ['K8S_POD_INFRA_CONTAINER_ID', call.containerId],
      ['K8S_POD_UID', meta.uid ?? cniArg(call, 'K8S_POD_UID') ?? ''],
    ];
    const ports = podCniPortMappings(pod);
    if (ports.length) capabilityArgs['portMappings'] = ports;
    else delete capabilityArgs['portMappings'];
    const bandwidth = podBandwidth(meta.annotations);
    if (bandwidth) capabilityArgs['bandwidth'] = bandwidth;
    else delete capabilityArgs['bandwidth'];
  }
  if (podCIDRs.length) capabilityArgs['ipRanges'] = podCidrRanges(podCIDRs);
  return { containerId: call.containerId, ifName: call.ifName, netns: call.netns, args, capabilityArgs };
}
