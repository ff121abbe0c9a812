// The standalone kubelet (no API server) on the real containerd: static pods from files.
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerStatus__Output } from '../../src/gen/cri/runtime/v1/ContainerStatus.js';
import type { CriClient } from '../../src/cri-client/index.js';
import { startTestKubelet, type TestKubelet } from '../support/kubelet.js';
import { newClient, testImage, uniqueName } from '../support/runtime.js';

const image = testImage;

function staticPod(name: string, spec: object) {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec };
}

async function podContainers(client: CriClient, podName: string) {
  const { items } = await client.runtime.call('ListPodSandbox', { filter: { labelSelector: { 'io.kubernetes.pod.name': podName } } });
  const sandboxIds = new Set(items.map((s) => s.id));
  const { containers } = await client.runtime.call('ListContainers', {});
  return { sandboxes: items, containers: containers.filter((c) => sandboxIds.has(c.podSandboxId)) };
}

describe('standalone kubelet', () => {
  let kubelet: TestKubelet;
  let client: CriClient;
  const node = uniqueName('node');

  beforeAll(async () => {
    client = newClient();
    kubelet = await startTestKubelet({ nodeName: node });
  });
  afterAll(async () => {
    await kubelet?.destroy();
    client?.close();
  });

  it('runs a static pod that serves HTTP on its pod IP, with env from the downward API', async () => {
    kubelet.writeManifest(
      'web.yaml',
      staticPod('web', {
        terminationGracePeriodSeconds: 2,
        containers: [
          {
            name: 'httpd',
            image,
            imagePullPolicy: 'IfNotPresent',
            command: ['sh', '-c', 'echo "pod=$(POD_NAME) node=$(NODE_NAME)" > /tmp/index.html; exec httpd -f -p 80 -h /tmp'],
            env: [
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
            ],
          },
        ],
      }),
    );
    const podName = `web-${node}`;
    await expect.poll(async () => (await podContainers(client, podName)).containers.map((c) => c.state), { timeout: 30_000 }).toEqual(['CONTAINER_RUNNING']);
    const { sandboxes } = await podContainers(client, podName);
    const { status } = await client.runtime.call('PodSandboxStatus', { podSandboxId: sandboxes[0]!.id });
    const ip = status?.network?.ip;
    expect(ip).toMatch(/^10\.88\.0\.\d+$/);
    await expect
      .poll(
        async () =>
          (
            await fetch(`http://${ip}/`)
              .then((r) => r.text())
              .catch(() => '')
          ).trim(),
        { timeout: 10_000 },
      )
      .toBe(`pod=${podName} node=${node}`);
    // The upstream labels, so crictl and an upstream kubelet recognise the pod.
    expect(sandboxes[0]?.labels).toMatchObject({ 'io.kubernetes.pod.name': podName, 'io.kubernetes.pod.namespace': 'default' });
    expect(sandboxes[0]?.metadata?.uid).toMatch(/^[0-9a-f]{32}$/);
  });

  it('runs init containers to completion, in order, before the main container', async () => {
    kubelet.writeManifest(
      'init.yaml',
      staticPod('init', {
        restartPolicy: 'Never',
        initContainers: [
          { name: 'first', image, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'sleep 1'] },
          { name: 'second', image, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'sleep 1'] },
        ],
        containers: [{ name: 'main', image, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'echo main'] }],
      }),
    );
    const podName = `init-${node}`;
    await expect
      .poll(async () => (await podContainers(client, podName)).containers.filter((c) => c.state === 'CONTAINER_EXITED').length, { timeout: 30_000 })
      .toBe(3);
    const { containers } = await podContainers(client, podName);
    const times = new Map<string, { started: bigint; finished: bigint }>();
    for (const c of containers) {
      const { status } = await client.runtime.call('ContainerStatus', { containerId: c.id });
      times.set(c.metadata?.name ?? '', { started: BigInt(status!.startedAt), finished: BigInt(status!.finishedAt) });
      expect(status?.exitCode).toBe(0);
    }
    expect(times.get('first')!.finished).toBeLessThanOrEqual(times.get('second')!.started);
    expect(times.get('second')!.finished).toBeLessThanOrEqual(times.get('main')!.started);
    // restartPolicy Never and success: nothing runs again. The positive sign that the kubelet looked
    // after the last exit: it found the pod finished and stopped its sandbox.
    await expect.poll(async () => (await podContainers(client, podName)).sandboxes.map((s) => s.state), { timeout: 30_000 }).toEqual(['SANDBOX_NOTREADY']);
    expect((await podContainers(client, podName)).containers).toHaveLength(3);
  });

  it('restarts a crashing container with back-off (CrashLoopBackOff) from the second crash on, collecting old instances', async () => {
    kubelet.writeManifest(
      'crash.yaml',
      staticPod('crash', { containers: [{ name: 'crash', image, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'exit 3'] }] }),
    );
    const podName = `crash-${node}`;
    // Container GC removes older dead instances, so note each attempt's status as it is seen.
    const seen = new Map<number, ContainerStatus__Output>();
    const collect = async () => {
      for (const c of (await podContainers(client, podName)).containers) {
        const status = (await client.runtime.call('ContainerStatus', { containerId: c.id }).catch(() => undefined))?.status;
        if (status?.state === 'CONTAINER_EXITED' || !seen.has(c.metadata?.attempt ?? 0)) if (status) seen.set(status.metadata?.attempt ?? 0, status);
      }
      return [...seen.keys()].sort();
    };
    // As upstream: attempt 0 crashes and is restarted at once; attempt 1 crashes and the
    // back-off (10 s) must pass before attempt 2.
    await expect.poll(collect, { timeout: 45_000, interval: 250 }).toEqual([0, 1, 2]);
    const second = seen.get(1)!;
    const third = seen.get(2)!;
    expect(second.exitCode).toBe(3);
    // The order and the bound the kubelet promises: the third attempt is made only after the second
    // ended and its 10 s back-off ran out (how much later depends on the machine's load, not the kubelet).
    const gapMs = Number((BigInt(third.createdAt) - BigInt(second.finishedAt)) / 1_000_000n);
    expect(BigInt(second.createdAt)).toBeGreaterThan(BigInt(seen.get(0)!.finishedAt));
    expect(gapMs).toBeGreaterThanOrEqual(9_000);

    // Upstream's GC: one dead instance per container is kept, older ones go with their log files.
    await expect
      .poll(async () => (await podContainers(client, podName)).containers.map((c) => c.metadata?.attempt).sort(), { timeout: 10_000 })
      .not.toContain(0);
    const { containers } = await podContainers(client, podName);
    expect(containers.length).toBeLessThanOrEqual(2);
    const logDir = readdirSync(kubelet.podLogs).find((d) => d.startsWith(`default_${podName}_`));
    expect(readdirSync(join(kubelet.podLogs, logDir!, 'crash'))).not.toContain('0.log');
    expect(readdirSync(kubelet.containerLogLinks).filter((l) => l.includes(seen.get(0)!.id))).toEqual([]);
  });

  it('links each container log into the containers folder under the name log shippers parse', async () => {
    const { containers } = await podContainers(client, `web-${node}`);
    const id = containers[0]!.id;
    const link = join(kubelet.containerLogLinks, `web-${node}_default_httpd-${id}.log`);
    const target = readlinkSync(link);
    expect(target).toMatch(new RegExp(`/pod-logs/default_web-${node}_[0-9a-f]{32}/httpd/0\\.log$`));
    // The link resolves to the log file the runtime writes.
    expect(statSync(link).isFile()).toBe(true);
  });

  it('keeps other pods running when one manifest is invalid', async () => {
    kubelet.writeManifest('broken.yaml', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'broken' }, spec: { containers: [{ name: 'x' }] } });
    // The positive sign that the kubelet read the folder with the broken file in it: a valid pod
    // written beside it runs.
    kubelet.writeManifest(
      'sibling.yaml',
      staticPod('sibling', { containers: [{ name: 'app', image, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] }),
    );
    await expect
      .poll(async () => (await podContainers(client, `sibling-${node}`)).containers.map((c) => c.state), { timeout: 30_000 })
      .toEqual(['CONTAINER_RUNNING']);
    kubelet.removeManifest('sibling.yaml');
    expect((await podContainers(client, `broken-${node}`)).sandboxes).toHaveLength(0);
    expect((await podContainers(client, `web-${node}`)).containers.map((c) => c.state)).toEqual(['CONTAINER_RUNNING']);
  });

  it('adopts running pods after a restart: no container is restarted', async () => {
    const before = (await podContainers(client, `web-${node}`)).containers.map((c) => c.id);
    await kubelet.stop();
    kubelet.start();
    // The positive sign that the restarted kubelet went through its pods: one written after the
    // restart runs (the reconcile pass that started it handed 'web' to its worker too).
    kubelet.writeManifest(
      'after-restart.yaml',
      staticPod('after-restart', { containers: [{ name: 'app', image, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] }),
    );
    await expect
      .poll(async () => (await podContainers(client, `after-restart-${node}`)).containers.map((c) => c.state), { timeout: 30_000 })
      .toEqual(['CONTAINER_RUNNING']);
    kubelet.removeManifest('after-restart.yaml');
    const after = await podContainers(client, `web-${node}`);
    expect(after.containers.map((c) => c.id)).toEqual(before);
    expect(after.containers.map((c) => c.state)).toEqual(['CONTAINER_RUNNING']);
  });

  it('stops and removes a pod whose manifest is removed', async () => {
    kubelet.removeManifest('web.yaml');
    await expect.poll(async () => (await podContainers(client, `web-${node}`)).sandboxes.length, { timeout: 60_000, interval: 500 }).toBe(0);
    // Its log directory and the links into it go with it.
    await expect.poll(() => readdirSync(kubelet.podLogs).filter((d) => d.startsWith(`default_web-${node}_`)), { timeout: 10_000 }).toEqual([]);
    expect(readdirSync(kubelet.containerLogLinks).filter((l) => l.startsWith(`web-${node}_`))).toEqual([]);
  });
});
