// Node pressure on the real machine: the tskube kubelet joined to the real control plane
// with a memory.available threshold just under what is free, so a pod that takes a few
// GiB crosses it (no disk is filled): MemoryPressure and its taint, the hog evicted with
// upstream's reason and message. And image GC on a private containerd (its images are
// the test's own): an image in use stays, an unused one goes, the sandbox image is
// pinned, and FreeDiskSpaceFailed is reported on the Node.
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { CriClient } from '../../src/cri-client/index.js';
import { NodeStatsProvider } from '../../src/kubelet/stats/node-stats.js';
import { startTestKubelet, type TestKubelet } from '../support/kubelet.js';
import { privateContainerd, type PrivateContainerd } from '../support/private-containerd.js';
import { newClient, pauseImage, testImage } from '../support/runtime.js';
import { eventually } from '../testbed/eventually.js';
import { deleteNamespaceAndWait } from '../support/namespaces.js';

const tb = inject('testbed');
const kc = new KubeConfig();
kc.loadFromFile(tb.adminKubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const Mi = 2 ** 20;

async function joinedKubelet(nodeName: string, namespace: string, extra: Parameters<typeof startTestKubelet>[0]): Promise<TestKubelet> {
  const kubelet = await startTestKubelet({
    ...extra,
    nodeName,
    namespaces: [namespace],
    args: ['--bootstrap-kubeconfig', tb.bootstrapKubeconfig, '--kubeconfig', join('/tmp', `${nodeName}.kubeconfig`)],
  });
  await eventually(`node ${nodeName} Ready`, async () => {
    const ready = (await core.readNode({ name: nodeName }).catch(() => undefined))?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
    return ready === 'True' ? true : undefined;
  });
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  return kubelet;
}

async function cleanup(kubelet: TestKubelet | undefined, nodeName: string, namespace: string): Promise<void> {
  await deleteNamespaceAndWait(core, namespace);
  await kubelet?.destroy();
  await core.deleteNode({ name: nodeName }).catch(() => undefined);
}

type PodSpec = NonNullable<V1Pod['spec']>;
const sleeper = (
  name: string,
  nodeName: string,
  namespace: string,
  extra: Partial<PodSpec['containers'][number]> = {},
  volumes?: PodSpec['volumes'],
): V1Pod => ({
  metadata: { name, namespace },
  spec: {
    nodeName,
    volumes,
    terminationGracePeriodSeconds: 1,
    containers: [{ name: 'main', image: testImage, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'], ...extra }],
  },
});

describe('node-pressure eviction', () => {
  const suffix = randomBytes(3).toString('hex');
  const nodeName = `tskube-evict-${suffix}`;
  const namespace = `evict-${suffix}`;
  let kubelet: TestKubelet | undefined;
  afterAll(() => cleanup(kubelet, nodeName, namespace), 120_000);

  it('reports MemoryPressure (tainted by the controller manager) and evicts the pod most over its requests', async () => {
    const cri = newClient();
    const free = (await new NodeStatsProvider({ cri, rootDir: '/' }).memory()).availableBytes;
    cri.close();
    // Pressure once 1 GiB more is in use.
    const threshold = `${Math.floor((free - 2 ** 30) / Mi)}Mi`;
    kubelet = await joinedKubelet(nodeName, namespace, {
      nodeName,
      extraConfig: { evictionHard: { 'memory.available': threshold }, evictionPressureTransitionPeriod: '5s' },
    });
    await core.createNamespacedPod({
      namespace,
      body: sleeper('bystander', nodeName, namespace, { resources: { requests: { memory: '64Mi' } } }),
    });
    await eventually('bystander Running', async () =>
      (await core.readNamespacedPod({ name: 'bystander', namespace })).status?.phase === 'Running' ? true : undefined,
    );
    // The hog grows a memory-backed emptyDir by 128 MiB a second until it is evicted (at most
    // 6 GiB): however much the other suites' memory and page cache move the node's available
    // memory meanwhile, it crosses the threshold. tmpfs pages count in the container's
    // working set, and are freed when the evicted pod's volume is torn down.
    const hog = sleeper(
      'hog',
      nodeName,
      namespace,
      {
        command: ['sh', '-c', 'i=0; while [ $i -lt 48 ]; do head -c 134217728 /dev/zero > /fill/$i || break; i=$((i+1)); sleep 1; done; sleep 3600'],
        volumeMounts: [{ name: 'fill', mountPath: '/fill' }],
      },
      [{ name: 'fill', emptyDir: { medium: 'Memory' } }],
    );
    await core.createNamespacedPod({ namespace, body: hog });

    const sawPressure = eventually(
      'MemoryPressure and its taint',
      async () => {
        const node = await core.readNode({ name: nodeName });
        const condition = node.status?.conditions?.find((c) => c.type === 'MemoryPressure');
        const taint = node.spec?.taints?.find((t) => t.key === 'node.kubernetes.io/memory-pressure');
        return condition?.status === 'True' && taint?.effect === 'NoSchedule' ? condition : undefined;
      },
      180_000,
      250,
    );
    // Awaited below; until then a timeout must not surface as an unhandled rejection.
    sawPressure.catch(() => undefined);
    const evicted = await eventually(
      'the hog evicted',
      async () => {
        const s = (await core.readNamespacedPod({ name: 'hog', namespace })).status;
        return s?.phase === 'Failed' ? s : undefined;
      },
      180_000,
    );
    expect((await sawPressure).reason).toBe('KubeletHasInsufficientMemory');
    expect(evicted.reason).toBe('Evicted');
    expect(evicted.message).toMatch(
      new RegExp(
        `^The node was low on resource: memory\\. Threshold quantity: ${threshold}, available: \\d+(Ki|Mi)?\\. Container main was using \\d+(Ki|Mi|Gi)?, request is 0, has larger consumption of memory\\. $`,
      ),
    );
    expect(evicted.conditions?.find((c) => c.type === 'DisruptionTarget')).toMatchObject({ status: 'True', reason: 'TerminationByKubelet' });
    const events = (await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=hog' })).items;
    expect(events.some((e) => e.reason === 'Evicted' && e.type === 'Warning')).toBe(true);
    expect((await core.readNamespacedPod({ name: 'bystander', namespace })).status?.phase).toBe('Running');
    // The memory is back: pressure ends after the transition period.
    await eventually(
      'MemoryPressure False again',
      async () =>
        (await core.readNode({ name: nodeName })).status?.conditions?.find((c) => c.type === 'MemoryPressure')?.status === 'False' ? true : undefined,
      90_000,
    );
  }, 360_000);
});

describe('image garbage collection', () => {
  const suffix = randomBytes(3).toString('hex');
  const nodeName = `tskube-imagegc-${suffix}`;
  const namespace = `imagegc-${suffix}`;
  let kubelet: TestKubelet | undefined;
  let ctd: PrivateContainerd | undefined;
  afterAll(async () => {
    await cleanup(kubelet, nodeName, namespace);
    await ctd?.destroy();
  }, 120_000);

  it('keeps images in use and the pinned sandbox image, removes unused ones, and says when it cannot free enough', async () => {
    ctd = privateContainerd({ cri: true, pods: true });
    await ctd.start();
    ctd.importImages([pauseImage, testImage]);
    kubelet = await joinedKubelet(nodeName, namespace, {
      nodeName,
      runtimeEndpoint: ctd.endpoint,
      imageGcPeriodMs: 2000,
      // Any usage is over 1 %: the collector wants everything it may take. The minimum age
      // counts from when the kubelet first saw an image: 30 s lets the pod below start (and
      // so use the test image) before the image may go, however loaded the machine is.
      extraConfig: { imageGCHighThresholdPercent: 1, imageGCLowThresholdPercent: 0, imageMinimumGCAge: '30s' },
    });
    const images = async () => {
      const c = new CriClient({ endpoint: ctd?.endpoint ?? '', timeoutMs: 10_000 });
      try {
        return (await c.image.call('ListImages', {})).images.flatMap((i) => i.repoTags);
      } finally {
        c.close();
      }
    };
    await core.createNamespacedPod({ namespace, body: sleeper('user', nodeName, namespace) });
    await eventually('user Running', async () => ((await core.readNamespacedPod({ name: 'user', namespace })).status?.phase === 'Running' ? true : undefined));
    await eventually(
      'FreeDiskSpaceFailed on the node',
      async () => {
        const events = (await core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.name=${nodeName}` })).items;
        return events.find((e) => e.reason === 'FreeDiskSpaceFailed');
      },
      60_000,
    ).then((e) =>
      expect(e.message).toMatch(
        /^Failed to garbage collect required amount of images\. Attempted to free \d+ bytes, but only found \d+ bytes eligible to free\.$/,
      ),
    );
    // In use: still there after a collection that wanted everything.
    expect(await images()).toEqual(expect.arrayContaining([testImage, pauseImage]));
    await core.deleteNamespacedPod({ name: 'user', namespace });
    await eventually('the unused image removed', async () => ((await images()).includes(testImage) ? undefined : true), 90_000);
    expect(await images()).toContain(pauseImage);
  });
});
