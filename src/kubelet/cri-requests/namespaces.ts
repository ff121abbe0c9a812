import type { V1Pod } from '@kubernetes/client-node';
import { TskubeError } from '../../common/errors.js';
import type { NamespaceMode } from '../../gen/cri/runtime/v1/NamespaceMode.js';
import type { NamespaceOption } from '../../gen/cri/runtime/v1/NamespaceOption.js';

/**
 * Linux namespaces of a pod, shared by its sandbox and every container: network and IPC
 * are the pod's own unless hostNetwork/hostIPC; PID is per container unless hostPID
 * (node) or shareProcessNamespace (pod), as upstream.
 */
export function namespacesForPod(pod: V1Pod): NamespaceOption & { network: NamespaceMode; pid: NamespaceMode; ipc: NamespaceMode } {
  const spec = pod.spec;
  if (spec?.hostUsers === false) {
    // Running it in the host user namespace instead would silently drop the isolation asked for.
    throw new TskubeError('unimplemented', 'spec.hostUsers=false: user namespaces are not supported by this kubelet yet');
  }
  const pid: NamespaceMode = spec?.hostPID ? 'NODE' : spec?.shareProcessNamespace ? 'POD' : 'CONTAINER';
  return {
    network: spec?.hostNetwork ? 'NODE' : 'POD',
    pid,
    ipc: spec?.hostIPC ? 'NODE' : 'POD',
    usernsOptions: { mode: 'NODE' },
  };
}
