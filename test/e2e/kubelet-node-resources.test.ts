// The node-level resource management of the tskube kubelet, joined to the real control
// plane on the real containerd: the QoS cgroups and pod cgroups with their limits (read
// from the host's cgroup files and from inside the containers), admission on the node
// (resources, maxPods, node affinity, sysctls, critical-pod preemption) and /healthz.
import { CoreV1Api, KubeConfig, type V1Container, type V1Pod } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { createServer } from 'node:net';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { detectCgroupLayout, type CgroupLayout } from '../../src/kubelet/cm/cgroup-layout.js';
import { cgroupRemovalDirs } from '../../src/kubelet/cm/plan-cgroup-writes.js';
import { cgroupRootName, startTestKubelet, type TestKubelet } from '../support/kubelet.js';
import { newClient, runCrictl, testImage } from '../support/runtime.js';
import { eventually } from '../testbed/eventually.js';
import { deleteNamespaceAndWait } from '../support/namespaces.js';

const tb = inject('testbed');
const suffix = randomBytes(3).toString('hex');
const nodeName = `tskube-res-${suffix}`;
const namespace = `node-res-${suffix}`;
const root = `/${cgroupRootName(nodeName)}`;

const kc = new KubeConfig();
kc.loadFromFile(tb.adminKubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const cri = newClient();

const sleeper = (resources?: V1Container['resources']): V1Container => ({
  name: 'main',
  image: testImage,
  imagePullPolicy: 'IfNotPresent',
  command: ['sleep', '3600'],
  ...(resources ? { resources } : {}),
});
function pod(name: string, spec: Partial<NonNullable<V1Pod['spec']>> = {}): V1Pod {
  return { metadata: { name, namespace }, spec: { nodeName, terminationGracePeriodSeconds: 1, containers: [sleeper()], ...spec } };
}
const readPod = (name: string) => core.readNamespacedPod({ name, namespace });
const create = async (p: V1Pod) => (await core.createNamespacedPod({ namespace, body: p })).metadata?.uid ?? '';
/** Waits for the phase; a pod that reaches another final phase fails at once, naming why. */
const phaseIs = (name: string, phase: string) =>
  eventually(
    `${name} ${phase}`,
    async () => {
      const status = (await readPod(name)).status;
      if (status?.phase === phase) return status;
      if (status?.phase === 'Failed' || status?.phase === 'Succeeded') {
        throw new Error(`${name} is ${status.phase}: ${status.reason}: ${status.message}`, { cause: 'final' });
      }
      return undefined;
    },
    60_000,
  );

/** One cgroup setting, read from the host: v1 file names, or their v2 counterparts. */
function cgroupValue(layout: CgroupLayout, path: string, setting: 'cpu.shares' | 'cpu.cfs_quota_us' | 'memory.limit_in_bytes' | 'pids.max'): string {
  if (layout.version === 2) {
    const file = { 'cpu.shares': 'cpu.weight', 'cpu.cfs_quota_us': 'cpu.max', 'memory.limit_in_bytes': 'memory.max', 'pids.max': 'pids.max' }[setting];
    return readFileSync(`${layout.root}${path}/${file}`, 'utf8').trim();
  }
  const controller = setting.split('.')[0] as string;
  return readFileSync(`${layout.mounts.get(controller)}${path}/${setting}`, 'utf8').trim();
}
function cgroupExists(layout: CgroupLayout, path: string): boolean {
  return existsSync(layout.version === 2 ? `${layout.root}${path}` : `${layout.mounts.get('memory')}${path}`);
}

async function exec(uid: string, cmd: string[]): Promise<string> {
  const { containers } = await cri.runtime.call('ListContainers', {
    filter: { labelSelector: { 'io.kubernetes.pod.uid': uid }, state: { state: 'CONTAINER_RUNNING' } },
  });
  const id = containers[0]?.id;
  if (!id) throw new Error(`no running container for pod ${uid}`);
  const r = await cri.runtime.call('ExecSync', { containerId: id, cmd, timeout: 10 });
  return r.stdout.toString();
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('kubelet node resources', () => {
  let kubelet: TestKubelet;
  let layout: CgroupLayout;
  let healthzPort: number;
  beforeAll(async () => {
    layout = await detectCgroupLayout();
    healthzPort = await freePort();
    kubelet = await startTestKubelet({
      nodeName,
      namespaces: [namespace],
      extraConfig: {
        healthzPort,
        healthzBindAddress: '127.0.0.1',
        maxPods: 5,
        podPidsLimit: 100,
        kubeReserved: { cpu: '500m', memory: '1Gi' },
        enforceNodeAllocatable: ['pods'],
        allowedUnsafeSysctls: ['net.core.somaxconn'],
        containerLogMaxSize: '8Ki',
        containerLogMaxFiles: 3,
        containerLogMonitorInterval: '3s',
      },
      args: ['--bootstrap-kubeconfig', tb.bootstrapKubeconfig, '--kubeconfig', join('/tmp', `tskube-e2e-${suffix}.kubeconfig`), '--node-labels', 'pool=tskube'],
    });
    await eventually(`node ${nodeName} Ready`, async () => {
      const ready = (await core.readNode({ name: nodeName }).catch(() => undefined))?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
      return ready === 'True' ? true : undefined;
    });
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  }, 120_000);

  afterAll(async () => {
    await deleteNamespaceAndWait(core, namespace);
    await kubelet?.destroy();
    await core.deleteNode({ name: nodeName }).catch(() => undefined);
    cri.close();
  }, 120_000);

  it('answers /healthz on healthzBindAddress:healthzPort with ping only, as the healthz port of upstream does (the syncloop check is on :10250)', async () => {
    const ok = await fetch(`http://127.0.0.1:${healthzPort}/healthz`);
    expect([ok.status, await ok.text()]).toEqual([200, 'ok']);
    const verbose = await fetch(`http://127.0.0.1:${healthzPort}/healthz?verbose`).then((r) => r.text());
    expect(verbose).toBe('[+]ping ok\nhealthz check passed\n');
  });

  it('makes the kubepods cgroup limited to allocatable, with the burstable and besteffort classes below it', () => {
    const kubepods = `${root}/kubepods`;
    const memTotal = totalmem();
    if (layout.version === 1) {
      // capacity less kubeReserved: enforceNodeAllocatable has "pods".
      expect(Number(cgroupValue(layout, kubepods, 'memory.limit_in_bytes'))).toBe(memTotal - 2 ** 30);
      const cores = Number(readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length);
      expect(cgroupValue(layout, kubepods, 'cpu.shares')).toBe(String(Math.trunc(((cores * 1000 - 500) * 1024) / 1000)));
      expect(cgroupValue(layout, `${kubepods}/besteffort`, 'cpu.shares')).toBe('2');
    }
    expect(cgroupExists(layout, `${kubepods}/burstable`)).toBe(true);
    expect(cgroupExists(layout, `${kubepods}/besteffort`)).toBe(true);
  });

  it('puts each pod in a cgroup of its QoS class with its limits, and removes it when the pod is gone', async () => {
    const guaranteed = await create(
      pod('guaranteed', { containers: [sleeper({ requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '250m', memory: '64Mi' } })] }),
    );
    const burstable = await create(pod('burstable', { containers: [sleeper({ requests: { cpu: '100m' } })] }));
    const besteffort = await create(pod('besteffort'));
    for (const name of ['guaranteed', 'burstable', 'besteffort']) await phaseIs(name, 'Running');

    const gPath = `${root}/kubepods/pod${guaranteed}`;
    // The containers run in the pod's cgroup: the sandbox's cgroup parent is the pod cgroup.
    expect(await exec(guaranteed, ['cat', '/proc/self/cgroup'])).toContain(`${gPath}/`);
    expect(await exec(burstable, ['cat', '/proc/self/cgroup'])).toContain(`${root}/kubepods/burstable/pod${burstable}/`);
    expect(await exec(besteffort, ['cat', '/proc/self/cgroup'])).toContain(`${root}/kubepods/besteffort/pod${besteffort}/`);
    if (layout.version === 1) {
      expect(cgroupValue(layout, gPath, 'memory.limit_in_bytes')).toBe(String(64 * 2 ** 20));
      expect(cgroupValue(layout, gPath, 'cpu.shares')).toBe('256');
      expect(cgroupValue(layout, gPath, 'cpu.cfs_quota_us')).toBe('25000');
      expect(cgroupValue(layout, gPath, 'pids.max')).toBe('100');
      expect(cgroupValue(layout, `${root}/kubepods/burstable/pod${burstable}`, 'cpu.shares')).toBe('102');
      expect(cgroupValue(layout, `${root}/kubepods/burstable`, 'cpu.shares')).toBe('102');
      expect(cgroupValue(layout, `${root}/kubepods/besteffort/pod${besteffort}`, 'cpu.shares')).toBe('2');
      // Inside the container: its own memory limit and the pod's pid limit apply.
      expect((await exec(guaranteed, ['cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes'])).trim()).toBe(String(64 * 2 ** 20));
    }

    await core.deleteNamespacedPod({ name: 'guaranteed', namespace });
    // Gone from every hierarchy, the named and hybrid ones runc also used included (not only those the kubelet set).
    expect(cgroupRemovalDirs(layout, gPath).filter(existsSync).length).toBeGreaterThan(0);
    await eventually('the guaranteed pod cgroup to go', () => (cgroupRemovalDirs(layout, gPath).some(existsSync) ? undefined : true), 60_000);
  });

  it('refuses a pod that does not fit allocatable: Failed with OutOfcpu and an event, never started', async () => {
    const uid = await create(pod('too-big', { containers: [sleeper({ requests: { cpu: '64' } })] }));
    const status = await phaseIs('too-big', 'Failed');
    expect(status?.reason).toBe('OutOfcpu');
    expect(status?.message).toMatch(/^Pod was rejected: Node didn't have enough resource: cpu, requested: 64000, used: 100, capacity: \d+$/);
    await eventually('an OutOfcpu event', async () =>
      (await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=too-big' })).items.some((e) => e.reason === 'OutOfcpu')
        ? true
        : undefined,
    );
    const { items } = await cri.runtime.call('ListPodSandbox', { filter: { labelSelector: { 'io.kubernetes.pod.uid': uid } } });
    expect(items).toEqual([]);
  });

  it('refuses a pod whose node selector the node does not match, and admits one that matches a label set at join', async () => {
    await create(pod('elsewhere', { nodeSelector: { pool: 'other' } }));
    expect(await phaseIs('elsewhere', 'Failed')).toMatchObject({
      reason: 'NodeAffinity',
      message: "Pod was rejected: Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector",
    });
  });

  it('allows the sysctls allowedUnsafeSysctls names and refuses other unsafe ones with SysctlForbidden', async () => {
    const allowed = await create(
      pod('somaxconn', { nodeSelector: { pool: 'tskube' }, securityContext: { sysctls: [{ name: 'net.core.somaxconn', value: '1234' }] } }),
    );
    await phaseIs('somaxconn', 'Running');
    expect((await exec(allowed, ['cat', '/proc/sys/net/core/somaxconn'])).trim()).toBe('1234');
    await create(pod('unsafe', { securityContext: { sysctls: [{ name: 'net.ipv4.tcp_tw_reuse', value: '1' }] } }));
    expect(await phaseIs('unsafe', 'Failed')).toMatchObject({
      reason: 'SysctlForbidden',
      message: 'Pod was rejected: forbidden sysctl: "net.ipv4.tcp_tw_reuse" not allowlisted',
    });
  });

  it('lets a critical pod preempt a pod to fit, which is Failed with reason Preempting', async () => {
    // Allocatable cpu: capacity less 500m. Fill it so a critical pod does not fit without preemption.
    const node = await core.readNode({ name: nodeName });
    const allocatable =
      Number(String(node.status?.allocatable?.['cpu']).replace(/m$/, '')) * (String(node.status?.allocatable?.['cpu']).endsWith('m') ? 1 : 1000);
    const filler = allocatable - 100 - 200;
    await create(pod('filler', { containers: [sleeper({ requests: { cpu: `${filler}m` } })] }));
    await phaseIs('filler', 'Running');
    await create(pod('critical', { priorityClassName: 'system-node-critical', containers: [sleeper({ requests: { cpu: '500m' } })] }));
    await phaseIs('critical', 'Running');
    // As upstream's status manager, the kubelet reports the terminal phase once no container of the
    // victim can run any more, which may be after the critical pod's status went out.
    const victim = await eventually('the preempted pod Failed', async () => {
      const status = (await readPod('filler')).status;
      return status?.phase === 'Failed' ? status : undefined;
    });
    expect(victim).toMatchObject({ phase: 'Failed', reason: 'Preempting', message: 'Preempted in order to admit critical pod' });
    expect(victim?.conditions?.find((c) => c.type === 'DisruptionTarget')).toMatchObject({ status: 'True', reason: 'TerminationByKubelet' });
    expect((await readPod('burstable')).status?.phase).toBe('Running');
    // A terminating pod still counts against maxPods (as upstream's): wait until its container stopped.
    await eventually('the preempted pod to stop', async () => ((await readPod('filler')).status?.containerStatuses?.[0]?.state?.terminated ? true : undefined));
  });

  it('rotates container logs past containerLogMaxSize: older files gzipped, at most containerLogMaxFiles, crictl logs reads on', async () => {
    const uid = await create(
      pod('chatty', { containers: [{ ...sleeper(), command: ['sh', '-c', 'i=0; while true; do echo "line $i"; i=$((i+1)); usleep 2000; done'] }] }),
    );
    await phaseIs('chatty', 'Running');
    const dir = join(kubelet.podLogs, `${namespace}_chatty_${uid}`, 'main');
    const files = await eventually(
      'a compressed rotated log',
      () => {
        const names = readdirSync(dir);
        return names.some((n) => /^0\.log\.\d{8}-\d{6}\.gz$/.test(n)) ? names : undefined;
      },
      60_000,
    );
    expect(files).toContain('0.log');
    expect(files.filter((n) => n.startsWith('0.log')).length).toBeLessThanOrEqual(3);
    const gz = files.find((n) => n.endsWith('.gz')) as string;
    expect(gunzipSync(readFileSync(join(dir, gz))).toString()).toMatch(/^\S+ stdout F line \d+$/m);
    // The runtime writes on into the new current file, and crictl reads it.
    const { containers } = await cri.runtime.call('ListContainers', { filter: { labelSelector: { 'io.kubernetes.pod.uid': uid } } });
    const last = await eventually('crictl logs to show the newest lines', async () => {
      const r = await runCrictl(['logs', '--tail', '1', containers[0]?.id ?? '']);
      return r.code === 0 && /^line \d+$/.test(r.stdout.trim()) ? Number(r.stdout.trim().split(' ')[1]) : undefined;
    });
    const newest = readFileSync(join(dir, '0.log'), 'utf8').trim().split('\n').at(-1) ?? '';
    expect(Number(newest.split(' ').at(-1))).toBeGreaterThanOrEqual(last);
    await core.deleteNamespacedPod({ name: 'chatty', namespace });
    await eventually('chatty gone', async () => ((await readPod('chatty').catch(() => undefined)) ? undefined : true));
  });

  it('refuses pods beyond maxPods with OutOfpods', async () => {
    // Running now: burstable, besteffort, somaxconn, critical; maxPods is 5.
    await create(pod('fifth'));
    await phaseIs('fifth', 'Running');
    await create(pod('sixth'));
    expect(await phaseIs('sixth', 'Failed')).toMatchObject({
      reason: 'OutOfpods',
      message: "Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: 5, capacity: 5",
    });
  });
});
