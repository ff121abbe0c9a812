import type { V1ContainerStatus, V1PodStatus } from '@kubernetes/client-node';

/**
 * Which container instance's log /containerLogs reads, from the pod's status (upstream's
 * validateContainerLogStatus): the running one, else the one that ended; with previous,
 * the one before. The error messages are upstream's, since kubectl shows them as they are.
 */
export function logContainerId(podName: string, status: V1PodStatus | undefined, containerName: string, previous: boolean): { id: string } | { error: string } {
  const all: V1ContainerStatus[] = [
    ...(status?.containerStatuses ?? []),
    ...(status?.initContainerStatuses ?? []),
    ...(status?.ephemeralContainerStatuses ?? []),
  ];
  const cs = all.find((c) => c.name === containerName);
  const c = `container "${containerName}" in pod "${podName}"`;
  if (!cs) return { error: `${c} is not available` };
  const last = cs.lastState?.terminated;
  const { waiting, running, terminated } = cs.state ?? {};
  let id: string | undefined;
  if (previous) {
    if (!last?.containerID) return { error: `previous terminated container "${containerName}" in pod "${podName}" not found` };
    id = last.containerID;
  } else if (running) {
    id = cs.containerID;
  } else if (terminated) {
    id = terminated.containerID || last?.containerID;
    if (!id) return { error: `${c} is terminated` };
  } else if (last) {
    if (!last.containerID) return { error: `${c} is terminated` };
    id = last.containerID;
  } else if (waiting) {
    if (waiting.reason === 'ErrImagePull') return { error: `${c} is waiting to start: image can't be pulled` };
    if (waiting.reason === 'ImagePullBackOff') return { error: `${c} is waiting to start: trying and failing to pull image` };
    return { error: `${c} is waiting to start: ${waiting.reason ?? ''}` };
  } else {
    return { error: `${c} is waiting to start - no logs yet` };
  }
  if (!id) return { error: `${c} is waiting to start - no logs yet` };
  // "containerd://<id>": the runtime wants the bare ID.
  return { id: id.replace(/^[a-z0-9-]+:\/\//, '') };
}
