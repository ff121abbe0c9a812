// Test teardown: a namespace deleted, and its pods gone from the API before the kubelet that
// runs them is stopped (a kubelet stopped first leaves the pods terminating for ever).
import type { CoreV1Api } from '@kubernetes/client-node';
import { eventually } from '../testbed/eventually.js';

/** Deletes `namespace` and waits for its pods to go (a minute unless told); never throws (teardown goes on). */
export async function deleteNamespaceAndWait(core: CoreV1Api, namespace: string, timeoutMs = 60_000): Promise<void> {
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  await eventually(
    'the namespace pods to go',
    async () => ((await core.listNamespacedPod({ namespace })).items.length === 0 ? true : undefined),
    timeoutMs,
  ).catch(() => undefined);
}
