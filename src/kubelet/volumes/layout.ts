// Where a pod's volumes live on the node, as upstream lays them out, so tools that read
// the kubelet's directory (log shippers, backup agents, `du`) find them:
//
//   <root-dir>/pods/<uid>/volumes/kubernetes.io~<plugin>/<volume>            the volume
//   <root-dir>/pods/<uid>/plugins/kubernetes.io~empty-dir/<volume>/ready     set up once (empty-dir and the volumes on one)
//   <root-dir>/pods/<uid>/volume-subpaths/<volume>/<container>/<mount index>  a subPath's bind mount
//   <root-dir>/pods/<uid>/etc-hosts                                           the pod's /etc/hosts
import { join } from 'node:path';
import { podDir } from '../runtime/pod-dirs.js';

/** The volume plugins tskube implements, by upstream name (kubernetes.io/<plugin>). */
export type VolumePlugin = 'empty-dir' | 'host-path' | 'configmap' | 'secret' | 'downward-api' | 'projected';

/** "kubernetes.io~empty-dir": a plugin name with '/' escaped, as a directory name. */
export function pluginDirName(plugin: VolumePlugin): string {
  return `kubernetes.io~${plugin}`;
}

export function podVolumesDir(rootDir: string, uid: string): string {
  return join(podDir(rootDir, uid), 'volumes');
}

export function volumeDir(rootDir: string, uid: string, plugin: VolumePlugin, name: string): string {
  return join(podVolumesDir(rootDir, uid), pluginDirName(plugin), name);
}

/**
 * The empty-dir plugin's "ready" marker for a volume: set once its directory (and tmpfs)
 * is made. Volumes on an empty-dir of their own (configMap, secret, downwardAPI,
 * projected) have theirs under "wrapped_<name>", as upstream's wrapper mounters do.
 */
export function readyFile(rootDir: string, uid: string, name: string, wrapped: boolean): string {
  return join(podDir(rootDir, uid), 'plugins', pluginDirName('empty-dir'), wrapped ? `wrapped_${name}` : name, 'ready');
}

export function podPluginsDir(rootDir: string, uid: string): string {
  return join(podDir(rootDir, uid), 'plugins');
}

export function subPathsDir(rootDir: string, uid: string): string {
  return join(podDir(rootDir, uid), 'volume-subpaths');
}

export function subPathTarget(rootDir: string, uid: string, volume: string, container: string, mountIndex: number): string {
  return join(subPathsDir(rootDir, uid), volume, container, String(mountIndex));
}

export function etcHostsFile(rootDir: string, uid: string): string {
  return join(podDir(rootDir, uid), 'etc-hosts');
}
