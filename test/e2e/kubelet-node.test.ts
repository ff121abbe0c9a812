// The Node against the real apiserver and the real containerd: registration with the
// usual labels, addresses, resources and nodeInfo; Ready from the runtime's answers;
// the Lease renewed and owned by the Node; a dead runtime socket turns Ready False with
// the failing CRI call named, and the live one turns it back; a re-registration puts
// back the labels the kubelet owns.
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pino } from 'pino';
import { CriClient } from '../../src/cri-client/index.js';
import { loadKubeconfig } from '../../src/kube/kubeconfig.js';
import { RestClient } from '../../src/kube/rest-client.js';
import { NodeFactsGatherer } from '../../src/kubelet/node/gather-node-facts.js';
import { nodeLeaseNamespace } from '../../src/kubelet/node/lease-plan.js';
import { restNodeApi, type NodeApi } from '../../src/kubelet/node/node-api.js';
import { NodeController } from '../../src/kubelet/node/node-controller.js';
import type { NodeSettings } from '../../src/kubelet/node/node-settings.js';
import { registerNode } from '../../src/kubelet/node/node-registration.js';
import type { Node, NodeCondition } from '../../src/kubelet/node/node-wire.js';
import { criRuntimeCalls, RuntimeProbe, type RuntimeCalls } from '../../src/kubelet/node/runtime-facts.js';
import { buildNode } from '../../src/kubelet/node/build-node.js';
import { decideCgroupDriver, queryRuntimeCgroupDriver } from '../../src/kubelet/node/cgroup-driver.js';
import { nodeControllerFromOptions } from '../../src/kubelet/node/node-controller.js';
import { resolveKubeletOptions } from '../../src/kubelet/options/kubelet-options.js';
import { eventually } from '../testbed/eventually.js';

const tb = inject('testbed');
const log = pino({ level: process.env['TSKUBE_TEST_LOG'] ?? 'silent' });
const liveEndpoint = process.env['TSKUBE_TEST_RUNTIME_ENDPOINT'] ?? 'unix:///run/containerd/containerd.sock';
const suffix = randomBytes(3).toString('hex');
const nodeName = `tskube-node-e2e-${suffix}`;
const deadEndpoint = `unix:///tmp/tskube-dead-${suffix}.sock`;

const settings: NodeSettings = {
  nodeName,
  nodeIPs: [],
  kubeletVersion: 'v1.36.3',
  kubeletPort: 10250,
  maxPods: 110,
  labels: { 'node.kubernetes.io/e2e': suffix },
  taints: [{ key: 'tskube.test/e2e', value: suffix, effect: 'NoSchedule' }],
  providerID: '',
  reserved: { cpuMillis: 100, memoryBytes: 256 * 2 ** 20, ephemeralBytes: 0 },
  evictionHard: { memoryAvailable: { kind: 'quantity', value: 100 * 2 ** 20 }, nodefsAvailable: { kind: 'percentage', value: 0.1 } },
  maxImages: 50,
};

let rest: RestClient;
let api: NodeApi;
let controller: NodeController;
const stop = new AbortController();
const live = new CriClient({ endpoint: liveEndpoint, timeoutMs: 5_000 });
const dead = new CriClient({ endpoint: deadEndpoint, timeoutMs: 5_000 });
const liveCalls = criRuntimeCalls(live);
const deadCalls = criRuntimeCalls(dead);
// The kubelet's runtime endpoint, swappable mid-test: one probe, its calls going where `calls` points.
// A probe round (Status, then Version) talks to the endpoint its Status call went to, so a swap
// in the middle of a round does not make it name the other call.
let calls: RuntimeCalls = liveCalls;
let round: RuntimeCalls = liveCalls;
/** Status calls the probe made: each is a round of the node status loop. */
let statusCalls = 0;
/** Runtime calls that failed, or answered too late for the probe (it reports those as hung). */
let probeFailures = 0;
const probeTimeoutMs = 2_000;
const counted = <T>(p: Promise<T>): Promise<T> => {
  const started = Date.now();
  return p.then(
    (value) => {
      if (Date.now() - started >= probeTimeoutMs) probeFailures++;
      return value;
    },
    (err: unknown) => {
      probeFailures++;
      throw err;
    },
  );
};
const probe = new RuntimeProbe({
  timeoutMs: probeTimeoutMs,
  calls: {
    get endpoint() {
      return round.endpoint;
    },
    status: (o) => {
      round = calls;
      statusCalls++;
      return counted(round.status(o));
    },
    version: (o) => counted(round.version(o)),
    listImages: (o) => calls.listImages(o),
  },
});
const gatherer = new NodeFactsGatherer({ rootDir: '/var/lib/kubelet', detectHostIPs: true });

const getNode = async (): Promise<Node> => {
  const node = await api.getNode(nodeName, AbortSignal.timeout(10_000));
  if (!node) throw new Error(`node ${nodeName} not found`);
  return node;
};
const ready = (node: Node): NodeCondition | undefined => node.status?.conditions?.find((c) => c.type === 'Ready');

beforeAll(async () => {
  rest = new RestClient(loadKubeconfig(tb.adminKubeconfig));
  api = restNodeApi(rest);
  controller = new NodeController({
    api,
    settings,
    facts: () => gatherer.gather(),
    runtime: (s) => probe.facts(s),
    images: (s) => probe.images(s),
    statusUpdateFrequencyMs: 500,
    leaseRenewIntervalMs: 1_000,
    logger: log,
  });
  void controller.run(stop.signal);
  await controller.ready;
});

afterAll(async () => {
  stop.abort();
  await controller?.done;
  live.close();
  dead.close();
  const del = (path: string) => rest.request('DELETE', path).catch(() => undefined);
  await del(`/apis/coordination.k8s.io/v1/namespaces/${nodeLeaseNamespace}/leases/${nodeName}`);
  await del(`/api/v1/nodes/${nodeName}`);
});

describe('node registration and status', () => {
  it('registers the Node with the usual labels, taints, addresses, resources and nodeInfo, Ready=True', async () => {
    const node = await eventually('a Ready=True node', async () => {
      const n = await getNode();
      return ready(n)?.status === 'True' ? n : undefined;
    });
    const arch = process.arch === 'x64' ? 'amd64' : process.arch;
    expect(node.metadata.labels).toMatchObject({
      'kubernetes.io/hostname': nodeName,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': arch,
      'beta.kubernetes.io/os': 'linux',
      'beta.kubernetes.io/arch': arch,
      'node.kubernetes.io/e2e': suffix,
    });
    expect(node.metadata.annotations?.['volumes.kubernetes.io/controller-managed-attach-detach']).toBe('true');
    expect(node.spec?.taints).toContainEqual({ key: 'tskube.test/e2e', value: suffix, effect: 'NoSchedule' });

    const status = node.status!;
    const internal = status.addresses?.filter((a) => a.type === 'InternalIP') ?? [];
    expect(internal.length).toBe(1);
    expect(isIP(internal[0]!.address)).not.toBe(0);
    expect(status.addresses).toContainEqual({ type: 'Hostname', address: nodeName });

    expect(Object.keys(status.capacity ?? {})).toEqual(expect.arrayContaining(['cpu', 'memory', 'pods', 'ephemeral-storage']));
    expect(status.capacity?.['pods']).toBe('110');
    const facts = await gatherer.gather();
    expect(status.capacity?.['cpu']).toBe(String(facts.cpuCores));
    // 100m of cpu reserved; memory less 256Mi reserved and the 100Mi hard eviction threshold.
    expect(status.allocatable?.['cpu']).toBe(`${facts.cpuCores * 1000 - 100}m`);
    const kib = (q: string | undefined) => (q?.endsWith('Ki') ? Number(q.slice(0, -2)) : q?.endsWith('Mi') ? Number(q.slice(0, -2)) * 1024 : Number(q) / 1024);
    expect(kib(status.capacity?.['memory']) - kib(status.allocatable?.['memory'])).toBe(356 * 1024);

    const version = await live.runtime.call('Version', { version: 'v1' });
    expect(status.nodeInfo?.containerRuntimeVersion).toBe(`${version.runtimeName}://${version.runtimeVersion}`);
    expect(status.nodeInfo?.kubeletVersion).toBe('v1.36.3');
    expect(status.nodeInfo?.machineID).toBe(facts.machineID);
    expect(status.nodeInfo?.bootID).toBe(facts.bootID);
    expect(status.nodeInfo?.kernelVersion).toBe(facts.kernelVersion);
    expect(status.nodeInfo?.osImage).toBe(facts.osImage);
    expect(status.daemonEndpoints?.kubeletEndpoint?.Port).toBe(10250);
    expect(status.images?.some((i) => i.names.some((n) => n.startsWith('registry.k8s.io/pause')))).toBe(true);

    const types = (status.conditions ?? []).map((c) => [c.type, c.status, c.reason]);
    expect(types).toEqual([
      ['MemoryPressure', 'False', 'KubeletHasSufficientMemory'],
      ['DiskPressure', 'False', 'KubeletHasNoDiskPressure'],
      ['PIDPressure', 'False', 'KubeletHasSufficientPID'],
      ['Ready', 'True', 'KubeletReady'],
    ]);
  });

  it('does not patch a status that did not change (only heartbeat times would)', async () => {
    // After the first report (always sent: nothing was reported yet), rounds at 500 ms.
    await controller.status.ready;
    // A window of four status rounds (the positive sign the loop looked: each round starts with a
    // Status call) in which every runtime call answered and the node was Ready at both ends; a
    // loaded machine may time a call out, and that failure (or the recovery from one before the
    // window) is a change worth reporting, so such a window is not judged and another is taken.
    for (let window = 0; ; window++) {
      const [seenCalls, seenFailures] = [statusCalls, probeFailures];
      const before = await getNode();
      await eventually('four more status rounds', () => (statusCalls >= seenCalls + 4 ? true : undefined), 30_000, 100);
      const after = await getNode();
      const quiet = probeFailures === seenFailures && ready(before)?.status === 'True' && ready(after)?.status === 'True';
      if (!quiet && window < 5) continue;
      // Controllers write the Node meanwhile (podCIDR, the not-ready taint), so compare the
      // status: a patch would at least have moved the heartbeat times.
      expect(after.status).toEqual(before.status);
      expect(ready(after)?.lastHeartbeatTime).toBe(ready(before)?.lastHeartbeatTime);
      break;
    }
  });

  it('keeps the Lease, owned by the Node, renewed every interval', async () => {
    const node = await getNode();
    const first = await eventually('the lease with its owner reference', async () => {
      const l = await api.getLease(nodeLeaseNamespace, nodeName, AbortSignal.timeout(10_000));
      return l?.metadata.ownerReferences?.length ? l : undefined;
    });
    expect(first.spec?.holderIdentity).toBe(nodeName);
    expect(first.spec?.leaseDurationSeconds).toBe(40);
    expect(first.spec?.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(first.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: node.metadata.uid }]);
    const later = await eventually('a later renewTime', async () => {
      const l = await api.getLease(nodeLeaseNamespace, nodeName, AbortSignal.timeout(10_000));
      return l?.spec?.renewTime && l.spec.renewTime > (first.spec?.renewTime ?? '') ? l : undefined;
    });
    expect(Date.parse(later.spec!.renewTime!)).toBeGreaterThan(Date.parse(first.spec!.renewTime!));
  });

  it('turns Ready False naming the CRI call when the runtime is unreachable, and True again when it is back', async () => {
    const before = ready(await getNode());
    calls = deadCalls;
    const notReady = await eventually('Ready=False', async () => {
      const c = ready(await getNode());
      return c?.status === 'False' ? c : undefined;
    });
    expect(notReady.reason).toBe('KubeletNotReady');
    expect(notReady.message).toContain(`container runtime is down: Status call to ${deadEndpoint} failed after`);
    expect(notReady.message).toMatch(/failed after \d+\.\ds: unavailable: /);
    expect(Date.parse(notReady.lastTransitionTime!)).toBeGreaterThanOrEqual(Date.parse(before!.lastTransitionTime!));
    // nodeInfo keeps the version last heard while the runtime is away.
    expect((await getNode()).status?.nodeInfo?.containerRuntimeVersion).toMatch(/^containerd:\/\//);

    calls = liveCalls;
    const back = await eventually('Ready=True again', async () => {
      const c = ready(await getNode());
      return c?.status === 'True' ? c : undefined;
    });
    expect(back.reason).toBe('KubeletReady');
    expect(back.message).toBe('kubelet is posting ready status');
    expect(Date.parse(back.lastTransitionTime!)).toBeGreaterThanOrEqual(Date.parse(notReady.lastTransitionTime!));
  });

  it('keeps conditions other components own when it patches its own', async () => {
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    await api.patchNodeStatus(
      nodeName,
      {
        status: {
          conditions: [
            {
              type: 'NetworkUnavailable',
              status: 'False',
              reason: 'RouteCreated',
              message: 'set by the e2e test',
              lastTransitionTime: now,
              lastHeartbeatTime: now,
            },
          ],
        },
      },
      AbortSignal.timeout(10_000),
    );
    // Force a change the reporter must patch: the runtime away, then back.
    calls = deadCalls;
    await eventually('Ready=False', async () => (ready(await getNode())?.status === 'False' ? true : undefined));
    calls = liveCalls;
    const node = await eventually('Ready=True', async () => {
      const n = await getNode();
      return ready(n)?.status === 'True' ? n : undefined;
    });
    expect(node.status?.conditions?.find((c) => c.type === 'NetworkUnavailable')).toMatchObject({ status: 'False', reason: 'RouteCreated' });
    expect(node.status?.conditions?.filter((c) => c.type === 'Ready').length).toBe(1);
  });

  it('re-registration puts back the labels and annotation the kubelet owns, and leaves the rest', async () => {
    await api.patchNode(
      nodeName,
      {
        metadata: {
          labels: { 'kubernetes.io/arch': 'wrong', 'node.kubernetes.io/e2e': 'changed-by-admin' },
          annotations: { 'volumes.kubernetes.io/controller-managed-attach-detach': null },
        },
        spec: { taints: null },
      },
      AbortSignal.timeout(10_000),
    );
    const facts = await gatherer.gather();
    const node = await registerNode({ api, buildNode: async () => buildNode(facts, settings), logger: log }, AbortSignal.timeout(30_000));
    expect(node.metadata.labels?.['kubernetes.io/arch']).toBe(facts.architecture);
    expect(node.metadata.labels?.['node.kubernetes.io/e2e']).toBe('changed-by-admin');
    expect(node.metadata.annotations?.['volumes.kubernetes.io/controller-managed-attach-detach']).toBe('true');
    // The admin removed the registration taint; upstream does not put it back.
    expect(node.spec?.taints ?? []).not.toContainEqual(expect.objectContaining({ key: 'tskube.test/e2e' }));
  });
});

describe('wired from the kubelet options', () => {
  it('registers and reports Ready from flags alone (nodeControllerFromOptions)', async () => {
    const name = `tskube-node-opts-${suffix}`;
    const { options } = await resolveKubeletOptions(
      [
        '--hostname-override',
        name,
        '--kubeconfig',
        tb.adminKubeconfig,
        '--node-labels',
        `node.kubernetes.io/e2e=${suffix}`,
        '--register-with-taints',
        'tskube.test/opts=yes:NoExecute',
      ],
      { hostname: 'ignored' },
    );
    const cri = new CriClient({ endpoint: options.config.containerRuntimeEndpoint, timeoutMs: 5_000 });
    const c = nodeControllerFromOptions(options, { kubeConfig: loadKubeconfig(tb.adminKubeconfig), cri, kubeletVersion: 'v1.36.3', logger: log });
    const stopIt = new AbortController();
    const running = c.run(stopIt.signal);
    try {
      const registered = await c.ready;
      expect(registered?.metadata.name).toBe(name);
      const node = await eventually('the node Ready', async () => {
        const n = await api.getNode(name, AbortSignal.timeout(10_000));
        return n && ready(n)?.status === 'True' ? n : undefined;
      });
      expect(node.metadata.labels?.['node.kubernetes.io/e2e']).toBe(suffix);
      expect(node.spec?.taints).toContainEqual({ key: 'tskube.test/opts', value: 'yes', effect: 'NoExecute' });
      expect(node.status?.capacity?.['pods']).toBe('110');
      await c.lease.ready;
      const lease = await api.getLease(nodeLeaseNamespace, name, AbortSignal.timeout(10_000));
      expect(lease?.spec).toMatchObject({ holderIdentity: name, leaseDurationSeconds: 40 });
    } finally {
      stopIt.abort();
      await running;
      cri.close();
      await rest.request('DELETE', `/apis/coordination.k8s.io/v1/namespaces/${nodeLeaseNamespace}/leases/${name}`).catch(() => undefined);
      await rest.request('DELETE', `/api/v1/nodes/${name}`).catch(() => undefined);
    }
    expect(c.err).toBeUndefined();
  });

  it('takes the cgroup driver from the config when containerd 1.6 does not implement RuntimeConfig', async () => {
    const answer = await queryRuntimeCgroupDriver(live, { timeoutMs: 5_000 });
    expect(answer).toEqual({ kind: 'unimplemented' });
    expect(decideCgroupDriver(answer, 'systemd', live.endpoint)).toEqual({ ok: true, driver: 'systemd', source: 'config' });
  });
});
