import { KubeApiError } from '../../kube/api-error.js';
import { decodePod } from '../../kube/codec.js';
import type { RestClient } from '../../kube/rest-client.js';
import type { PodStatusApi } from './pod-status-api.js';

// Over the project's RestClient, not client-node's typed CoreV1Api: that one brings all of
// client-node's generated API classes (~2.7 MB of source, ~8 MiB of RSS; docs/memory.md).

const isNotFound = (err: unknown) => err instanceof KubeApiError && err.status === 404;
const podPath = (namespace: string, name: string) => `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`;

/** PodStatusApi on the real API server. */
export function kubePodStatusApi(rest: RestClient): PodStatusApi {
  return {
    async patchStatus(namespace, name, patch) {
      // A strategic merge patch, as upstream's: conditions merge by type, so other writers'
      // survive; the UID in it makes the server refuse it for a recreated pod of the same name.
      await rest.request('PATCH', `${podPath(namespace, name)}/status`, { body: patch, contentType: 'application/strategic-merge-patch+json' });
    },
    async deleteFinal(namespace, name, uid) {
      try {
        await rest.request('DELETE', podPath(namespace, name), { body: { gracePeriodSeconds: 0, preconditions: { uid } } });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
    async get(namespace, name) {
      try {
        // Decoded, so its times are Dates as the V1Pod type says.
        return decodePod(await rest.request<unknown>('GET', podPath(namespace, name)));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
  };
}
