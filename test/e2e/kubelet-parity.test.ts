// Pod behaviours of the tskube kubelet that match the upstream kubelet's, on the real
// control plane and the real containerd, each read from inside the container (kubectl exec
// through the kubelet API, /proc, cgroup files) or from the API: Service environment
// variables, the image's USER under runAsNonRoot, warnings as events, activeDeadlineSeconds,
// ephemeral containers with `kubectl debug`, in-place resize, host-network pod IPs, the
// RuntimeClass's handler, AppArmor refused where the kernel has none, pod conditions other
// writers set, and container statuses naming the spec's image.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, NodeV1Api, PatchStrategy, setHeaderOptions, type V1Container, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { detectHostIPs } from '../../src/kubelet/kubelet.js';
import { cgroupRootName, startTestKubelet, type TestKubelet } from '../support/kubelet.js';
import { newClient, testImage } from '../support/runtime.js';
import { eventually } from '../testbed/eventually.js';
import { kubectl } from '../testbed/kubectl.js';
import { deleteNamespaceAndWait } from '../support/namespaces.js';

const tb = inject('testbed');
const suffix = randomBytes(3).toString('hex');
const nodeName = `tskube-parity-${suffix}`;
const namespace = `kubelet-parity-${suffix}`;
const image = testImage;
const nonRootImage = 'localhost/tskube/busybox-nonroot:latest';
const namedUserImage = 'localhost/tskube/busybox-named:latest';
// The API server proxies exec to nodes only at global unicast addresses: the kubelet listens on this host's own.
const hostIP = detectHostIPs()[0] ?? '';

const kc = new KubeConfig();
kc.loadFromFile(tb.adminKubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const nodeApi = kc.makeApiClient(NodeV1Api);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * kubectl as the admin, not throwing on a non-zero exit. With `holdStdin`, stdin stays open, as a
 * person at a terminal keeps it, until kubectl ends (containerd ends an attach whose stdin closes,
 * so closing it early would cut the output short).
 */
function kctl(args: string[], input = '', timeoutMs = 60_000, holdStdin = false): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(tb.kubectl, ['--kubeconfig', tb.adminKubeconfig, '-n', namespace, ...args], { timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (holdStdin) child.stdin.write(input);
    else child.stdin.end(input);
  });
}

const kctlInteractive = (args: string[], input: string, timeoutMs = 90_000): Promise<Run> => kctl(args, input, timeoutMs, true);

/** Runs a command in a pod's container through the API server and this kubelet's /exec. */
async function exec(pod: string, command: string[], container?: string): Promise<string> {
  const r = await kctl(['exec', pod, ...(container ? ['-c', container] : []), '--', ...command]);
  if (r.code !== 0) throw new Error(`kubectl exec ${pod} ${command.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const sleeper = (name: string, extra: Partial<V1Container> = {}): V1Container => ({
  name,
  image,
  imagePullPolicy: 'IfNotPresent',
  command: ['sleep', '3600'],
  ...extra,
});

function pod(name: string, spec: Partial<NonNullable<V1Pod['spec']>> & { containers: V1Container[] }, meta: V1Pod['metadata'] = {}): V1Pod {
  return { metadata: { name, namespace, ...meta }, spec: { nodeName, terminationGracePeriodSeconds: 1, ...spec } };
}

const readPod = (name: string) => core.readNamespacedPod({ name, namespace });

async function running(name: string): Promise<V1Pod> {
  return eventually(`pod ${name} Running`, async () => {
    const p = await readPod(name);
    return p.status?.phase === 'Running' ? p : undefined;
  });
}

async function events(name: string): Promise<{ reason: string; message: string; type: string }[]> {
  const list = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
  return list.items.map((e) => ({ reason: e.reason ?? '', message: e.message ?? '', type: e.type ?? '' }));
}

async function eventOf(name: string, reason: string): Promise<{ reason: string; message: string; type: string }> {
  return eventually(`a ${reason} event on ${name}`, async () => (await events(name)).find((e) => e.reason === reason));
}

const envOf = (text: string) =>
  new Map(text.split('\n').flatMap((l) => (l.includes('=') ? [[l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const] : [])));

describe('kubelet parity with the upstream kubelet', () => {
  let kubelet: TestKubelet;
  let servingCsr = '';

  beforeAll(async () => {
    kubelet = await startTestKubelet({
      nodeName,
      namespaces: [namespace],
      args: ['--bootstrap-kubeconfig', tb.bootstrapKubeconfig, '--kubeconfig', join('/tmp', `tskube-parity-${suffix}.kubeconfig`), '--node-ip', hostIP],
      extraConfig: {
        address: hostIP,
        serverTLSBootstrap: true,
        authentication: { x509: { clientCAFile: tb.caFile }, webhook: { enabled: true }, anonymous: { enabled: false } },
        authorization: { mode: 'Webhook' },
      },
    });
    // kubectl exec needs the kubelet's serving certificate: approve its CSR as an operator would.
    servingCsr = await eventually('the kubelet-serving CSR', async () => {
      const list = JSON.parse(await kubectl(tb, tb.adminKubeconfig, ['get', 'csr', '-o', 'json'])) as {
        items: { metadata: { name: string }; spec: { signerName: string; username: string } }[];
      };
      return list.items.find((c) => c.spec.signerName === 'kubernetes.io/kubelet-serving' && c.spec.username === `system:node:${nodeName}`)?.metadata.name;
    });
    await kubectl(tb, tb.adminKubeconfig, ['certificate', 'approve', servingCsr]);
    await eventually(`node ${nodeName} Ready`, async () => {
      const ready = (await core.readNode({ name: nodeName }).catch(() => undefined))?.status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.status === 'True' && ready.message === 'kubelet is posting ready status' ? true : undefined;
    });
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  }, 180_000);

  afterAll(async () => {
    await deleteNamespaceAndWait(core, namespace, 120_000);
    await kubelet?.destroy();
    await core.deleteNode({ name: nodeName }).catch(() => undefined);
    await nodeApi.deleteRuntimeClass({ name: `tskube-runc-${suffix}` }).catch(() => undefined);
    if (servingCsr) await kubectl(tb, tb.adminKubeconfig, ['delete', 'csr', servingCsr, '--ignore-not-found']).catch(() => undefined);
  }, 240_000);

  it("gives containers the Service variables of their namespace and the API server's, and only those with enableServiceLinks off", async () => {
    await core.createNamespacedService({
      namespace,
      body: { metadata: { name: 'web-svc' }, spec: { ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], selector: { app: 'none' } } },
    });
    await core.createNamespacedService({
      namespace,
      body: { metadata: { name: 'headless' }, spec: { clusterIP: 'None', ports: [{ port: 80 }], selector: { app: 'none' } } },
    });
    const svc = await core.readNamespacedService({ name: 'web-svc', namespace });
    const kubernetes = await core.readNamespacedService({ name: 'kubernetes', namespace: 'default' });
    // The pods come after the Service: a Service made later is not in a running container's env (as upstream).
    await core.createNamespacedPod({ namespace, body: pod('linked', { containers: [sleeper('app')] }) });
    await core.createNamespacedPod({ namespace, body: pod('unlinked', { enableServiceLinks: false, containers: [sleeper('app')] }) });
    await running('linked');
    await running('unlinked');
    const linked = envOf(await exec('linked', ['env']));
    const ip = svc.spec?.clusterIP ?? '';
    expect(linked.get('KUBERNETES_SERVICE_HOST')).toBe(kubernetes.spec?.clusterIP);
    expect(linked.get('KUBERNETES_SERVICE_PORT')).toBe('443');
    expect(linked.get('WEB_SVC_SERVICE_HOST')).toBe(ip);
    expect(linked.get('WEB_SVC_SERVICE_PORT')).toBe('8080');
    expect(linked.get('WEB_SVC_SERVICE_PORT_HTTP')).toBe('8080');
    expect(linked.get('WEB_SVC_PORT')).toBe(`tcp://${ip}:8080`);
    expect(linked.get('WEB_SVC_PORT_8080_TCP_ADDR')).toBe(ip);
    expect(linked.get('WEB_SVC_PORT_8080_TCP_PROTO')).toBe('tcp');
    expect([...linked.keys()].some((k) => k.startsWith('HEADLESS_'))).toBe(false);
    const unlinked = envOf(await exec('unlinked', ['env']));
    expect(unlinked.get('KUBERNETES_SERVICE_HOST')).toBe(kubernetes.spec?.clusterIP);
    expect(unlinked.has('WEB_SVC_SERVICE_HOST')).toBe(false);
  });

  it("runs a restricted pod as its image's non-root USER, and refuses root and named users under runAsNonRoot", async () => {
    const restricted = {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    };
    const hardened = (name: string, img: string) =>
      sleeper(name, { image: img, securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } });
    await core.createNamespacedPod({ namespace, body: pod('nonroot', { ...restricted, containers: [hardened('app', nonRootImage)] }) });
    await core.createNamespacedPod({ namespace, body: pod('rootimage', { ...restricted, containers: [hardened('app', image)] }) });
    await core.createNamespacedPod({ namespace, body: pod('nameduser', { ...restricted, containers: [hardened('app', namedUserImage)] }) });
    await running('nonroot');
    // The uid from the image's USER 1000:1000; the kubelet sets runAsUser only, as upstream's does.
    expect((await exec('nonroot', ['id', '-u'])).trim()).toBe('1000');
    const waiting = async (name: string) =>
      eventually(`${name} waiting with CreateContainerConfigError`, async () => {
        const w = (await readPod(name)).status?.containerStatuses?.[0]?.state?.waiting;
        return w?.reason === 'CreateContainerConfigError' ? w : undefined;
      });
    const root = await readPod('rootimage');
    expect((await waiting('rootimage')).message).toBe(
      `container has runAsNonRoot and image will run as root (pod: "rootimage_${namespace}(${root.metadata?.uid})", container: app)`,
    );
    const named = await readPod('nameduser');
    expect((await waiting('nameduser')).message).toBe(
      `container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root (pod: "nameduser_${namespace}(${named.metadata?.uid})", container: app)`,
    );
  });

  it('records the DNS limits it had to apply (DNSConfigForming) and a missing cluster DNS (MissingClusterDNS) as events', async () => {
    // The node's resolver plus three of the pod's: one over the resolver's limit of three.
    const hostServers =
      readFileSync('/etc/resolv.conf', 'utf8')
        .match(/^nameserver\s+(\S+)/gm)
        ?.map((l) => l.split(/\s+/)[1] ?? '') ?? [];
    expect(hostServers.length, 'this test needs a nameserver in /etc/resolv.conf').toBeGreaterThan(0);
    const podServers = ['192.0.2.1', '192.0.2.2', '192.0.2.3'];
    await core.createNamespacedPod({
      namespace,
      body: pod('dns-cut', { dnsPolicy: 'Default', dnsConfig: { nameservers: podServers }, containers: [sleeper('app')] }),
    });
    const applied = [...new Set([...hostServers, ...podServers])].slice(0, 3);
    const e = await eventOf('dns-cut', 'DNSConfigForming');
    expect(e).toMatchObject({
      type: 'Warning',
      message: `Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${applied.join(' ')}`,
    });
    await running('dns-cut');
    const resolv = await exec('dns-cut', ['cat', '/etc/resolv.conf']);
    expect(resolv.match(/^nameserver .*/gm)).toEqual(applied.map((ip) => `nameserver ${ip}`));
    // This kubelet has no clusterDNS: ClusterFirst pods fall back to the node's resolver, and it says so.
    const missing = await eventOf('linked', 'MissingClusterDNS');
    const linked = await readPod('linked');
    expect(missing.message).toBe(
      `pod: "linked_${namespace}(${linked.metadata?.uid})". kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.`,
    );
  });

  it('fails a pod that outlives activeDeadlineSeconds with DeadlineExceeded and stops its containers', async () => {
    await core.createNamespacedPod({ namespace, body: pod('deadline', { activeDeadlineSeconds: 4, containers: [sleeper('app')] }) });
    const started = new Date((await running('deadline')).status?.startTime ?? 0).getTime();
    const failed = await eventually('deadline Failed', async () => {
      const p = await readPod('deadline');
      return p.status?.phase === 'Failed' ? p : undefined;
    });
    expect(failed.status).toMatchObject({ reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' });
    expect(failed.status?.containerStatuses?.[0]?.state?.terminated).toBeDefined();
    expect(await eventOf('deadline', 'DeadlineExceeded')).toMatchObject({
      type: 'Normal',
      message: 'Pod was active on the node longer than the specified deadline',
    });
    // Not before the deadline: the kubelet's own times say so (the container ran at least 4 s).
    const finished = new Date(failed.status?.containerStatuses?.[0]?.state?.terminated?.finishedAt ?? 0).getTime();
    expect(finished - started).toBeGreaterThanOrEqual(4000);
  });

  it('runs `kubectl debug` in a running pod: an ephemeral container in the target container’s PID namespace, reported in the status', async () => {
    await core.createNamespacedPod({ namespace, body: pod('debuggee', { containers: [sleeper('app', { command: ['sleep', '3601'] })] }) });
    await running('debuggee');
    // -i (the test has no terminal for -t), typing into the debug shell; --target shares app's processes.
    const r = await kctlInteractive(
      ['debug', 'debuggee', '-i', `--image=${image}`, '--image-pull-policy=IfNotPresent', '--target=app', '--container=debugger', '--', 'sh'],
      'echo "pid1: $(tr \'\\0\' \' \' < /proc/1/cmdline)"; echo "me: $(id -u)"\nexit 3\n',
    );
    expect(r.stdout, r.stderr).toContain('pid1: sleep 3601');
    expect(r.stdout).toContain('me: 0');
    const status = await eventually('the debugger to be reported terminated', async () => {
      const s = (await readPod('debuggee')).status?.ephemeralContainerStatuses?.find((c) => c.name === 'debugger');
      return s?.state?.terminated ? s : undefined;
    });
    expect(status).toMatchObject({ image, ready: false, state: { terminated: { exitCode: 3 } } });
    const p = await readPod('debuggee');
    expect(p.status?.phase).toBe('Running');
    expect(p.status?.containerStatuses?.[0]?.restartCount).toBe(0);
  });

  it("resizes a running pod in place: the container's cgroup and the pod's take the new limits, the status says so, no restart", async () => {
    const resources = { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '200m', memory: '64Mi' } };
    await core.createNamespacedPod({ namespace, body: pod('resizable', { containers: [sleeper('app', { resources })] }) });
    const before = await running('resizable');
    const containerID = before.status?.containerStatuses?.[0]?.containerID;
    expect(before.status?.containerStatuses?.[0]).toMatchObject({ allocatedResources: { cpu: '100m', memory: '64Mi' }, resources });
    expect((await exec('resizable', ['cat', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us'])).trim()).toBe('20000');
    const patch = {
      spec: { containers: [{ name: 'app', resources: { requests: { cpu: '300m', memory: '96Mi' }, limits: { cpu: '400m', memory: '96Mi' } } }] },
    };
    const r = await kctl(['patch', 'pod', 'resizable', '--subresource', 'resize', '--type', 'strategic', '-p', JSON.stringify(patch)]);
    expect(r.code, r.stderr).toBe(0);
    const after = await eventually('the resize applied', async () => {
      const p = await readPod('resizable');
      const cs = p.status?.containerStatuses?.[0];
      const resizing = p.status?.conditions?.some((c) => c.type === 'PodResizeInProgress' || c.type === 'PodResizePending');
      return cs?.resources?.limits?.['cpu'] === '400m' && !resizing ? p : undefined;
    });
    expect(after.status?.containerStatuses?.[0]).toMatchObject({
      containerID,
      restartCount: 0,
      allocatedResources: { cpu: '300m', memory: '96Mi' },
      resources: { requests: { cpu: '300m', memory: '96Mi' }, limits: { cpu: '400m', memory: '96Mi' } },
    });
    // Read from inside the container: its cgroup has the new cpu quota, shares and memory limit.
    expect((await exec('resizable', ['cat', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us'])).trim()).toBe('40000');
    expect((await exec('resizable', ['cat', '/sys/fs/cgroup/cpu/cpu.shares'])).trim()).toBe('307');
    expect((await exec('resizable', ['cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes'])).trim()).toBe(String(96 * 2 ** 20));
    // The pod's own cgroup, from the host: its limit is the new sum.
    const uid = after.metadata?.uid ?? '';
    const podCgroup = `/sys/fs/cgroup/memory/${cgroupRootName(nodeName)}/kubepods/burstable/pod${uid}/memory.limit_in_bytes`;
    expect(readFileSync(podCgroup, 'utf8').trim()).toBe(String(96 * 2 ** 20));
    expect((await events('resizable')).map((e) => e.reason)).toEqual(expect.arrayContaining(['ResizeStarted', 'ResizeCompleted']));

    // More cpu than is left beside another pod's requests (the API server refuses only more than the node has):
    // pending, Deferred, with upstream's message; the container keeps what it had until the room is there.
    const node = await core.readNode({ name: nodeName });
    const allocatableMillis = Number.parseFloat(String(node.status?.allocatable?.['cpu'] ?? '0')) * 1000;
    const hogMillis = allocatableMillis - 500;
    await core.createNamespacedPod({
      namespace,
      body: pod('hog', { containers: [sleeper('app', { resources: { requests: { cpu: `${hogMillis}m` } } })] }),
    });
    await running('hog');
    const wants = { spec: { containers: [{ name: 'app', resources: { requests: { cpu: '1' }, limits: { cpu: '1200m' } } }] } };
    const asked = await kctl(['patch', 'pod', 'resizable', '--subresource', 'resize', '--type', 'strategic', '-p', JSON.stringify(wants)]);
    expect(asked.code, asked.stderr).toBe(0);
    const pending = await eventually('PodResizePending', async () =>
      (await readPod('resizable')).status?.conditions?.find((c) => c.type === 'PodResizePending'),
    );
    expect(pending).toMatchObject({
      status: 'True',
      reason: 'Deferred',
      message: `Node didn't have enough resource: cpu, requested: 1000, used: ${hogMillis}, capacity: ${allocatableMillis}`,
    });
    expect((await eventOf('resizable', 'ResizeDeferred')).message).toMatch(/^Pod resize Deferred: \{"containers":\[\{"name":"app"/);
    expect((await exec('resizable', ['cat', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us'])).trim()).toBe('40000');
    // The other pod goes: the resize is looked at again and applied.
    await core.deleteNamespacedPod({ name: 'hog', namespace });
    await eventually('the deferred resize applied', async () => {
      const p = await readPod('resizable');
      const pendingNow = p.status?.conditions?.some((c) => c.type === 'PodResizePending' || c.type === 'PodResizeInProgress');
      return !pendingNow && p.status?.containerStatuses?.[0]?.resources?.limits?.['cpu'] === '1200m' ? true : undefined;
    });
    expect((await exec('resizable', ['cat', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us'])).trim()).toBe('120000');
  });

  it("gives a host-network pod the node's IP as its pod IP and POD_IP", async () => {
    await core.createNamespacedPod({
      namespace,
      body: pod('hostnet', {
        hostNetwork: true,
        containers: [sleeper('app', { env: [{ name: 'MY_POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }] })],
      }),
    });
    const p = await running('hostnet');
    expect(p.status?.podIP).toBe(hostIP);
    expect(p.status?.podIPs).toEqual([{ ip: hostIP }]);
    expect(envOf(await exec('hostnet', ['env'])).get('MY_POD_IP')).toBe(hostIP);
  });

  it("hands the runtime the RuntimeClass's handler, and says so when the class does not exist", async () => {
    const rcName = `tskube-runc-${suffix}`;
    // containerd's runtime for pods is named runc; the class's own name differs from it.
    await nodeApi.createRuntimeClass({ body: { metadata: { name: rcName }, handler: 'runc' } });
    await core.createNamespacedPod({ namespace, body: pod('classy', { runtimeClassName: rcName, containers: [sleeper('app')] }) });
    const p = await running('classy');
    const client = newClient();
    try {
      const { items } = await client.runtime.call('ListPodSandbox', { filter: { labelSelector: { 'io.kubernetes.pod.uid': p.metadata?.uid ?? '' } } });
      expect(items.map((s) => s.runtimeHandler)).toEqual(['runc']);
    } finally {
      client.close();
    }
    // The API server's RuntimeClass admission refuses an API pod naming a missing class; a static pod is
    // not admitted by it, and the kubelet must say why it cannot run one.
    kubelet.writeManifest('classless.yaml', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'classless', namespace },
      spec: { runtimeClassName: `missing-${suffix}`, terminationGracePeriodSeconds: 1, containers: [sleeper('app')] },
    });
    try {
      const e = await eventOf(`classless-${nodeName}`, 'FailedCreatePodSandBox');
      expect(e.message).toBe(`Failed to create pod sandbox: runtimeclass.node.k8s.io "missing-${suffix}" not found`);
    } finally {
      kubelet.removeManifest('classless.yaml');
    }
  });

  it('refuses a pod that asks for an AppArmor profile on a kernel without AppArmor, with upstream reason and message', async () => {
    await core.createNamespacedPod({
      namespace,
      body: pod('armored', { securityContext: { appArmorProfile: { type: 'RuntimeDefault' } }, containers: [sleeper('app')] }),
    });
    const p = await eventually('armored Failed', async () => {
      const x = await readPod('armored');
      return x.status?.phase === 'Failed' ? x : undefined;
    });
    expect(p.status).toMatchObject({ reason: 'AppArmor', message: 'Pod was rejected: Cannot enforce AppArmor: AppArmor is not enabled on the host' });
    expect(p.status?.containerStatuses?.[0]?.containerID).toBeUndefined();
    expect((await eventOf('armored', 'AppArmor')).type).toBe('Warning');
  });

  it('keeps the conditions other writers set: a readiness gate decides Ready, DisruptionTarget stays', async () => {
    await core.createNamespacedPod({
      namespace,
      body: pod('gated', { readinessGates: [{ conditionType: 'example.com/feed-ready' }], containers: [sleeper('app')] }),
    });
    await running('gated');
    const ready = async () => (await readPod('gated')).status?.conditions?.find((c) => c.type === 'Ready');
    const notReady = await eventually('Ready False for the gate', async () => {
      const c = await ready();
      return c?.reason === 'ReadinessGatesNotReady' ? c : undefined;
    });
    expect(notReady.message).toBe('corresponding condition of pod readiness gate "example.com/feed-ready" does not exist.');
    // A controller sets its condition (and a disruption controller its own) with a status patch of its own.
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const patch = {
      status: {
        conditions: [
          { type: 'example.com/feed-ready', status: 'True', lastTransitionTime: now },
          { type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler', message: 'test', lastTransitionTime: now },
        ],
      },
    };
    await core.patchNamespacedPodStatus({ name: 'gated', namespace, body: patch }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    await eventually('Ready True once the gate is True', async () => ((await ready())?.status === 'True' ? true : undefined));
    const types = (await readPod('gated')).status?.conditions?.map((c) => c.type) ?? [];
    expect(types).toEqual(expect.arrayContaining(['example.com/feed-ready', 'DisruptionTarget', 'Ready', 'ContainersReady', 'PodScheduled']));
  });

  it("shows the spec's image in container statuses and the image's digest as imageID", async () => {
    const p = await running('linked');
    const cs = p.status?.containerStatuses?.[0];
    expect(cs?.image).toBe(image);
    expect(cs?.imageID).toMatch(/^(sha256:[0-9a-f]{64}|.+@sha256:[0-9a-f]{64})$/);
    const client = newClient();
    try {
      const { image: status } = await client.image.call('ImageStatus', { image: { image } });
      // The runtime's reference for the image: its repo digest where it has one, else its ID.
      expect(cs?.imageID).toBe(status?.repoDigests[0] ?? status?.id);
    } finally {
      client.close();
    }
  });
});
