import { ApiException, PatchStrategy, setHeaderOptions, type CoreV1Api, type V1PodStatus } from '@kubernetes/client-node';
import { TskubeError, type ErrorCode } from '../../common/errors.js';
import type { PodStatusApi } from './pod-status-api.js';

const isNotFound = (err: unknown) => err instanceof ApiException && err.code === 404;

/** client-node's exception carries headers and the raw body; keep the status message. */
function apiError(err: unknown, what: string): TskubeError {
  if (!(err instanceof ApiException)) return TskubeError.from(err).wrap(what);
  let message = String(err.body ?? err.message);
  try {
    message = (JSON.parse(String(err.body)) as { message?: string }).message ?? message;
  } catch {
    // not a Status object
  }
  const code: ErrorCode = err.code === 404 ? 'not-found' : err.code === 409 ? 'already-exists' : err.code === 403 ? 'permission-denied' : err.code >= 500 ? 'unavailable' : 'unknown';
  return new TskubeError(code, `${what}: ${message} (HTTP ${err.code})`, { cause: err });
}

/** PodStatusApi on the real API server. */
export function kubePodStatusApi(coreApi: () => CoreV1Api): PodStatusApi {
  return {
    async patchStatus(namespace, name, uid, status: V1PodStatus) {
      // A merge patch replaces lists whole, so the status we send is the status stored;
      // the UID in the patch makes the server refuse it for a recreated pod of the same name.
      await coreApi()
        .patchNamespacedPodStatus({ name, namespace, body: { metadata: { uid }, status } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))
        .catch((err: unknown) => {
          throw apiError(err, `patching the status of pod ${namespace}/${name}`);
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
