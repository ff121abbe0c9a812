// The node loops against an in-memory apiserver model: the lease is created, owned and
// renewed, survives an apiserver that goes away and a conflicting writer; status is
// patched only when due and Ready follows the runtime; registration retries; one log
// line per state change.
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { TskubeError } from '../../src/common/errors.js';
import { KubeApiError } from '../../src/kube/api-error.js';
import { buildNode } from '../../src/kubelet/node/build-node.js';
import type { NodeApi } from '../../src/kubelet/node/node-api.js';
import type { NodeFacts, RuntimeFacts } from '../../src/kubelet/node/node-facts.js';
import { NodeLease } from '../../src/kubelet/node/node-lease.js';
import { registerNode } from '../../src/kubelet/node/node-registration.js';
import type { NodeSettings } from '../../src/kubelet/node/node-settings.js';
import { NodeStatusReporter } from '../../src/kubelet/node/node-status.js';
import type { Lease, Node, NodeCondition, NodeStatus } from '../../src/kubelet/node/node-wire.js';
import { RuntimeProbe, type RuntimeCalls } from '../../src/kubelet/node/runtime-facts.js';

const clone = <T>(v: T): T => structuredClone(v);

/** An in-memory apiserver for Nodes and Leases: resourceVersions, conflicts, AlreadyExists, outages. */
class FakeApi implements NodeApi {
  readonly nodes = new Map<string, Node>();
  readonly leases = new Map<string, Lease>();
  readonly calls: string[] = [];
  down = false;
  #rv = 0;

  #enter(op: string): void {
    this.calls.push(op);
    if (this.down) throw new TskubeError('unavailable', `${op}: connect ECONNREFUSED 127.0.0.1:6443`);
  }
  #stamp<T extends { metadata: { resourceVersion?: string; uid?: string } }>(o: T): T {
    o.metadata.resourceVersion = String(++this.#rv);
    o.metadata.uid ??= `uid-${this.#rv}`;
    return o;
  }

  async createNode(node: Node) {
    this.#enter('createNode');
    const name = node.metadata.name ?? '';
    if (this.nodes.has(name)) throw new KubeApiError(409, 'AlreadyExists', `nodes "${name}" already exists`);
    this.nodes.set(name, this.#stamp(clone(node)));
    return clone(this.nodes.get(name)!);
  }
  async getNode(name: string) {
    this.#enter('getNode');
    const n = this.nodes.get(name);
    return n ? clone(n) : undefined;
  }
  async patchNode(name: string, patch: object) {
    this.#enter('patchNode');
    const n = this.nodes.get(name);
    if (!n) throw new KubeApiError(404, 'NotFound', `nodes "${name}" not found`);
    const p = patch as { metadata?: { labels?: Record<string, string | null>; annotations?: Record<string, string | null> } };
    for (const field of ['labels', 'annotations'] as const) {
      n.metadata[field] ??= {};
      const target: Record<string, string> = n.metadata[field];
      for (const [k, v] of Object.entries(p.metadata?.[field] ?? {})) {
        if (v === null) delete target[k];
        else target[k] = v;
      }
    }
    return clone(this.#stamp(n));
  }
  async patchNodeStatus(name: string, patch: object) {
    this.#enter('patchNodeStatus');
    const n = this.nodes.get(name);
    if (!n) throw new KubeApiError(404, 'NotFound', `nodes "${name}" not found`);
    const s = (patch as { status: NodeStatus }).status;
    n.status ??= {};
    const status: NodeStatus = n.status;
    for (const [k, v] of Object.entries(s)) {
      if (k === 'conditions') {
        status.conditions ??= [];
        const list: NodeCondition[] = status.conditions;
        for (const c of v as NodeCondition[]) {
          const i = list.findIndex((x) => x.type === c.type);
          if (i >= 0) list[i] = c;
          else list.push(c);
        }
      } else if (k === 'addresses') {
        status.addresses = (v as { $patch?: string }[]).filter((a) => a.$patch === undefined) as NodeStatus['addresses'];
      } else {
        status[k] = v;
      }
    }
    return clone(this.#stamp(n));
  }
  async getLease(ns: string, name: string) {
    this.#enter('getLease');
    const l = this.leases.get(`${ns}/${name}`);
    return l ? clone(l) : undefined;
  }
  async createLease(lease: Lease) {
    this.#enter('createLease');
    const key = `${lease.metadata.namespace}/${lease.metadata.name}`;
    if (this.leases.has(key)) throw new KubeApiError(409, 'AlreadyExists', `leases "${lease.metadata.name}" already exists`);
    this.leases.set(key, this.#stamp(clone(lease)));
    return clone(this.leases.get(key)!);
  }
  async updateLease(lease: Lease) {
    this.#enter('updateLease');
    const key = `${lease.metadata.namespace}/${lease.metadata.name}`;
    const have = this.leases.get(key);
    if (!have) throw new KubeApiError(404, 'NotFound', `leases "${lease.metadata.name}" not found`);
    if (have.metadata.resourceVersion !== lease.metadata.resourceVersion) {
      throw new KubeApiError(409, 'Conflict', 'the object has been modified; please apply your changes to the latest version and try again');
    }
    this.leases.set(key, this.#stamp(clone(lease)));
    return clone(this.leases.get(key)!);
  }
}

function capture() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines, msgs: () => lines.map((l) => l.msg) };
}

const until = async (what: string, ok: () => boolean, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

const facts: NodeFacts = {
  hostname: 'vm',
  kernelVersion: '6.1.0',
  osImage: 'Debian GNU/Linux 12 (bookworm)',
  architecture: 'amd64',
  operatingSystem: 'linux',
  machineID: 'm',
  systemUUID: 'u',
  bootID: 'b',
  hostIPs: ['192.0.2.2'],
  cpuCores: 2,
  memoryBytes: 8 * 2 ** 30,
  memoryAvailableBytes: 6 * 2 ** 30,
  rootfsBytes: 100 * 2 ** 30,
  rootfsAvailableBytes: 50 * 2 ** 30,
  pidsInUse: 100,
  pidMax: 32768,
};
const settings: NodeSettings = {
  nodeName: 'node-1',
  nodeIPs: [],
  kubeletVersion: 'v1.36.3',
  kubeletPort: 10250,
  maxPods: 110,
  labels: {},
  taints: [],
  providerID: '',
  reserved: { cpuMillis: 0, memoryBytes: 0, ephemeralBytes: 0 },
  evictionHard: {},
  maxImages: 50,
};
const runtimeUp: RuntimeFacts = {
  runtimeVersion: 'containerd://1.6.20',
  runtimeReady: { ok: true, reason: '', message: '' },
  networkReady: { ok: true, reason: '', message: '' },
};
const runtimeDown: RuntimeFacts = {
  ...runtimeUp,
  unreachable: 'Status call to unix:///dead.sock failed after 0.0s: unavailable: no',
  runtimeReady: { ok: false, reason: 'RuntimeUnreachable', message: 'x' },
  networkReady: { ok: false, reason: 'RuntimeUnreachable', message: 'x' },
};

describe('NodeLease', () => {
  it('creates the lease, adds the owner once the Node exists, and renews it', async () => {
    const api = new FakeApi();
    const { logger, msgs } = capture();
    const lease = new NodeLease({ api, nodeName: 'node-1', logger, renewIntervalMs: 20 });
    expect(lease.renewIntervalMs).toBe(20);
    const stop = new AbortController();
    const running = lease.run(stop.signal);
    await lease.ready;
    const created = api.leases.get('kube-node-lease/node-1')!;
    expect(created.spec).toMatchObject({ holderIdentity: 'node-1', leaseDurationSeconds: 40 });
    expect(created.metadata.ownerReferences).toBeUndefined();

    await api.createNode(buildNode(facts, settings));
    await until('the owner reference', () => (api.leases.get('kube-node-lease/node-1')?.metadata.ownerReferences?.length ?? 0) > 0);
    const uid = api.nodes.get('node-1')!.metadata.uid;
    expect(api.leases.get('kube-node-lease/node-1')!.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Node', name: 'node-1', uid }]);

    const rv = Number(api.leases.get('kube-node-lease/node-1')!.metadata.resourceVersion);
    await until('two more renewals', () => Number(api.leases.get('kube-node-lease/node-1')!.metadata.resourceVersion) >= rv + 2);
    stop.abort();
    await running;
    expect(msgs()).toEqual(['created node lease']);
    // Renewals go straight to PUT from the last lease written; no GET per heartbeat.
    const afterOwner = api.calls.slice(api.calls.lastIndexOf('getNode') + 1);
    expect(afterOwner.filter((c) => c === 'getLease')).toEqual([]);
  });

  it('keeps trying while the apiserver is away and renews as soon as it is back, logging once each way', async () => {
    const api = new FakeApi();
    const { logger, lines, msgs } = capture();
    const lease = new NodeLease({ api, nodeName: 'node-1', logger, renewIntervalMs: 10, random: () => 0 });
    const stop = new AbortController();
    const running = lease.run(stop.signal);
    await lease.ready;
    api.down = true;
    const failedBefore = api.calls.length;
    await until('several failed attempts', () => api.calls.length > failedBefore + 4);
    const renewTime = api.leases.get('kube-node-lease/node-1')!.spec!.renewTime;
    api.down = false;
    await until('a renewal after the outage', () => api.leases.get('kube-node-lease/node-1')!.spec!.renewTime !== renewTime);
    stop.abort();
    await running;
    expect(msgs()).toEqual(['created node lease', 'node lease: renewing the lease failed; backing off and retrying', 'node lease renewal recovered']);
    expect(lines[1]?.['err']).toContain('ECONNREFUSED');
  });

  it('reads the lease again after a conflicting write, and renews that one', async () => {
    const api = new FakeApi();
    const { logger } = capture();
    const lease = new NodeLease({ api, nodeName: 'node-1', logger, renewIntervalMs: 10 });
    const stop = new AbortController();
    await lease.sync(stop.signal);
    // Someone else writes the lease: our cached copy is stale.
    const theirs = api.leases.get('kube-node-lease/node-1')!;
    await api.updateLease({ ...clone(theirs), spec: { ...theirs.spec, holderIdentity: 'someone-else' } });
    await lease.sync(stop.signal);
    const now = api.leases.get('kube-node-lease/node-1')!;
    expect(now.spec?.holderIdentity).toBe('node-1');
    expect(api.calls.slice(-4)).toEqual(['updateLease', 'getLease', 'getNode', 'updateLease']);
  });
});

describe('NodeStatusReporter', () => {
  async function setup(reportFrequencyMs = 300_000) {
    const api = new FakeApi();
    await api.createNode(buildNode(facts, settings));
    const { logger, msgs } = capture();
    let runtime = runtimeUp;
    let now = new Date('2026-11-23T09:00:00Z');
    const reporter = new NodeStatusReporter({
      api,
      settings,
      facts: async () => facts,
      runtime: async () => runtime,
      images: async () => [{ names: ['registry.k8s.io/pause:3.10'], sizeBytes: 300_000 }],
      reportFrequencyMs,
      updateFrequencyMs: 10,
      logger,
      now: () => now,
    });
    return {
      api,
      reporter,
      msgs,
      setRuntime: (r: RuntimeFacts) => (runtime = r),
      tick: (ms: number) => (now = new Date(now.getTime() + ms)),
      ready: () => api.nodes.get('node-1')!.status?.conditions?.find((c) => c.type === 'Ready'),
    };
  }
  const signal = new AbortController().signal;

  it('patches the first status, then only on change or when the report frequency has passed', async () => {
    const t = await setup(60_000);
    expect(await t.reporter.sync(signal)).toBe('patched');
    expect(t.ready()).toMatchObject({ status: 'True', reason: 'KubeletReady', lastHeartbeatTime: '2026-11-23T09:00:00Z' });
    t.tick(10_000);
    expect(await t.reporter.sync(signal)).toBe('unchanged');
    t.tick(50_000);
    expect(await t.reporter.sync(signal)).toBe('patched');
    expect(t.ready()?.lastHeartbeatTime).toBe('2026-11-23T09:01:00Z');
    expect(t.ready()?.lastTransitionTime).toBe('2026-11-23T09:00:00Z');
  });

  it('turns Ready False with the runtime problem at the next check, and True when it is back, one log line each', async () => {
    const t = await setup();
    await t.reporter.sync(signal);
    t.setRuntime(runtimeDown);
    t.tick(10_000);
    expect(await t.reporter.sync(signal)).toBe('patched');
    expect(t.ready()).toMatchObject({
      status: 'False',
      reason: 'KubeletNotReady',
      message: 'container runtime is down: Status call to unix:///dead.sock failed after 0.0s: unavailable: no',
      lastTransitionTime: '2026-11-23T09:00:10Z',
    });
    t.tick(10_000);
    expect(await t.reporter.sync(signal)).toBe('unchanged');
    t.setRuntime(runtimeUp);
    t.tick(10_000);
    expect(await t.reporter.sync(signal)).toBe('patched');
    expect(t.ready()).toMatchObject({ status: 'True', lastTransitionTime: '2026-11-23T09:00:30Z' });
    expect(t.msgs()).toEqual(['node is ready', 'node became not ready', 'node became ready']);
  });

  it('keeps reporting through an apiserver outage, with one line when it fails and one when it recovers', async () => {
    const t = await setup();
    const stop = new AbortController();
    const running = t.reporter.run(stop.signal);
    await t.reporter.ready;
    t.api.down = true;
    t.setRuntime(runtimeDown);
    const n = t.api.calls.length;
    await until('failed rounds', () => t.api.calls.length > n + 3);
    t.api.down = false;
    await until('Ready=False reported', () => t.ready()?.status === 'False', 10_000);
    stop.abort();
    await running;
    expect(t.msgs()).toEqual(['node is ready', 'unable to update node status; retrying', 'node became not ready', 'node status reporting recovered']);
  });

  it('fails a round clearly when the Node is gone', async () => {
    const t = await setup();
    t.api.nodes.clear();
    await expect(t.reporter.sync(signal)).rejects.toThrow(/node node-1 does not exist on the apiserver/);
  });
});

describe('registerNode', () => {
  it('retries until the apiserver answers, with one log line for the failure', async () => {
    const api = new FakeApi();
    api.down = true;
    const { logger, msgs } = capture();
    setTimeout(() => (api.down = false), 150);
    const node = await registerNode({ api, buildNode: async () => buildNode(facts, settings), logger, random: () => 0 }, AbortSignal.timeout(5_000));
    expect(node.metadata.uid).toBeDefined();
    expect(api.calls.filter((c) => c === 'createNode').length).toBeGreaterThan(1);
    expect(msgs()).toEqual(['attempting to register node', 'unable to register node; retrying', 'successfully registered node']);
  });

  it('reconciles an existing Node instead of failing on AlreadyExists', async () => {
    const api = new FakeApi();
    const wanted = buildNode(facts, settings);
    await api.createNode({ ...wanted, metadata: { ...wanted.metadata, labels: { 'kubernetes.io/arch': 'arm64', mine: 'x' }, annotations: {} } });
    const { logger } = capture();
    const node = await registerNode({ api, buildNode: async () => wanted, logger }, AbortSignal.timeout(5_000));
    expect(node.metadata.labels).toMatchObject({ 'kubernetes.io/arch': 'amd64', 'kubernetes.io/hostname': 'node-1', mine: 'x' });
    expect(node.metadata.annotations).toEqual({ 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' });
  });

  it('stops with canceled when the signal aborts first', async () => {
    const api = new FakeApi();
    api.down = true;
    const { logger } = capture();
    await expect(registerNode({ api, buildNode: async () => buildNode(facts, settings), logger }, AbortSignal.timeout(100))).rejects.toMatchObject({
      code: 'canceled',
    });
  });
});

describe('RuntimeProbe', () => {
  const calls = (over: Partial<RuntimeCalls>): RuntimeCalls => ({
    endpoint: 'unix:///run/containerd/containerd.sock',
    version: async () => ({ runtimeName: 'containerd', runtimeVersion: '1.6.20~ds1' }),
    status: async () => ({
      conditions: [
        { type: 'RuntimeReady', status: true, reason: '', message: '' },
        { type: 'NetworkReady', status: true, reason: '', message: '' },
      ],
    }),
    listImages: async () => [{ names: ['a'], sizeBytes: 1 }],
    ...over,
  });

  it('reports the version and the conditions when the runtime answers', async () => {
    const probe = new RuntimeProbe({ calls: calls({}) });
    expect(await probe.facts(AbortSignal.timeout(1000))).toEqual({ ...runtimeUp, runtimeVersion: 'containerd://1.6.20~ds1' });
  });

  it('names a hung Status call and keeps the last version and images', async () => {
    let hang = false;
    let listFails = false;
    const probe = new RuntimeProbe({
      timeoutMs: 50,
      calls: calls({
        status: async (o) => {
          if (!hang) return { conditions: [] };
          await new Promise((r) => setTimeout(r, o.timeoutMs));
          throw new TskubeError('deadline-exceeded', 'Status: the runtime did not answer within 50 ms');
        },
        listImages: async () => {
          if (listFails) throw new TskubeError('unavailable', 'down');
          return [{ names: ['a'], sizeBytes: 1 }];
        },
      }),
    });
    await probe.facts(AbortSignal.timeout(1000));
    await probe.images(AbortSignal.timeout(1000));
    hang = true;
    listFails = true;
    const f = await probe.facts(AbortSignal.timeout(1000));
    expect(f.unreachable).toMatch(/^Status call to unix:\/\/\/run\/containerd\/containerd.sock hung: no answer within 0\.\ds$/);
    expect(f.runtimeVersion).toBe('containerd://1.6.20~ds1');
    expect(await probe.images(AbortSignal.timeout(1000))).toEqual([{ names: ['a'], sizeBytes: 1 }]);
  });
});
