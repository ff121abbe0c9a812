import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';

/** The two writes the kubelet makes to a pod it runs; an interface so standalone mode has none. */
export interface PodStatusApi {
  /** Replaces the pod's status; fails with a conflict if the pod with this UID is gone. */
  patchStatus(namespace: string, name: string, uid: string, status: V1PodStatus): Promise<void>;
  /** Finishes a graceful deletion (grace 0, UID precondition) once the containers are gone. */
  deleteFinal(namespace: string, name: string, uid: string): Promise<void>;
  get(namespace: string, name: string): Promise<V1Pod | undefined>;
}
