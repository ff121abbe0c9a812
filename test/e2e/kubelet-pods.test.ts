// The tskube kubelet joined to the real control plane (TLS bootstrap with the bootstrap
// token) and the real containerd, driven through the API as a user would.
import { CoreV1Api, AppsV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestKubelet, type TestKubelet } from '../support/kubelet.js';
import { eventually } from '../testbed/eventually.js';
import { newClient, testImage } from '../support/runtime.js';

const tb = inject('testbed');
const suffix = randomBytes(3).toString('hex');
const nodeName = `tskube-e2e-${suffix}`;
const namespace = `kubelet-e2e-${suffix}`;
const image = testImage;

const kc = new KubeConfig();
kc.loadFromFile(tb.adminKubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);

function pod(name: string, spec: Partial<V1Pod['spec']> & { containers: NonNullable<V1Pod['spec']>['containers'] }): V1Pod {
  return { metadata: { name, namespace }, spec: { nodeName, terminationGracePeriodSeconds: 2, ...spec } };
}
const readPod = (name: string) => core.readNamespacedPod({ name, namespace });
const waitingReason = async (name: string) => (await readPod(name)).status?.containerStatuses?.[0]?.state?.waiting?.reason;

describe('kubelet joined to a control plane', () => {
  let kubelet: TestKubelet;
  beforeAll(async () => {
    kubelet = await startTestKubelet({
      nodeName,
      namespaces: [namespace],
      args: ['--bootstrap-kubeconfig', tb.bootstrapKubeconfig, '--kubeconfig', join('/tmp', `tskube-e2e-${suffix}.kubeconfig`)],
    });
    await eventually(`node ${nodeName} Ready`, async () => {
      const ready = (await core.readNode({ name: nodeName }).catch(() => undefined))?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
      return ready === 'True' ? true : undefined;
    });
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  }, 120_000);

  afterAll(async () => {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    // The namespace controller deletes the pods; the kubelet stops them and finishes each deletion.
    await eventually(
      'the namespace pods to go',
      async () => ((await core.listNamespacedPod({ namespace })).items.length === 0 ? true : undefined),
      60_000,
    ).catch(() => undefined);
    await kubelet?.destroy();
    await core.deleteNode({ name: nodeName }).catch(() => undefined);
  }, 120_000);

  it('registers a Ready node and takes the client certificate from the TLS bootstrap', async () => {
    const node = await core.readNode({ name: nodeName });
    expect(node.metadata?.labels).toMatchObject({ 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux' });
    expect(node.status?.nodeInfo?.containerRuntimeVersion).toMatch(/^containerd:\/\//);
    expect(node.status?.nodeInfo?.kubeletVersion).toBe('v1.36.3+tskube');
  });

  it('runs a pod to Running and Ready with a pod IP, and records events', async () => {
    await core.createNamespacedPod({
      namespace,
      body: pod('web', { containers: [{ name: 'httpd', image, imagePullPolicy: 'IfNotPresent', command: ['httpd', '-f', '-p', '80', '-h', '/var/www'] }] }),
    });
    await expect.poll(async () => (await readPod('web')).status?.phase, { timeout: 30_000, interval: 500 }).toBe('Running');
    const status = (await readPod('web')).status!;
    expect(status.podIP).toMatch(/^10\.88\.0\.\d+$/);
    expect(status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(status.containerStatuses?.[0]).toMatchObject({ name: 'httpd', ready: true, restartCount: 0, started: true });
    expect(status.containerStatuses?.[0]?.containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
    expect(await fetch(`http://${status.podIP}/`).then((r) => r.text())).toBe('hello from tskube busybox\n');
    await expect
      .poll(async () => (await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=web' })).items.map((e) => e.reason), {
        timeout: 15_000,
      })
      .toEqual(expect.arrayContaining(['Pulled', 'Created', 'Started']));
  });

  it('finishes `kubectl delete pod`: the pod goes away and its containers are gone from the runtime', async () => {
    const uid = (await readPod('web')).metadata?.uid;
    await core.deleteNamespacedPod({ name: 'web', namespace });
    await expect.poll(async () => (await readPod('web').catch(() => undefined)) === undefined, { timeout: 30_000, interval: 500 }).toBe(true);
    const client = newClient();
    try {
      await expect
        .poll(async () => (await client.runtime.call('ListPodSandbox', { filter: { labelSelector: { 'io.kubernetes.pod.uid': uid ?? '' } } })).items.length, {
          timeout: 30_000,
        })
        .toBe(0);
    } finally {
      client.close();
    }
  });

  it('runs init containers first, then the main container', async () => {
    await core.createNamespacedPod({
      namespace,
      body: pod('init', {
        initContainers: [{ name: 'setup', image, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'sleep 1'] }],
        containers: [{ name: 'main', image, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }],
      }),
    });
    await expect.poll(async () => (await readPod('init')).status?.phase, { timeout: 30_000, interval: 500 }).toBe('Running');
    const s = (await readPod('init')).status!;
    const setup = s.initContainerStatuses?.[0]?.state?.terminated;
    expect(setup).toMatchObject({ exitCode: 0, reason: 'Completed' });
    const mainStarted = s.containerStatuses?.[0]?.state?.running?.startedAt;
    expect(new Date(String(mainStarted)).getTime()).toBeGreaterThanOrEqual(new Date(String(setup?.finishedAt)).getTime());
    expect(s.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('True');
  });

  it('shows CrashLoopBackOff with growing restarts for a crashing container', async () => {
    await core.createNamespacedPod({
      namespace,
      body: pod('crash', { containers: [{ name: 'crash', image, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'exit 1'] }] }),
    });
    await expect.poll(() => waitingReason('crash'), { timeout: 40_000, interval: 500 }).toBe('CrashLoopBackOff');
    const cs = (await readPod('crash')).status?.containerStatuses?.[0];
    expect(cs?.restartCount).toBeGreaterThanOrEqual(1);
    expect(cs?.state?.waiting?.message).toMatch(
      /^back-off \d+s restarting failed container=crash pod=crash_[^ ]+; next restart at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
    );
    const nextRestart = Date.parse(/next restart at (\S+)$/.exec(cs?.state?.waiting?.message ?? '')?.[1] ?? '');
    expect(nextRestart).toBeGreaterThan(Date.now() - 1000);
    expect(cs?.lastState?.terminated?.exitCode).toBe(1);
  });

  it('waits with CreateContainerConfigError for a missing ConfigMap, then starts once it exists', async () => {
    await core.createNamespacedPod({
      namespace,
      body: pod('needs-config', {
        containers: [
          {
            name: 'app',
            image,
            imagePullPolicy: 'IfNotPresent',
            command: ['sh', '-c', 'echo $GREETING; exec sleep 3600'],
            env: [{ name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'greeting', key: 'text' } } }],
          },
        ],
      }),
    });
    await expect.poll(() => waitingReason('needs-config'), { timeout: 30_000, interval: 500 }).toBe('CreateContainerConfigError');
    expect((await readPod('needs-config')).status?.containerStatuses?.[0]?.state?.waiting?.message).toContain('configmap "greeting" not found');
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'greeting' }, data: { text: 'hi' } } });
    await expect.poll(async () => (await readPod('needs-config')).status?.phase, { timeout: 40_000, interval: 500 }).toBe('Running');
    // The value reached the container: its first line of output, read from the runtime's log file.
    const log = await eventually('the greeting in the container log', async () => {
      const dir = readdirSync(kubelet.podLogs).find((d) => d.startsWith(`${namespace}_needs-config_`));
      const text = dir ? readFileSync(join(kubelet.podLogs, dir, 'app', '0.log'), 'utf8') : '';
      return text.includes(' stdout F ') ? text : undefined;
    });
    expect(
      log
        .trim()
        .split('\n')
        .map((l) => l.split(' ').slice(3).join(' ')),
    ).toEqual(['hi']);
  });

  it('reports ErrImagePull / ImagePullBackOff for an image that cannot be pulled', async () => {
    await core.createNamespacedPod({
      namespace,
      body: pod('no-image', { containers: [{ name: 'app', image: 'localhost:1/tskube/none:1', imagePullPolicy: 'IfNotPresent' }] }),
    });
    await expect.poll(() => waitingReason('no-image'), { timeout: 30_000, interval: 500 }).toMatch(/^(ErrImagePull|ImagePullBackOff)$/);
    const message = (await readPod('no-image')).status?.containerStatuses?.[0]?.state?.waiting?.message ?? '';
    expect(message).toContain('localhost:1/tskube/none:1');
  });

  it('reports the termination message a container wrote, or its log tail under FallbackToLogsOnError', async () => {
    await core.createNamespacedPod({
      namespace,
      body: pod('last-words', {
        restartPolicy: 'Never',
        containers: [
          { name: 'file', image, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'printf "bye from file" > /dev/termination-log; exit 2'] },
          {
            name: 'logs',
            image,
            imagePullPolicy: 'IfNotPresent',
            terminationMessagePolicy: 'FallbackToLogsOnError',
            command: ['sh', '-c', 'echo first; echo oops; exit 1'],
          },
        ],
      }),
    });
    await expect.poll(async () => (await readPod('last-words')).status?.phase, { timeout: 30_000, interval: 500 }).toBe('Failed');
    const byName = new Map((await readPod('last-words')).status?.containerStatuses?.map((c) => [c.name, c.state?.terminated]) ?? []);
    expect(byName.get('file')).toMatchObject({ exitCode: 2, message: 'bye from file' });
    expect(byName.get('logs')).toMatchObject({ exitCode: 1, message: 'first\noops\n' });
    // A finished pod's deletion completes too (its containers already stopped).
    await core.deleteNamespacedPod({ name: 'last-words', namespace });
    await expect.poll(async () => (await readPod('last-words').catch(() => undefined)) === undefined, { timeout: 15_000, interval: 500 }).toBe(true);
  });

  it('ends a job-like pod Succeeded and stops its sandbox without calling it a sandbox change', async () => {
    await core.createNamespacedPod({
      namespace,
      body: pod('job', {
        restartPolicy: 'OnFailure',
        containers: [{ name: 'work', image, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'echo done'] }],
      }),
    });
    await expect.poll(async () => (await readPod('job')).status?.phase, { timeout: 30_000, interval: 500 }).toBe('Succeeded');
    const uid = (await readPod('job')).metadata?.uid ?? '';
    const client = newClient();
    try {
      await expect
        .poll(
          async () => (await client.runtime.call('ListPodSandbox', { filter: { labelSelector: { 'io.kubernetes.pod.uid': uid } } })).items.map((s) => s.state),
          { timeout: 15_000 },
        )
        .toEqual(['SANDBOX_NOTREADY']);
    } finally {
      client.close();
    }
    const reasons = (await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=job' })).items.map((e) => e.reason);
    expect(reasons).toContain('Started');
    expect(reasons).not.toContain('SandboxChanged');
  });

  it('runs a Deployment scheduled onto the node', async () => {
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'deploy' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'deploy' } },
          template: {
            metadata: { labels: { app: 'deploy' } },
            spec: { terminationGracePeriodSeconds: 2, containers: [{ name: 'sleep', image, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] },
          },
        },
      },
    });
    await expect
      .poll(
        async () =>
          (await core.listNamespacedPod({ namespace, labelSelector: 'app=deploy' })).items.filter(
            (p) => p.status?.phase === 'Running' && p.spec?.nodeName === nodeName,
          ).length,
        {
          timeout: 60_000,
          interval: 1000,
        },
      )
      .toBe(2);
  });

  it('gives a static pod a mirror pod in the API with its status', async () => {
    kubelet.writeManifest('static.yaml', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'static', namespace },
      spec: { terminationGracePeriodSeconds: 2, containers: [{ name: 'sleep', image, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] },
    });
    const name = `static-${nodeName}`;
    await expect.poll(async () => (await readPod(name).catch(() => undefined))?.status?.phase, { timeout: 60_000, interval: 1000 }).toBe('Running');
    const mirror = await readPod(name);
    expect(mirror.metadata?.annotations?.['kubernetes.io/config.mirror']).toBeTruthy();
    expect(mirror.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Node', name: nodeName });
    kubelet.removeManifest('static.yaml');
    await expect.poll(async () => (await readPod(name).catch(() => undefined)) === undefined, { timeout: 60_000, interval: 1000 }).toBe(true);
  });

  it('restarts no container when the kubelet restarts', async () => {
    const before = (await readPod('init')).status?.containerStatuses?.[0];
    await kubelet.stop();
    kubelet.start();
    // The positive sign that the restarted kubelet went through its pods: one created after the
    // restart runs (the same reconcile pass handed every pod, 'init' included, to its worker).
    await core.createNamespacedPod({
      namespace,
      body: pod('after-restart', { containers: [{ name: 'app', image, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] }),
    });
    await expect.poll(async () => (await readPod('after-restart')).status?.phase, { timeout: 60_000, interval: 500 }).toBe('Running');
    const after = (await readPod('init')).status?.containerStatuses?.[0];
    expect(after?.containerID).toBe(before?.containerID);
    expect(after?.restartCount).toBe(before?.restartCount);
    expect(after?.state?.running).toBeTruthy();
  });
});
