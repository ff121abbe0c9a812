// The kubelet's cgroup names (upstream cm.CgroupName): a list of components under the
// cgroup root, spelled as a cgroupfs path ("/kubepods/burstable/pod<uid>") or as
// systemd slices ("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_>.slice").
import type { V1Pod } from '@kubernetes/client-node';
import { TskubeError } from '../../common/errors.js';
import type { CgroupDriver } from '../options/types.js';
import { qosClass, type QosClass } from '../pods/qos.js';

export type CgroupName = readonly string[];

export const kubepodsName = 'kubepods';
export const podCgroupPrefix = 'pod';

/** systemd's cgroup name escaping: a "-" in a component would read as a slice boundary. */
const escapeSystemd = (part: string) => part.replace(/-/g, '_');

/** The literal name a driver uses, e.g. for the sandbox's cgroup parent. */
export function cgroupLiteral(name: CgroupName, driver: CgroupDriver): string {
  if (driver === 'cgroupfs') return `/${name.join('/')}`;
  if (name.length === 0) return '/';
  const parts = name.map(escapeSystemd);
  // Upstream ExpandSlice: every prefix of the dash-joined name is a parent slice.
  let path = '';
  for (let i = 1; i <= parts.length; i++) path += `/${parts.slice(0, i).join('-')}.slice`;
  return path;
}

/** A cgroupRoot as the config gives it ("/", "/custom", or "custom.slice" with systemd) to components. */
export function parseCgroupRoot(root: string, driver: CgroupDriver): CgroupName {
  if (driver === 'systemd' && root.endsWith('.slice')) {
    const last = root.split('/').pop() ?? '';
    if (last === '-.slice') return [];
    return last
      .slice(0, -'.slice'.length)
      .split('-')
      .map((p) => p.replace(/_/g, '-'));
  }
  if (!root.startsWith('/')) throw new TskubeError('invalid-argument', `cgroupRoot: invalid value "${root}": must be an absolute cgroup path`);
  return root.split('/').filter((p) => p !== '');
}

/** Where the QoS classes' cgroups are: Guaranteed pods sit directly under kubepods. */
export function qosCgroupName(root: CgroupName, qos: QosClass): CgroupName {
  return qos === 'Guaranteed' ? [...root, kubepodsName] : [...root, kubepodsName, qos.toLowerCase()];
}

export function podCgroupName(root: CgroupName, pod: V1Pod): CgroupName {
  return [...qosCgroupName(root, qosClass(pod)), `${podCgroupPrefix}${pod.metadata?.uid ?? ''}`];
}
