import type { V1Pod } from '@kubernetes/client-node';
import type { Json } from './status-patch.js';

/** The writes the kubelet makes to a pod it runs; an interface so standalone mode has none. */
export interface PodStatusApi {
  /** Applies a strategic merge patch to pods/status; fails with a conflict if the patch's UID is another pod's. */
  patchStatus(namespace: string, name: string, patch: { [key: string]: Json }): Promise<void>;
  /** Finishes a graceful deletion (grace 0, UID precondition) once the containers are gone. */
  deleteFinal(namespace: string, name: string, uid: string): Promise<void>;
  get(namespace: string, name: string): Promise<V1Pod | undefined>;
}
