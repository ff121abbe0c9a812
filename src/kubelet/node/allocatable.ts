// What pods may use of the node (upstream GetNodeAllocatableReservation): capacity less
// kubeReserved and systemReserved, less the hard eviction threshold for memory and
// nodefs; never below zero. Admission fits pods into it; the Node status reports it.
import type { NodeSettings } from './node-settings.js';
import { thresholdAmount } from './node-settings.js';

export interface MachineCapacity {
  cpuCores: number;
  memoryBytes: number;
  rootfsBytes: number;
}

export interface Allocatable {
  cpuMillis: number;
  memoryBytes: number;
  ephemeralBytes: number;
  pods: number;
}

export function nodeAllocatable(machine: MachineCapacity, settings: Pick<NodeSettings, 'reserved' | 'evictionHard' | 'maxPods'>): Allocatable {
  const { reserved, evictionHard } = settings;
  return {
    cpuMillis: Math.max(0, machine.cpuCores * 1000 - reserved.cpuMillis),
    memoryBytes: Math.max(0, machine.memoryBytes - reserved.memoryBytes - thresholdAmount(evictionHard.memoryAvailable, machine.memoryBytes)),
    ephemeralBytes: Math.max(0, machine.rootfsBytes - reserved.ephemeralBytes - thresholdAmount(evictionHard.nodefsAvailable, machine.rootfsBytes)),
    pods: settings.maxPods,
  };
}
