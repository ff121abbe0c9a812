// The pod executor's ordering with volumes, on the in-memory runtime and an in-memory
// mount table: volumes before the sandbox, nothing started while one is missing, other
// pods untouched, teardown only after the last container stopped, a restart that
// remounts nothing, and content that follows its ConfigMap.
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { V1ConfigMap, V1Pod, V1Secret } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CriRuntime } from '../../src/kubelet/runtime/cri-runtime.js';
import { FakeMounter } from '../support/fake-mounter.js';
import { InMemoryRuntime } from '../support/in-memory-runtime.js';
import { container, type PodHarness, startPodHarness, testImage, testPod, tickUntil, useFakeClock } from '../support/pod-lifecycle-harness.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('volumes in the pod executor', () => {
  let rt: InMemoryRuntime;
  let h: PodHarness;
  let mounter: FakeMounter;
  let order: string[];
  const configMaps = new Map<string, V1ConfigMap>();
  const secrets = new Map<string, V1Secret>();

  /** The runtime, with each RuntimeService call also noted in `order` beside the mounter's. */
  function recorded(inner: InMemoryRuntime): CriRuntime {
    return {
      endpoint: inner.endpoint,
      image: inner.image,
      runtime: {
        call: (name, request, options) => {
          if (!['ListPodSandbox', 'ListContainers', 'ContainerStatus', 'PodSandboxStatus', 'Version', 'Status'].includes(name)) order.push(name);
          return inner.runtime.call(name, request, options);
        },
      },
    };
  }

  function start(dir?: string): PodHarness {
    return startPodHarness({
      runtime: recorded(rt),
      ...(dir ? { dir } : {}),
      overrides: {
        mounter,
        objects: { configMap: (_ns, name) => configMaps.get(name), secret: (_ns, name) => secrets.get(name) },
      },
    });
  }

  beforeEach(() => {
    useFakeClock();
    configMaps.clear();
    secrets.clear();
    order = [];
    rt = new InMemoryRuntime({ images: [{ ref: testImage }] });
    mounter = new FakeMounter();
    const note =
      (what: string) =>
      (...args: string[]) =>
        order.push(`${what} ${args[0]?.split('/volumes/')[1] ?? args[0]}`);
    const tmpfs = mounter.mountTmpfs.bind(mounter);
    const umount = mounter.unmount.bind(mounter);
    mounter.mountTmpfs = async (target, size) => {
      note('tmpfs')(target);
      return tmpfs(target, size);
    };
    mounter.unmount = async (target) => {
      note('umount')(target);
      return umount(target);
    };
    h = start();
  });
  afterEach(async () => {
    await h.destroy();
    vi.useRealTimers();
  });

  const volumePod = (name: string, extra: Partial<NonNullable<V1Pod['spec']>> = {}) =>
    testPod(name, {
      volumes: [
        { name: 'scratch', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
        { name: 'config', configMap: { name: 'app' } },
        { name: 'creds', secret: { secretName: 'db', defaultMode: 0o400 } },
      ],
      containers: [
        container('app', {
          volumeMounts: [
            { name: 'scratch', mountPath: '/scratch' },
            { name: 'config', mountPath: '/etc/app' },
            { name: 'creds', mountPath: '/etc/creds', readOnly: true },
          ],
        }),
      ],
      ...extra,
    });
  const podDir = (pod: V1Pod) => join(h.rootDir, 'pods', pod.metadata?.uid ?? '');
  /** A volume pod running with app.conf = content; its configMap volume's directory. */
  async function runningWithConfig(content: string): Promise<{ pod: V1Pod; config: string }> {
    configMaps.set('app', { metadata: { name: 'app' }, data: { 'app.conf': content } });
    secrets.set('db', { metadata: { name: 'db' }, data: {} });
    const pod = volumePod('web');
    h.setPods([pod]);
    await tickUntil(() => h.status(pod)?.phase === 'Running');
    return { pod, config: join(podDir(pod), 'volumes/kubernetes.io~configmap/config') };
  }

  it('sets every volume up before the sandbox, and mounts them into the container', async () => {
    configMaps.set('app', { metadata: { name: 'app' }, data: { 'app.conf': 'x=1' } });
    secrets.set('db', { metadata: { name: 'db' }, data: { password: b64('s3cret') } });
    const pod = volumePod('web');
    h.setPods([pod]);
    await tickUntil(() => h.status(pod)?.phase === 'Running');
    expect(order.slice(0, 4)).toEqual(['tmpfs kubernetes.io~empty-dir/scratch', 'tmpfs kubernetes.io~secret/creds', 'RunPodSandbox', 'CreateContainer']);
    const dir = podDir(pod);
    expect(readFileSync(join(dir, 'volumes/kubernetes.io~configmap/config/app.conf'), 'utf8')).toBe('x=1');
    expect(readFileSync(join(dir, 'volumes/kubernetes.io~secret/creds/password'), 'utf8')).toBe('s3cret');
    expect(existsSync(join(dir, 'plugins/kubernetes.io~empty-dir/scratch/ready'))).toBe(true);
    expect(existsSync(join(dir, 'plugins/kubernetes.io~empty-dir/wrapped_creds/ready'))).toBe(true);
    const created = rt.calls.find((c) => c.method === 'CreateContainer')?.request as {
      config: { mounts: { containerPath: string; hostPath: string; readonly: boolean }[] };
    };
    expect(created.config.mounts.map((m) => [m.containerPath, m.hostPath.replace(`${dir}/`, ''), m.readonly])).toEqual([
      ['/scratch', 'volumes/kubernetes.io~empty-dir/scratch', false],
      ['/etc/app', 'volumes/kubernetes.io~configmap/config', true],
      ['/etc/creds', 'volumes/kubernetes.io~secret/creds', true],
      ['/etc/hosts', 'etc-hosts', false],
      ['/dev/termination-log', 'containers/app/termination-log-0', false],
    ]);
    expect(readFileSync(join(dir, 'etc-hosts'), 'utf8')).toMatch(/\n10\.88\.0\.\d+\tweb\n$/);
  });

  it('starts nothing of a pod whose Secret is missing, says why, leaves other pods alone, and starts once it appears', async () => {
    configMaps.set('app', { metadata: { name: 'app' }, data: {} });
    const waiting = volumePod('waits');
    const other = testPod('other', { containers: [container('app')] });
    h.setPods([waiting, other]);
    await tickUntil(() => h.status(other)?.phase === 'Running' && h.eventsOf(waiting).length > 0);
    expect(h.eventsOf(waiting)).toContain('FailedMount: MountVolume.SetUp failed for volume "creds" : secret "db" not found');
    expect(rt.sandboxesOf('waits')).toEqual([]);
    expect(h.status(waiting)?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('ContainerCreating');
    // The volumes that could be made are there; the one that failed is not half made.
    expect(mounter.under(podDir(waiting))).toEqual([join(podDir(waiting), 'volumes/kubernetes.io~empty-dir/scratch')]);

    secrets.set('db', { metadata: { name: 'db' }, data: { password: b64('late') } });
    await tickUntil(() => h.status(waiting)?.phase === 'Running', 10_000);
    expect(readFileSync(join(podDir(waiting), 'volumes/kubernetes.io~secret/creds/password'), 'utf8')).toBe('late');
  });

  it('reports a tmpfs that cannot be mounted as FailedMount and starts nothing', async () => {
    configMaps.set('app', { metadata: { name: 'app' }, data: {} });
    secrets.set('db', { metadata: { name: 'db' }, data: {} });
    mounter.failTmpfs.set('scratch', 'mount: tmpfs: permission denied');
    const pod = volumePod('nomount');
    h.setPods([pod]);
    await tickUntil(() => h.eventsOf(pod).some((e) => e.startsWith('FailedMount')));
    expect(h.eventsOf(pod)).toContain('FailedMount: MountVolume.SetUp failed for volume "scratch" : mount: tmpfs: permission denied');
    expect(rt.sandboxesOf('nomount')).toEqual([]);
  });

  it('tears the volumes down only after every container and the sandbox stopped, then removes the pod directory', async () => {
    configMaps.set('app', { metadata: { name: 'app' }, data: {} });
    secrets.set('db', { metadata: { name: 'db' }, data: {} });
    const pod = volumePod('web');
    h.setPods([pod]);
    await tickUntil(() => h.status(pod)?.phase === 'Running');
    order.length = 0;
    h.setPods([]);
    await tickUntil(() => !existsSync(podDir(pod)), 60_000);
    const firstUnmount = order.findIndex((o) => o.startsWith('umount'));
    expect(new Set(order.slice(0, firstUnmount))).toEqual(new Set(['StopContainer', 'StopPodSandbox']));
    expect(order.filter((o) => o.startsWith('umount')).sort()).toEqual(['umount kubernetes.io~empty-dir/scratch', 'umount kubernetes.io~secret/creds']);
    expect(mounter.under(podDir(pod))).toEqual([]);
  });

  it('keeps a running pod’s volumes across a kubelet restart: nothing unmounted or mounted again, content kept', async () => {
    const { pod, config } = await runningWithConfig('v1');
    const version = readlinkSync(join(config, '..data'));
    await h.stop();
    order.length = 0;
    h = start(h.dir);
    h.setPods([pod]);
    // Running again: the new kubelet adopted the pod and synced it, volumes included.
    await tickUntil(() => h.status(pod)?.phase === 'Running');
    expect(order.filter((o) => o.startsWith('tmpfs') || o.startsWith('umount') || o === 'RunPodSandbox' || o === 'CreateContainer')).toEqual([]);
    expect(readlinkSync(join(config, '..data'))).toBe(version);
    expect(readFileSync(join(config, 'app.conf'), 'utf8')).toBe('v1');
  });

  it('rewrites a ConfigMap volume when the ConfigMap changes, through a new ..data version', async () => {
    const { config } = await runningWithConfig('v1');
    configMaps.set('app', { metadata: { name: 'app' }, data: { 'app.conf': 'v2' } });
    // The periodic resync (10 s here) carries it; a watched object's change resyncs at once on a node.
    await tickUntil(() => readFileSync(join(config, 'app.conf'), 'utf8') === 'v2', 15_000);
    expect(h.logs.some((l) => l.msg === 'volume content updated' && l['volume'] === 'config')).toBe(true);
  });
});
