// What each of a pod's volumes is on this node: which plugin sets it up, where it lives,
// whether it is a tmpfs and how big, or why this kubelet refuses it. Pure: the pod and
// the node's numbers in, plans out; the volume manager carries them out.
import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import { TskubeError } from '../../common/errors.js';
import { quantityValue } from '../../kube/quantity.js';
import { podResourceConfig } from '../cm/resource-config.js';
import { specContainers } from '../pods/container-outcome.js';
import { type VolumePlugin, volumeDir } from './layout.js';

/** hostPath.type as the API spells it; "" checks nothing. */
export type HostPathType = '' | 'DirectoryOrCreate' | 'Directory' | 'FileOrCreate' | 'File' | 'Socket' | 'CharDevice' | 'BlockDevice';

const hostPathTypes: readonly string[] = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'];

/** The plugins whose content the kubelet writes (atomic writer): configMap, secret, downwardAPI, projected. */
export type ProjectionPlugin = Extract<VolumePlugin, 'configmap' | 'secret' | 'downward-api' | 'projected'>;

export type VolumePlan =
  | { kind: 'empty-dir'; name: string; dir: string; memory: boolean; sizeBytes?: number }
  | { kind: 'host-path'; name: string; path: string; type: HostPathType }
  /** A directory of files the kubelet writes and keeps up to date; on a tmpfs unless it is a configMap. */
  | { kind: 'projection'; plugin: ProjectionPlugin; name: string; dir: string; tmpfs: boolean; sizeBytes?: number }
  | { kind: 'refused'; name: string; message: string };

export interface VolumeNodeContext {
  rootDir: string;
  /** What pods may use of the node's memory: a memory-backed volume is never bigger. */
  allocatableMemoryBytes: number;
}

/** The volume's plugin and the field that chose it, for the ones tskube does not implement. */
const otherSources: readonly (keyof V1Volume)[] = [
  'persistentVolumeClaim',
  'csi',
  'ephemeral',
  'nfs',
  'iscsi',
  'fc',
  'rbd',
  'cephfs',
  'cinder',
  'flexVolume',
  'gitRepo',
  'awsElasticBlockStore',
  'azureDisk',
  'azureFile',
  'gcePersistentDisk',
  'glusterfs',
  'portworxVolume',
  'quobyte',
  'scaleIO',
  'storageos',
  'vsphereVolume',
  'photonPersistentDisk',
  'flocker',
];

/**
 * The size of a memory-backed volume as upstream computes it: the node's allocatable
 * memory, or less the pod's memory limit when it has one, or less the volume's
 * sizeLimit when that is smaller still.
 */
export function memoryVolumeSize(pod: V1Pod, allocatableMemoryBytes: number, sizeLimit?: string): number {
  let size = allocatableMemoryBytes;
  const podLimit = podResourceConfig(pod, { enforceCpuLimits: false, cpuPeriodUs: 100_000, podPidsLimit: 0 }).memoryLimitBytes;
  if (podLimit !== undefined && podLimit > 0 && podLimit <= size) size = podLimit;
  if (sizeLimit !== undefined) {
    const v = quantityValue(sizeLimit, 'emptyDir.sizeLimit');
    if (v > 0 && v <= size) size = v;
  }
  return size;
}

export function planVolume(pod: V1Pod, v: V1Volume, ctx: VolumeNodeContext): VolumePlan {
  const uid = pod.metadata?.uid ?? '';
  const name = v.name;
  const dir = (plugin: VolumePlugin) => volumeDir(ctx.rootDir, uid, plugin, name);
  const refused = (message: string): VolumePlan => ({ kind: 'refused', name, message });
  try {
    if (v.emptyDir) {
      const medium = v.emptyDir.medium ?? '';
      if (medium === '') return { kind: 'empty-dir', name, dir: dir('empty-dir'), memory: false };
      if (medium === 'Memory') {
        return {
          kind: 'empty-dir',
          name,
          dir: dir('empty-dir'),
          memory: true,
          sizeBytes: memoryVolumeSize(pod, ctx.allocatableMemoryBytes, v.emptyDir.sizeLimit),
        };
      }
      if (medium.startsWith('HugePages'))
        return refused(`emptyDir.medium ${JSON.stringify(medium)}: hugepage-backed volumes are not supported by this kubelet`);
      return refused(`emptyDir.medium: unknown storage medium ${JSON.stringify(medium)}`);
    }
    if (v.hostPath) {
      const type = v.hostPath.type ?? '';
      if (!hostPathTypes.includes(type)) return refused(`hostPath.type: ${JSON.stringify(type)} is an invalid volume type`);
      if (!v.hostPath.path.startsWith('/')) return refused(`hostPath.path: ${JSON.stringify(v.hostPath.path)} must be an absolute path`);
      return { kind: 'host-path', name, path: v.hostPath.path, type: type as HostPathType };
    }
    const memoryBacked = (plugin: ProjectionPlugin): VolumePlan => ({
      kind: 'projection',
      plugin,
      name,
      dir: dir(plugin),
      tmpfs: true,
      sizeBytes: memoryVolumeSize(pod, ctx.allocatableMemoryBytes),
    });
    // configMaps live on disk (upstream cannot charge a tmpfs to the pod's cgroup); the others may hold secrets.
    if (v.configMap) return { kind: 'projection', plugin: 'configmap', name, dir: dir('configmap'), tmpfs: false };
    if (v.secret) return memoryBacked('secret');
    if (v.downwardAPI) return memoryBacked('downward-api');
    if (v.projected) return memoryBacked('projected');
    if (v.image) {
      return refused(
        'image volumes are not supported: containerd 1.6 does not implement the CRI image mount (containerd 2.1 and later do), and this kubelet does not pass image volumes to the runtime yet',
      );
    }
    const other = otherSources.find((k) => v[k] !== undefined);
    if (other) return refused(`${other} volumes are not supported by this kubelet`);
    return refused('no volume source is set');
  } catch (err) {
    // A quantity that does not parse (sizeLimit, a container's memory limit) names its field.
    return refused(TskubeError.from(err).detail);
  }
}

export function planVolumes(pod: V1Pod, ctx: VolumeNodeContext): VolumePlan[] {
  return (pod.spec?.volumes ?? []).map((v) => planVolume(pod, v, ctx));
}

/** Every container of the pod, the ephemeral ones included. */
function everyContainer(pod: V1Pod): V1Container[] {
  return [...specContainers(pod), ...((pod.spec?.ephemeralContainers ?? []) as V1Container[])];
}

/**
 * The user that owns token files (upstream FsUserFrom): the one runAsUser every container
 * runs as, from its own securityContext or the pod's; none when one of them names no user
 * or two differ.
 */
export function podFsUser(pod: V1Pod): number | undefined {
  let user: number | undefined;
  for (const c of everyContainer(pod)) {
    const u = c.securityContext?.runAsUser ?? pod.spec?.securityContext?.runAsUser;
    if (u === undefined || (user !== undefined && user !== u)) return undefined;
    user = u;
  }
  return user;
}
