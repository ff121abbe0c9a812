// The settings the Node's builders read, in plain numbers, derived once from the
// kubelet's options: reservations and hard eviction thresholds parsed from their
// quantity strings, so the builders never parse and never fail.
import { TskubeError } from '../../common/errors.js';
import type { KubeletOptions } from '../options/kubelet-options.js';
import { requireQuantity } from '../../kube/quantity.js';
import type { Taint } from './node-wire.js';

/** A hard eviction threshold: an absolute amount, or a fraction (0..1) of capacity. */
export type Threshold = { kind: 'quantity'; value: number } | { kind: 'percentage'; value: number };

export interface NodeSettings {
  nodeName: string;
  /** --node-ip; empty means: the host's own address (NodeFacts.hostIPs). */
  nodeIPs: string[];
  /** nodeInfo.kubeletVersion, e.g. "v1.36.3". */
  kubeletVersion: string;
  /** daemonEndpoints.kubeletEndpoint.Port (the kubelet's HTTPS port). */
  kubeletPort: number;
  maxPods: number;
  /** --node-labels (set at registration; the kubelet's defaults win nothing over them). */
  labels: Record<string, string>;
  /** --register-with-taints / registerWithTaints. */
  taints: Taint[];
  providerID: string;
  /** kubeReserved + systemReserved. */
  reserved: { cpuMillis: number; memoryBytes: number; ephemeralBytes: number };
  /** evictionHard signals that shape allocatable and the pressure conditions. */
  evictionHard: { memoryAvailable?: Threshold; nodefsAvailable?: Threshold; pidAvailable?: Threshold };
  /** nodeStatusMaxImages: -1 = all. */
  maxImages: number;
  /**
   * status.declaredFeatures: ExtendWebSocketsToKubelet when the kubelet API runs, so the
   * API server passes `kubectl exec` websockets to it instead of translating them to SPDY.
   */
  declaredFeatures?: string[];
}

/** NodeSettings from the resolved kubelet options; throws invalid-argument naming the field. */
export function nodeSettingsFromOptions(options: KubeletOptions, kubeletVersion: string): NodeSettings {
  const c = options.config;
  const reserved = (resource: string) => {
    let sum = 0;
    for (const [field, list] of [
      ['kubeReserved', c.kubeReserved],
      ['systemReserved', c.systemReserved],
    ] as const) {
      const text = list[resource];
      if (text !== undefined) sum += requireQuantity(text, `${field}[${resource}]`);
    }
    return sum;
  };
  const evictionHard: NodeSettings['evictionHard'] = {};
  const memory = threshold(c.evictionHard, 'memory.available');
  const nodefs = threshold(c.evictionHard, 'nodefs.available');
  const pid = threshold(c.evictionHard, 'pid.available');
  if (memory) evictionHard.memoryAvailable = memory;
  if (nodefs) evictionHard.nodefsAvailable = nodefs;
  if (pid) evictionHard.pidAvailable = pid;
  return {
    nodeName: options.nodeName,
    nodeIPs: options.nodeIPs,
    kubeletVersion,
    kubeletPort: c.port,
    maxPods: c.maxPods,
    labels: { ...options.nodeLabels },
    taints: c.registerWithTaints.map((t) => ({ key: t.key, ...(t.value ? { value: t.value } : {}), effect: t.effect })),
    providerID: c.providerID,
    reserved: {
      cpuMillis: Math.round(reserved('cpu') * 1000),
      memoryBytes: Math.round(reserved('memory')),
      ephemeralBytes: Math.round(reserved('ephemeral-storage')),
    },
    evictionHard,
    maxImages: c.nodeStatusMaxImages,
    declaredFeatures: c.enableServer ? ['ExtendWebSocketsToKubelet'] : [],
  };
}

/** Parses one evictionHard value: "100Mi" or "10%". */
export function threshold(evictionHard: Record<string, string>, signal: string): Threshold | undefined {
  const text = evictionHard[signal]?.trim();
  if (text === undefined || text === '') return undefined;
  const field = `evictionHard[${signal}]`;
  if (text.endsWith('%')) {
    const pct = Number(text.slice(0, -1));
    if (!Number.isFinite(pct) || pct < 0 || pct > 100)
      throw new TskubeError('invalid-argument', `${field}: invalid value "${text}": want a percentage 0%..100%`);
    return { kind: 'percentage', value: pct / 100 };
  }
  return { kind: 'quantity', value: requireQuantity(text, field) };
}

/** The amount a threshold stands for against a capacity. */
export function thresholdAmount(t: Threshold | undefined, capacity: number): number {
  if (!t) return 0;
  return t.kind === 'quantity' ? t.value : Math.floor(capacity * t.value);
}
