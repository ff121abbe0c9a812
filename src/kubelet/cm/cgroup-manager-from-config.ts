// The cgroup manager from the KubeletConfiguration: cgroupRoot, cgroupsPerQOS,
// podPidsLimit, cpuCFSQuota, enforceNodeAllocatable with kubeReserved, systemReserved
// and their cgroups. Throws invalid-argument naming the field for a reservation it cannot read.
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { requireQuantity } from '../../kube/quantity.js';
import type { CgroupDriver, KubeletConfiguration } from '../options/types.js';
import type { CgroupLayout } from './cgroup-layout.js';
import { CgroupManager } from './cgroup-manager.js';
import { cgroupLiteral, parseCgroupRoot } from './cgroup-names.js';
import { kubepodsResourceConfig, type NodeResources, type Reservation, reservedResourceConfig, type ResourceConfig } from './resource-config.js';

export function reservation(list: Record<string, string>, field: string): Reservation {
  const q = (name: string) => (list[name] === undefined ? 0 : requireQuantity(list[name], `${field}[${name}]`));
  return { cpuMillis: Math.round(q('cpu') * 1000), memoryBytes: Math.round(q('memory')), pids: Math.round(q('pid')) };
}

const sum = (a: Reservation, b: Reservation): Reservation => ({
  cpuMillis: a.cpuMillis + b.cpuMillis,
  memoryBytes: a.memoryBytes + b.memoryBytes,
  pids: a.pids + b.pids,
});

export interface CgroupManagerDeps {
  config: KubeletConfiguration;
  driver: CgroupDriver;
  layout: CgroupLayout;
  capacity: () => NodeResources;
  activePods: () => V1Pod[];
  knownPodUids: () => ReadonlySet<string> | undefined;
  log: Logger;
}

export function cgroupManagerFromConfig(d: CgroupManagerDeps): CgroupManager {
  const c = d.config;
  const kube = reservation(c.kubeReserved, 'kubeReserved');
  const system = reservation(c.systemReserved, 'systemReserved');
  const enforce = new Set(c.enforceNodeAllocatable);
  const literal = (path: string) => (d.driver === 'systemd' ? cgroupLiteral(parseCgroupRoot(path, 'systemd'), 'systemd') : path);
  const reserved: { path: string; config: ResourceConfig }[] = [];
  if (enforce.has('system-reserved') || enforce.has('system-reserved-compressible')) {
    reserved.push({ path: literal(c.systemReservedCgroup), config: reservedResourceConfig(system, enforce.has('system-reserved-compressible')) });
  }
  if (enforce.has('kube-reserved') || enforce.has('kube-reserved-compressible')) {
    reserved.push({ path: literal(c.kubeReservedCgroup), config: reservedResourceConfig(kube, enforce.has('kube-reserved-compressible')) });
  }
  return new CgroupManager({
    layout: d.layout,
    driver: d.driver,
    root: parseCgroupRoot(c.cgroupRoot || '/', d.driver),
    pod: { enforceCpuLimits: c.cpuCFSQuota, cpuPeriodUs: 100_000, podPidsLimit: c.podPidsLimit },
    kubepods: () => kubepodsResourceConfig(d.capacity(), sum(kube, system), enforce.has('pods')),
    reserved,
    activePods: d.activePods,
    knownPodUids: d.knownPodUids,
    log: d.log,
  });
}
