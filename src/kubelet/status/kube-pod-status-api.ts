import { ApiException, PatchStrategy, setHeaderOptions, type CoreV1Api, type V1PodStatus } from '@kubernetes/client-node';
import { clientNodeError } from '../../kube/client-node-error.js';
import type { PodStatusApi } from './pod-status-api.js';

const isNotFound = (err: unknown) => err instanceof ApiException && err.code === 404;

/** PodStatusApi on the real API server. */
export function kubePodStatusApi(coreApi: () => CoreV1Api): PodStatusApi {
  return {
    async patchStatus(namespace, name, uid, status: V1PodStatus) {
      // A merge patch replaces lists whole, so the status we send is the status stored;
      // the UID in the patch makes the server refuse it for a recreated pod of the same name.
      await coreApi()
        .patchNamespacedPodStatus({ name, namespace, body: { metadata: { uid }, status } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))
        .catch((err: unknown) => {
          throw clientNodeError(err, `patching the status of pod ${namespace}/${name}`);
        });
    },
    async deleteFinal(namespace, name, uid) {
      try {
        await coreApi().deleteNamespacedPod({ name, namespace, body: { gracePeriodSeconds: 0, preconditions: { uid } } });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
    async get(namespace, name) {
      try {
        return await coreApi().readNamespacedPod({ name, namespace });
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
  };
}
