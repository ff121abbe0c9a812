// The reflector against the real apiserver: events arrive, a cut watch resumes from
// its resourceVersion without a relist, a 410 from the server causes a relist whose
// synthesized deletes match what vanished, and a field selector limits what is seen.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pino } from 'pino';
import type { CoreV1Event, V1ConfigMap, V1Pod } from '@kubernetes/client-node';
import { loadKubeconfig } from '../../src/kube/kubeconfig.js';
import { restListerWatcher, type ListerWatcher, type WatchOptions } from '../../src/kube/list-watch.js';
import { Reflector, reflectorFor } from '../../src/kube/reflector.js';
import { RestClient } from '../../src/kube/rest-client.js';
import { readState } from '../testbed/state.js';

const tb = inject('testbed');
const log = pino({ level: process.env['TSKUBE_TEST_LOG'] ?? 'silent' });
const ns = `kube-reflector-${randomBytes(3).toString('hex')}`;
let rest: RestClient;

async function eventually<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Wraps the real ListerWatcher so a test can cut the open watch and hold the next
// one while it changes things behind the reflector's back.
class ControlledListerWatcher<T> implements ListerWatcher<T> {
  lists = 0;
  readonly watches: WatchOptions[] = [];
  #current: AbortController | undefined;
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;

  readonly #inner: ListerWatcher<T>;
  constructor(inner: ListerWatcher<T>) {
    this.#inner = inner;
  }

  list(...args: Parameters<ListerWatcher<T>['list']>) {
    this.lists++;
    return this.#inner.list(...args);
  }

  async *watch(opts: WatchOptions, signal: AbortSignal) {
    while (this.#gate) await this.#gate;
    this.watches.push(opts);
    const cut = new AbortController();
    this.#current = cut;
    yield* this.#inner.watch(opts, AbortSignal.any([signal, cut.signal]));
  }

  /** Close the open watch as a dropped connection would, and hold the next one. */
  cutAndHold(): void {
    this.#gate = new Promise((r) => (this.#open = r));
    this.#current?.abort();
  }

  release(): void {
    const open = this.#open;
    this.#gate = undefined;
    open?.();
  }
}

// Compacts the testbed's etcd up to its current revision through etcd's own JSON
// gateway, as the apiserver's periodic compaction would: older resourceVersions are gone.
async function compactEtcd(): Promise<void> {
  const { ports } = await readState(tb.dir);
  const etcd = `http://127.0.0.1:${ports.etcdClient}`;
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${etcd}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`etcd ${path}: HTTP ${res.status}: ${await res.text()}`);
    return (await res.json()) as { header?: { revision?: string } };
  };
  const { header } = await post('/v3/kv/range', { key: Buffer.from('/').toString('base64') });
  await post('/v3/kv/compaction', { revision: header?.revision, physical: true });
}

function configMap(name: string, value: string): V1ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels: { test: 'reflector' } }, data: { value } };
}

beforeAll(async () => {
  rest = new RestClient(loadKubeconfig(tb.adminKubeconfig));
  await rest.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } });
  // Pods are admitted only once the namespace's default ServiceAccount exists.
  const deadline = Date.now() + 30_000;
  while (
    !(await rest.request('GET', `/api/v1/namespaces/${ns}/serviceaccounts/default`).then(
      () => true,
      () => false,
    ))
  ) {
    if (Date.now() > deadline) throw new Error(`no default ServiceAccount in ${ns}`);
    await new Promise((r) => setTimeout(r, 200));
  }
});

afterAll(async () => {
  await rest.request('DELETE', `/api/v1/namespaces/${ns}`).catch(() => {});
});

describe('reflector', () => {
  it('sees add, update and delete, and resumes a cut watch without relisting', async () => {
    const cms = `/api/v1/namespaces/${ns}/configmaps`;
    await rest.request('POST', cms, { body: configMap('a', '1') });
    await rest.request('POST', cms, { body: configMap('b', '1') });

    // The label selector leaves out the namespace's own kube-root-ca.crt.
    const lw = new ControlledListerWatcher(restListerWatcher<V1ConfigMap>(rest, cms, { labelSelector: 'test=reflector' }));
    const seen: string[] = [];
    let synced = 0;
    const reflector = new Reflector<V1ConfigMap>({
      name: 'configmaps',
      listerWatcher: lw,
      logger: log,
      handler: {
        onAdd: (o) => seen.push(`add ${o.metadata?.name}`),
        onUpdate: (_old, o) => seen.push(`update ${o.metadata?.name}=${o.data?.['value']}`),
        onDelete: (o) => seen.push(`delete ${o.metadata?.name}`),
        onSynced: () => synced++,
      },
    });
    const stop = new AbortController();
    const running = reflector.run(stop.signal);
    try {
      await reflector.ready;
      expect(synced).toBe(1);
      expect(seen.sort()).toEqual(['add a', 'add b']);
      expect(reflector.store.keys().sort()).toEqual([`${ns}/a`, `${ns}/b`]);
      seen.length = 0;

      // Live events through the watch.
      await eventually('a watch to be open', () => lw.watches.length === 1);
      await rest.request('PATCH', `${cms}/a`, { body: { data: { value: '2' } }, contentType: 'application/merge-patch+json' });
      await rest.request('POST', cms, { body: configMap('c', '1') });
      await rest.request('DELETE', `${cms}/b`);
      await eventually('update, add and delete', () => seen.length >= 3);
      expect(seen).toEqual(['update a=2', 'add c', 'delete b']);
      expect(reflector.store.get(`${ns}/a`)?.data?.['value']).toBe('2');
      seen.length = 0;

      // Cut the connection; change things while no watch is open; the next watch resumes
      // from the last resourceVersion and replays what was missed, without a list.
      const rvAtCut = reflector.resourceVersion;
      lw.cutAndHold();
      await rest.request('POST', cms, { body: configMap('d', '1') });
      await rest.request('DELETE', `${cms}/c`);
      lw.release();
      await eventually('the missed add and delete', () => seen.length >= 2);
      expect(seen).toEqual(['add d', 'delete c']);
      expect(lw.lists).toBe(1);
      expect(lw.watches[1]?.resourceVersion).toBe(rvAtCut);
      seen.length = 0;
    } finally {
      stop.abort();
      await running;
    }
  });

  // Events, because the apiserver keeps no watch cache for them: a watch reads etcd, so
  // once etcd is compacted past the reflector's position the server answers 410.
  it('relists after a 410 for a compacted resourceVersion, synthesizing the deletes it missed', async () => {
    const evs = `/api/v1/namespaces/${ns}/events`;
    const event = (name: string) => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: ns },
      involvedObject: { kind: 'ConfigMap', namespace: ns, name: 'a', apiVersion: 'v1' },
      reason: 'Test',
      message: name,
      type: 'Normal',
    });
    await rest.request('POST', evs, { body: event('a') });
    await rest.request('POST', evs, { body: event('b') });
    const lw = new ControlledListerWatcher(restListerWatcher<CoreV1Event>(rest, evs));
    const seen: string[] = [];
    let synced = 0;
    const reflector = new Reflector<CoreV1Event>({
      name: 'events',
      listerWatcher: lw,
      logger: log,
      handler: {
        onAdd: (o) => seen.push(`add ${o.metadata.name}`),
        onUpdate: (_old, o) => seen.push(`update ${o.metadata.name}`),
        onDelete: (o) => seen.push(`delete ${o.metadata.name}`),
        onSynced: () => synced++,
      },
    });
    const stop = new AbortController();
    const running = reflector.run(stop.signal);
    try {
      await reflector.ready;
      await eventually('a watch to be open', () => lw.watches.length === 1);
      expect(seen.sort()).toEqual(['add a', 'add b']);
      seen.length = 0;

      const rvAtCut = reflector.resourceVersion;
      lw.cutAndHold();
      await rest.request('DELETE', `${evs}/a`);
      await rest.request('POST', evs, { body: event('c') });
      await compactEtcd();
      lw.release();
      await eventually('a relist', () => synced === 2);
      // It did try to resume from where it was, and the server said 410.
      expect(lw.watches[1]?.resourceVersion).toBe(rvAtCut);
      expect(lw.lists).toBe(2);
      expect(seen.sort()).toEqual(['add c', 'delete a']);
      expect(reflector.store.keys().sort()).toEqual([`${ns}/b`, `${ns}/c`]);

      // And it watches again from the new list.
      seen.length = 0;
      await rest.request('POST', evs, { body: event('d') });
      await eventually('an add after the relist', () => seen.length >= 1);
      expect(seen).toEqual(['add d']);
    } finally {
      stop.abort();
      await running;
    }
  });

  it('sees only the pods the field selector spec.nodeName picks', async () => {
    const node = `reflector-node-${randomBytes(3).toString('hex')}`;
    const pod = (name: string, nodeName: string): V1Pod => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: ns },
      spec: { nodeName, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] },
    });
    const pods = `/api/v1/namespaces/${ns}/pods`;
    await rest.request('POST', pods, { body: pod('mine-1', node) });
    await rest.request('POST', pods, { body: pod('other-1', `${node}-other`) });

    const reflector = reflectorFor<V1Pod>(rest, '/api/v1/pods', { fieldSelector: `spec.nodeName=${node}`, logger: log });
    const stop = new AbortController();
    const running = reflector.run(stop.signal);
    try {
      await reflector.ready;
      expect(reflector.store.keys()).toEqual([`${ns}/mine-1`]);
      await rest.request('POST', pods, { body: pod('other-2', `${node}-other`) });
      await rest.request('POST', pods, { body: pod('mine-2', node) });
      await eventually('mine-2', () => reflector.store.get(`${ns}/mine-2`));
      expect(reflector.store.keys().sort()).toEqual([`${ns}/mine-1`, `${ns}/mine-2`]);
    } finally {
      stop.abort();
      await running;
      for (const name of ['mine-1', 'mine-2', 'other-1', 'other-2']) {
        await rest.request('DELETE', `${pods}/${name}`, { query: { gracePeriodSeconds: 0 } }).catch(() => {});
      }
    }
  });
});
