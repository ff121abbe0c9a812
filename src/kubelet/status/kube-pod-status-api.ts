import { ApiException, PatchStrategy, setHeaderOptions, type CoreV1Api } from '@kubernetes/client-node';
import { clientNodeError } from '../../kube/client-node-error.js';
import type { PodStatusApi } from './pod-status-api.js';

const isNotFound = (err: unknown) => err instanceof ApiException && err.code === 404;

/** PodStatusApi on the real API server. */
export function kubePodStatusApi(coreApi: () => CoreV1Api): PodStatusApi {
  return {
    async patchStatus(namespace, name, patch) {
      // A strategic merge patch, as upstream's: conditions merge by type, so other writers'
      // survive; the UID in it makes the server refuse it for a recreated pod of the same name.
      await coreApi()
        .patchNamespacedPodStatus({ name, namespace, body: patch }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch))
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
