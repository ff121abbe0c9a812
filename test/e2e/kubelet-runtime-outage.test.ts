// The container runtime stopping under a joined kubelet: the node goes NotReady naming
// the runtime, the pods' containers (kept alive by their shims) are adopted again when the
// runtime returns, and nothing is restarted or duplicated. A private containerd stands in
// for the node's runtime so stopping it disturbs no other suite.
import { CoreV1Api, KubeConfig, type V1NodeCondition, type V1Pod } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CriClient } from '../../src/cri-client/index.js';
import { startTestKubelet, type TestKubelet } from '../support/kubelet.js';
import { privateContainerd, type PrivateContainerd } from '../support/private-containerd.js';
import { pauseImage, testImage } from '../support/runtime.js';
import { eventually } from '../testbed/eventually.js';
import { deleteNamespaceAndWait } from '../support/namespaces.js';

const tb = inject('testbed');
const suffix = randomBytes(3).toString('hex');
const nodeName = `tskube-rt-outage-${suffix}`;
const namespace = `rt-outage-${suffix}`;

const kc = new KubeConfig();
kc.loadFromFile(tb.adminKubeconfig);
const core = kc.makeApiClient(CoreV1Api);

const readyCondition = async (): Promise<V1NodeCondition | undefined> =>
  (await core.readNode({ name: nodeName }).catch(() => undefined))?.status?.conditions?.find((c) => c.type === 'Ready');

describe('kubelet when the container runtime stops and returns', () => {
  let runtime: PrivateContainerd;
  let cri: CriClient;
  let kubelet: TestKubelet | undefined;

  beforeAll(async () => {
    runtime = privateContainerd({ cri: true, pods: true });
    await runtime.start();
    runtime.importImages([pauseImage, testImage]);
    cri = new CriClient({ endpoint: runtime.endpoint, timeoutMs: 30_000 });
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    kubelet = await startTestKubelet({
      nodeName,
      namespaces: [namespace],
      runtimeEndpoint: runtime.endpoint,
      args: ['--bootstrap-kubeconfig', tb.bootstrapKubeconfig, '--kubeconfig', join('/tmp', `tskube-rt-outage-${suffix}.kubeconfig`)],
    });
    await eventually(`node ${nodeName} Ready`, async () => ((await readyCondition())?.status === 'True' ? true : undefined), 60_000);
  }, 120_000);

  afterAll(async () => {
    await deleteNamespaceAndWait(core, namespace);
    await kubelet?.destroy();
    cri?.close();
    await runtime?.destroy();
    await core.deleteNode({ name: nodeName }).catch(() => undefined);
  }, 120_000);

  it('turns the node NotReady while the runtime is down, then Ready with the same containers, none restarted', async () => {
    const body: V1Pod = {
      metadata: { name: 'steady', namespace },
      spec: {
        nodeName,
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'app', image: testImage, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }],
      },
    };
    await core.createNamespacedPod({ namespace, body });
    await expect
      .poll(async () => (await core.readNamespacedPod({ name: 'steady', namespace })).status?.phase, { timeout: 30_000, interval: 500 })
      .toBe('Running');
    const before = (await core.readNamespacedPod({ name: 'steady', namespace })).status?.containerStatuses?.[0];
    const containerId = before?.containerID?.replace('containerd://', '') ?? '';
    expect(containerId).toMatch(/^[0-9a-f]{64}$/);

    await runtime.stop();
    const notReady = await eventually(
      'Ready=False',
      async () => {
        const c = await readyCondition();
        return c?.status === 'False' ? c : undefined;
      },
      60_000,
    );
    expect(notReady.reason).toBe('KubeletNotReady');
    expect(notReady.message).toContain(`container runtime is down: Status call to ${runtime.endpoint}`);

    await runtime.start();
    await eventually('Ready=True again', async () => ((await readyCondition())?.status === 'True' ? true : undefined), 60_000);
    // The kubelet acts on the returned runtime (a new pod starts there): the positive sign that its
    // pod workers and relist run against it, before judging what they did to the old pod.
    await core.createNamespacedPod({ namespace, body: { ...body, metadata: { name: 'after-outage', namespace } } });
    await expect
      .poll(async () => (await core.readNamespacedPod({ name: 'after-outage', namespace })).status?.phase, { timeout: 60_000, interval: 500 })
      .toBe('Running');
    const steadyUid = { 'io.kubernetes.pod.uid': (await core.readNamespacedPod({ name: 'steady', namespace })).metadata?.uid ?? '' };

    const after = (await core.readNamespacedPod({ name: 'steady', namespace })).status;
    expect(after?.phase).toBe('Running');
    expect(after?.containerStatuses?.[0]).toMatchObject({ containerID: before?.containerID, restartCount: 0, ready: true });
    const { containers } = await cri.runtime.call('ListContainers', { filter: { labelSelector: steadyUid } });
    expect(containers.map((c) => [c.id, c.state])).toEqual([[containerId, 'CONTAINER_RUNNING']]);
    const { items: sandboxes } = await cri.runtime.call('ListPodSandbox', { filter: { labelSelector: steadyUid } });
    expect(sandboxes.map((s) => s.state)).toEqual(['SANDBOX_READY']);
  });
});
