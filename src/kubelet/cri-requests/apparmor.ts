// AppArmor as upstream handles it: a profile a pod asks for (pod or container
// securityContext.appArmorProfile, or the deprecated container.apparmor.security.beta.
// kubernetes.io/<container> annotation) is handed to the runtime, and a pod that needs one
// on a node whose kernel has no AppArmor is refused at admission, never run unconfined.
import type { V1AppArmorProfile, V1Container, V1Pod } from '@kubernetes/client-node';
import { TskubeError } from '../../common/errors.js';
import type { SecurityProfile } from '../../gen/cri/runtime/v1/SecurityProfile.js';
import { specContainers } from '../pods/container-outcome.js';

const annotationPrefix = 'container.apparmor.security.beta.kubernetes.io/';
const localhostPrefix = 'localhost/';

function fromAnnotation(value: string | undefined): V1AppArmorProfile | undefined {
  if (value === undefined) return undefined;
  if (value === 'runtime/default') return { type: 'RuntimeDefault' };
  if (value === 'unconfined') return { type: 'Unconfined' };
  if (value.startsWith(localhostPrefix)) return { type: 'Localhost', localhostProfile: value.slice(localhostPrefix.length) };
  return undefined;
}

/** The container's profile: its own field, the deprecated annotation, then the pod's field. */
export function appArmorProfileOf(pod: V1Pod, container: V1Container): V1AppArmorProfile | undefined {
  return (
    container.securityContext?.appArmorProfile ??
    fromAnnotation(pod.metadata?.annotations?.[`${annotationPrefix}${container.name}`]) ??
    pod.spec?.securityContext?.appArmorProfile
  );
}

/** Whether the pod asks for any profile other than Unconfined (then the node must have AppArmor). */
export function needsAppArmor(pod: V1Pod): boolean {
  const confined = (p: V1AppArmorProfile | undefined) => p !== undefined && p.type !== 'Unconfined';
  if (confined(pod.spec?.securityContext?.appArmorProfile)) return true;
  if ([...specContainers(pod), ...((pod.spec?.ephemeralContainers ?? []) as V1Container[])].some((c) => confined(c.securityContext?.appArmorProfile))) {
    return true;
  }
  return Object.entries(pod.metadata?.annotations ?? {}).some(([k, v]) => k.startsWith(annotationPrefix) && v !== 'unconfined');
}

/**
 * Why the pod cannot run here as far as AppArmor goes (upstream's admit handler: the host
 * check, then an empty Localhost profile name), or undefined.
 */
export function appArmorProblem(pod: V1Pod, hostEnabled: boolean): string | undefined {
  if (!needsAppArmor(pod)) return undefined;
  if (!hostEnabled) return 'AppArmor is not enabled on the host';
  for (const c of specContainers(pod)) {
    const p = appArmorProfileOf(pod, c);
    if (p?.type === 'Localhost' && !p.localhostProfile?.trim()) return `invalid empty AppArmor profile name: ${JSON.stringify(p)}`;
  }
  return undefined;
}

/** The CRI profile and the deprecated profile string upstream also sends for older runtimes. */
export function appArmorForRuntime(pod: V1Pod, container: V1Container, field: string): { apparmor: SecurityProfile; apparmorProfile: string } | undefined {
  const p = appArmorProfileOf(pod, container);
  if (!p) return undefined;
  switch (p.type) {
    case 'RuntimeDefault':
      return { apparmor: { profileType: 'RuntimeDefault' }, apparmorProfile: 'runtime/default' };
    case 'Unconfined':
      return { apparmor: { profileType: 'Unconfined' }, apparmorProfile: 'unconfined' };
    case 'Localhost':
      if (!p.localhostProfile) throw new TskubeError('invalid-argument', `${field}: missing localhost apparmor profile name`);
      return { apparmor: { profileType: 'Localhost', localhostRef: p.localhostProfile }, apparmorProfile: `${localhostPrefix}${p.localhostProfile}` };
    default:
      throw new TskubeError('invalid-argument', `${field}.type: unknown apparmor profile type: ${JSON.stringify(p.type)}`);
  }
}
