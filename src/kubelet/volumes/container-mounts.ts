// What one container mounts (upstream makeMounts): each volumeMount's volume on the node,
// its subPath (or subPathExpr expanded from the container's env), read-only-ness,
// propagation; and whether the kubelet's /etc/hosts goes in. Pure: the subPath bind
// mounts and the hosts file are made by the volume manager from this plan.
import type { V1Container, V1Pod, V1VolumeMount } from '@kubernetes/client-node';
import type { MountPropagation } from '../../gen/cri/runtime/v1/MountPropagation.js';
import { expandVars } from '../cri-requests/expansion.js';
import type { EnvVarValue } from '../cri-requests/container-config.js';
import type { VolumePlan } from './plan-volumes.js';

export const etcHostsPath = '/etc/hosts';

export interface PlannedMount {
  /** The volume's name and the mount's index in volumeMounts (its subPath's bind target is named by both). */
  volume: string;
  index: number;
  containerPath: string;
  /** The volume on the node: its directory, or the hostPath. */
  volumePath: string;
  /** Mount this part of the volume (bind-mounted safely first); absent: the whole volume. */
  subPath?: string;
  readOnly: boolean;
  propagation: Exclude<MountPropagation, number>;
  /** Managed volumes may be relabelled for SELinux; a hostPath is the node's own and is not. */
  selinuxRelabel: boolean;
}

export type ContainerMountPlan = { ok: true; mounts: PlannedMount[]; etcHosts: boolean } | { ok: false; message: string };

/** Why a subPath may not be used at all (upstream's checks before any file is looked at); undefined when it may. */
export function invalidSubPath(subPath: string): string | undefined {
  if (subPath.startsWith('/')) return `error SubPath \`${subPath}\` must not be an absolute path`;
  if (subPath.split('/').includes('..')) return `unable to provision SubPath \`${subPath}\`: must not contain '..'`;
  return undefined;
}

function propagationOf(m: V1VolumeMount, privileged: boolean): Exclude<MountPropagation, number> | string {
  switch (m.mountPropagation ?? 'None') {
    case 'None':
      return 'PROPAGATION_PRIVATE';
    case 'HostToContainer':
      return 'PROPAGATION_HOST_TO_CONTAINER';
    case 'Bidirectional':
      return privileged ? 'PROPAGATION_BIDIRECTIONAL' : 'Bidirectional mount propagation is available only to privileged containers';
    default:
      return `invalid MountPropagation mode: ${JSON.stringify(m.mountPropagation)}`;
  }
}

/** subPathExpr with `$(VAR)` from the container's env; a variable that is missing or empty is an error, as upstream. */
function expandSubPath(expr: string, env: readonly EnvVarValue[]): { ok: true; value: string } | { ok: false; message: string } {
  const vars = new Map(env.map((e) => [e.name, e.value]));
  const missing = new Set<string>();
  const value = expandVars(expr, (name) => {
    const v = vars.get(name);
    if (v === undefined || v === '') missing.add(name);
    return v ?? '';
  });
  if (missing.size > 0) return { ok: false, message: `missing value for ${[...missing].sort().join(', ')}` };
  return { ok: true, value };
}

/**
 * The container's mounts, or the first reason it cannot have them (the caller reports
 * CreateContainerConfigError). `podIPs` decides /etc/hosts: a pod with an IP, or on the
 * host network, gets the kubelet's file unless a volumeMount is at /etc/hosts.
 */
export function planContainerMounts(
  pod: V1Pod,
  container: V1Container,
  env: readonly EnvVarValue[],
  volumes: ReadonlyMap<string, VolumePlan>,
  podIPs: readonly string[],
): ContainerMountPlan {
  const mounts: PlannedMount[] = [];
  let etcHosts = podIPs.length > 0 || pod.spec?.hostNetwork === true;
  const privileged = container.securityContext?.privileged === true;
  for (const [index, m] of (container.volumeMounts ?? []).entries()) {
    if (m.mountPath === etcHostsPath) etcHosts = false;
    const plan = volumes.get(m.name);
    if (!plan) return { ok: false, message: `cannot find volume ${JSON.stringify(m.name)} to mount into container ${JSON.stringify(container.name)}` };
    if (plan.kind === 'refused') return { ok: false, message: `volume ${JSON.stringify(m.name)}: ${plan.message}` };
    let subPath = m.subPath ?? '';
    if (m.subPathExpr) {
      const expanded = expandSubPath(m.subPathExpr, env);
      if (!expanded.ok) return { ok: false, message: expanded.message };
      subPath = expanded.value;
    }
    if (subPath !== '') {
      const why = invalidSubPath(subPath);
      if (why) return { ok: false, message: why };
    }
    const propagation = propagationOf(m, privileged);
    if (!propagation.startsWith('PROPAGATION_')) return { ok: false, message: propagation };
    if (m.recursiveReadOnly === 'Enabled') {
      return {
        ok: false,
        message: `failed to resolve recursive read-only mode: volumeMount ${JSON.stringify(m.name)}: recursive read-only mounts are not supported by the runtime`,
      };
    }
    const volumePath = plan.kind === 'host-path' ? plan.path : plan.dir;
    mounts.push({
      volume: m.name,
      index,
      containerPath: m.mountPath.startsWith('/') ? m.mountPath : `/${m.mountPath}`,
      volumePath,
      ...(subPath !== '' ? { subPath } : {}),
      // configMap, secret, downwardAPI and projected volumes are the kubelet's to write: read-only to every container.
      readOnly: m.readOnly === true || plan.kind === 'projection',
      propagation: propagation as Exclude<MountPropagation, number>,
      selinuxRelabel: plan.kind !== 'host-path',
    });
  }
  return { ok: true, mounts, etcHosts };
}
