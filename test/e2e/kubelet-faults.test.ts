// Faults the kubelet must ride out, on a private control plane so the API server can be
// frozen without disturbing other suites: a command that does not exist, and an API
// server that stops answering for a minute.
import { CoordinationV1Api, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { down, readState, up, type Testbed } from '../testbed/index.js';
import { eventually } from '../testbed/eventually.js';
import { startTestKubelet, type TestKubelet } from '../support/kubelet.js';
import { newClient, testImage } from '../support/runtime.js';

const suffix = randomBytes(3).toString('hex');
const nodeName = `tskube-faults-${suffix}`;
const namespace = 'default';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('kubelet under faults', () => {
  let tb: Testbed;
  let kubelet: TestKubelet;
  let core: CoreV1Api;
  let coordination: CoordinationV1Api;
  const pod = (name: string, command: string[]): V1Pod => ({
    metadata: { name, namespace },
    spec: { nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: testImage, imagePullPolicy: 'IfNotPresent', command }] },
  });

  beforeAll(async () => {
    tb = await up({ log: () => undefined });
    const kc = new KubeConfig();
    kc.loadFromFile(tb.adminKubeconfig);
    core = kc.makeApiClient(CoreV1Api);
    coordination = kc.makeApiClient(CoordinationV1Api);
    kubelet = await startTestKubelet({
      nodeName,
      namespaces: [namespace],
      args: ['--bootstrap-kubeconfig', tb.bootstrapKubeconfig, '--kubeconfig', join(tb.dir, 'kubelet.kubeconfig')],
    });
    await eventually('node Ready', async () =>
      (await core.readNode({ name: nodeName }).catch(() => undefined))?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True'
        ? true
        : undefined,
    );
  }, 180_000);

  afterAll(async () => {
    await kubelet?.destroy();
    if (tb) await down(tb.dir);
  }, 120_000);

  it('reports a command that does not exist (Failed event naming it), then CrashLoopBackOff', async () => {
    await core.createNamespacedPod({ namespace, body: pod('no-command', ['/no/such/binary']) });
    await expect
      .poll(async () => (await core.readNamespacedPod({ name: 'no-command', namespace })).status?.containerStatuses?.[0]?.state?.waiting?.reason, {
        timeout: 45_000,
        interval: 500,
      })
      .toBe('CrashLoopBackOff');
    const events = await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=no-command' });
    const failed = events.items.filter((e) => e.reason === 'Failed').map((e) => e.message ?? '');
    expect(failed.some((m) => m.includes('/no/such/binary'))).toBe(true);
  });

  it('keeps pods running while the API server is frozen, then resumes the lease and status without duplicating containers', async () => {
    await core.createNamespacedPod({ namespace, body: pod('steady', ['sleep', '3600']) });
    await expect
      .poll(async () => (await core.readNamespacedPod({ name: 'steady', namespace })).status?.phase, { timeout: 30_000, interval: 500 })
      .toBe('Running');
    const before = await core.readNamespacedPod({ name: 'steady', namespace });
    const containerID = before.status?.containerStatuses?.[0]?.containerID;
    const renewBefore = new Date(String((await coordination.readNamespacedLease({ name: nodeName, namespace: 'kube-node-lease' })).spec?.renewTime)).getTime();

    const apiserver = (await readState(tb.dir)).processes.find((p) => p.name === 'kube-apiserver');
    expect(apiserver).toBeDefined();
    process.kill(apiserver!.pid, 'SIGSTOP');
    const client = newClient();
    try {
      // A full minute: longer than the 40 s lease, so the node's lease expires meanwhile.
      await sleep(60_000);
      // While the API is away the container keeps running, alone.
      const uid = before.metadata?.uid ?? '';
      const { items } = await client.runtime.call('ListPodSandbox', { filter: { labelSelector: { 'io.kubernetes.pod.uid': uid } } });
      const { containers } = await client.runtime.call('ListContainers', { filter: { podSandboxId: items[0]?.id ?? '' } });
      expect(containers.map((c) => c.state)).toEqual(['CONTAINER_RUNNING']);
    } finally {
      process.kill(apiserver!.pid, 'SIGCONT');
      client.close();
    }
    await expect
      .poll(
        async () => new Date(String((await coordination.readNamespacedLease({ name: nodeName, namespace: 'kube-node-lease' })).spec?.renewTime)).getTime(),
        { timeout: 60_000, interval: 1000 },
      )
      .toBeGreaterThan(renewBefore + 60_000);
    // The node-lifecycle controller may have marked the node Unknown on the stale lease; the kubelet puts it back.
    await eventually('node Ready after the outage', async () =>
      (await core.readNode({ name: nodeName })).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? true : undefined,
    );
    const after = await core.readNamespacedPod({ name: 'steady', namespace });
    expect(after.status?.phase).toBe('Running');
    expect(after.status?.containerStatuses?.[0]?.containerID).toBe(containerID);
    expect(after.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    // A new pod created after the outage still starts: the pod watch came back.
    await core.createNamespacedPod({ namespace, body: pod('after-outage', ['sleep', '3600']) });
    await expect
      .poll(async () => (await core.readNamespacedPod({ name: 'after-outage', namespace })).status?.phase, { timeout: 60_000, interval: 1000 })
      .toBe('Running');
  }, 240_000);
});
