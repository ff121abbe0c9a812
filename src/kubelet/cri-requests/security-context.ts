import type { V1Container, V1Pod, V1PodSecurityContext, V1SeccompProfile, V1SecurityContext } from '@kubernetes/client-node';
import { TskubeError } from '../../common/errors.js';
import type { LinuxContainerSecurityContext } from '../../gen/cri/runtime/v1/LinuxContainerSecurityContext.js';
import type { LinuxSandboxSecurityContext } from '../../gen/cri/runtime/v1/LinuxSandboxSecurityContext.js';
import type { NamespaceOption } from '../../gen/cri/runtime/v1/NamespaceOption.js';
import type { SecurityProfile } from '../../gen/cri/runtime/v1/SecurityProfile.js';
import type { SupplementalGroupsPolicy } from '../../gen/cri/runtime/v1/SupplementalGroupsPolicy.js';
import { appArmorForRuntime } from './apparmor.js';
import { namespacesForPod } from './namespaces.js';
import { containerField } from './pod-resources.js';
import { specContainers } from '../pods/container-outcome.js';

/** Paths the kubelet asks the runtime to mask unless procMount is Unmasked (kept in step with moby's defaults). */
export const defaultMaskedPaths: readonly string[] = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];
export const defaultReadonlyPaths: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export const defaultSeccompProfileRoot = '/var/lib/kubelet/seccomp';

export interface SecurityOptions {
  /** KubeletConfiguration seccompDefault: RuntimeDefault instead of Unconfined when a pod names none. */
  seccompDefault?: boolean;
  /** Where Localhost seccomp profiles live: `<root-dir>/seccomp`. */
  seccompProfileRoot?: string;
  /** The image's configured user (from CRI ImageStatus), used when the pod names no runAsUser. */
  imageUser?: { uid?: number; username?: string };
  /** An ephemeral container's targetContainerName, resolved to its container ID: it joins that container's PID namespace. */
  pidTarget?: string;
}

/** The spec's containers and the ephemeral ones (`kubectl debug`). */
function allContainers(pod: V1Pod): V1Container[] {
  return [...specContainers(pod), ...((pod.spec?.ephemeralContainers ?? []) as V1Container[])];
}

function supplementalGroups(psc: V1PodSecurityContext | undefined): number[] {
  const groups: number[] = [];
  if (psc?.fsGroup !== undefined) groups.push(psc.fsGroup);
  groups.push(...(psc?.supplementalGroups ?? []));
  return groups;
}

function groupsPolicy(psc: V1PodSecurityContext | undefined): SupplementalGroupsPolicy | undefined {
  const p = psc?.supplementalGroupsPolicy;
  if (p === undefined) return undefined;
  if (p === 'Merge' || p === 'Strict') return p;
  throw new TskubeError('invalid-argument', `spec.securityContext.supplementalGroupsPolicy: unsupported value ${JSON.stringify(p)} (want Merge or Strict)`);
}

function seLinux(sc: V1PodSecurityContext | V1SecurityContext | undefined) {
  const o = sc?.seLinuxOptions;
  if (!o) return undefined;
  return { user: o.user ?? '', role: o.role ?? '', type: o.type ?? '', level: o.level ?? '' };
}

/**
 * The sandbox's security context. The sandbox (pause) process always runs under the
 * runtime's default seccomp profile, whatever the pod asks for its containers, so that
 * least-privilege pod profiles cannot break the pause process (upstream issue 84623).
 */
export function sandboxSecurityContext(pod: V1Pod): LinuxSandboxSecurityContext {
  const psc = pod.spec?.securityContext;
  const sc: LinuxSandboxSecurityContext = {
    namespaceOptions: namespacesForPod(pod),
    privileged: allContainers(pod).some((c) => c.securityContext?.privileged === true),
    seccomp: { profileType: 'RuntimeDefault' },
  };
  if (psc?.runAsUser !== undefined) sc.runAsUser = { value: psc.runAsUser };
  if (psc?.runAsGroup !== undefined) sc.runAsGroup = { value: psc.runAsGroup };
  const groups = supplementalGroups(psc);
  if (groups.length > 0) sc.supplementalGroups = groups;
  const policy = groupsPolicy(psc);
  if (policy !== undefined) sc.supplementalGroupsPolicy = policy;
  const selinux = seLinux(psc);
  if (selinux) sc.selinuxOptions = selinux;
  return sc;
}

/** A seccomp profile field as CRI wants it; Localhost profiles are files under the profile root. */
export function seccompProfile(profile: V1SeccompProfile, field: string, root: string): SecurityProfile {
  switch (profile.type) {
    case 'RuntimeDefault':
      return { profileType: 'RuntimeDefault' };
    case 'Unconfined':
      return { profileType: 'Unconfined' };
    case 'Localhost': {
      const name = profile.localhostProfile;
      if (!name) throw new TskubeError('invalid-argument', `${field}.localhostProfile must be set if seccompProfile type is Localhost`);
      return { profileType: 'Localhost', localhostRef: `${root.replace(/\/+$/, '')}/${name.replace(/^\/+/, '')}` };
    }
    default:
      throw new TskubeError('invalid-argument', `${field}.type: unsupported seccomp profile type ${JSON.stringify(profile.type)}`);
  }
}

function containerSeccomp(pod: V1Pod, container: V1Container, opts: SecurityOptions): SecurityProfile {
  const root = opts.seccompProfileRoot ?? defaultSeccompProfileRoot;
  const own = container.securityContext?.seccompProfile;
  if (own) return seccompProfile(own, `${containerField(pod, container)}.securityContext.seccompProfile`, root);
  const podLevel = pod.spec?.securityContext?.seccompProfile;
  if (podLevel) return seccompProfile(podLevel, 'spec.securityContext.seccompProfile', root);
  return { profileType: opts.seccompDefault ? 'RuntimeDefault' : 'Unconfined' };
}

/** The container's own settings over the pod's, for the fields both levels have. */
function effective(pod: V1Pod, container: V1Container) {
  const psc = pod.spec?.securityContext;
  const csc = container.securityContext;
  return {
    runAsUser: csc?.runAsUser ?? psc?.runAsUser,
    runAsGroup: csc?.runAsGroup ?? psc?.runAsGroup,
    runAsNonRoot: csc?.runAsNonRoot ?? psc?.runAsNonRoot,
    seLinux: seLinux(csc) ?? seLinux(psc),
  };
}

/**
 * Checks runAsNonRoot as upstream does before creating a container; returns the
 * message for CreateContainerConfigError, or undefined when the container may start.
 */
export function runAsNonRootViolation(pod: V1Pod, container: V1Container, imageUser?: { uid?: number; username?: string }): string | undefined {
  const eff = effective(pod, container);
  if (eff.runAsNonRoot !== true) return undefined;
  const where = `(pod: ${JSON.stringify(podDesc(pod))}, container: ${container.name})`;
  if (eff.runAsUser !== undefined) {
    return eff.runAsUser === 0 ? `container's runAsUser breaks non-root policy ${where}` : undefined;
  }
  // An image without a USER runs as root: callers pass uid 0 for it, and an unknown user counts the same.
  if (imageUser?.uid === undefined && imageUser?.username) {
    return `container has runAsNonRoot and image has non-numeric user (${imageUser.username}), cannot verify user is non-root ${where}`;
  }
  const uid = imageUser?.uid ?? 0;
  if (uid === 0) return `container has runAsNonRoot and image will run as root ${where}`;
  if (!Number.isInteger(uid) || uid < 0 || uid > maxInt32) {
    return `container has runAsNonRoot and image has an invalid user id (${uid}). (Must be 1-(${maxInt32})): must be between 0 and ${maxInt32}, inclusive ${where}`;
  }
  return undefined;
}

const maxInt32 = 2147483647;

function podDesc(pod: V1Pod): string {
  return `${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? ''}(${pod.metadata?.uid ?? ''})`;
}

/**
 * The container's security context as upstream synthesizes it: pod-level user, group and
 * SELinux settings unless the container overrides them; capabilities, privileged and a
 * read-only root only from the container; the pod's namespaces and supplemental groups;
 * no_new_privs when allowPrivilegeEscalation is false; the default masked and read-only
 * /proc paths unless procMount is Unmasked (privileged containers get them too: the
 * runtime drops them for privileged containers itself); the AppArmor profile the pod names
 * (admission has refused it where the kernel has no AppArmor).
 */
export function containerSecurityContext(pod: V1Pod, container: V1Container, opts: SecurityOptions = {}): LinuxContainerSecurityContext {
  const csc = container.securityContext;
  const eff = effective(pod, container);
  const namespaceOptions: NamespaceOption = namespacesForPod(pod);
  // As upstream: a debug container targets another's processes only where each container has its own.
  if (opts.pidTarget && namespaceOptions.pid === 'CONTAINER') Object.assign(namespaceOptions, { pid: 'TARGET', targetId: opts.pidTarget });
  const sc: LinuxContainerSecurityContext = {
    privileged: csc?.privileged === true,
    readonlyRootfs: csc?.readOnlyRootFilesystem === true,
    namespaceOptions,
    seccomp: containerSeccomp(pod, container, opts),
    noNewPrivs: csc?.allowPrivilegeEscalation === false,
  };
  if (csc?.capabilities) {
    sc.capabilities = { addCapabilities: [...(csc.capabilities.add ?? [])], dropCapabilities: [...(csc.capabilities.drop ?? [])] };
  }
  if (eff.seLinux) sc.selinuxOptions = eff.seLinux;
  const apparmor = appArmorForRuntime(pod, container, `${containerField(pod, container)}.securityContext.appArmorProfile`);
  if (apparmor) Object.assign(sc, apparmor);
  if (eff.runAsUser !== undefined) {
    sc.runAsUser = { value: eff.runAsUser };
  } else {
    if (opts.imageUser?.uid !== undefined) sc.runAsUser = { value: opts.imageUser.uid };
    if (opts.imageUser?.username) sc.runAsUsername = opts.imageUser.username;
  }
  if (eff.runAsGroup !== undefined) sc.runAsGroup = { value: eff.runAsGroup };
  const psc = pod.spec?.securityContext;
  const groups = supplementalGroups(psc);
  if (groups.length > 0) sc.supplementalGroups = groups;
  const policy = groupsPolicy(psc);
  if (policy !== undefined) sc.supplementalGroupsPolicy = policy;
  const unmasked = csc?.procMount === 'Unmasked';
  sc.maskedPaths = unmasked ? [] : [...defaultMaskedPaths];
  sc.readonlyPaths = unmasked ? [] : [...defaultReadonlyPaths];
  return sc;
}
