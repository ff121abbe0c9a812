// The event recorder against the real apiserver: repeats aggregate into one Event with
// a count, as `kubectl describe` shows them; an unreachable API drops events with one
// log line and never blocks the caller.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoreV1Event } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EventRecorder } from '../../src/kube/event-recorder.js';
import { loadKubeconfig } from '../../src/kube/kubeconfig.js';
import { RestClient } from '../../src/kube/rest-client.js';

const tb = inject('testbed');
const ns = `kube-events-${randomBytes(3).toString('hex')}`;
let rest: RestClient;

beforeAll(async () => {
  rest = new RestClient(loadKubeconfig(tb.adminKubeconfig));
  await rest.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } });
});

afterAll(async () => {
  await rest.request('DELETE', `/api/v1/namespaces/${ns}`).catch(() => {});
});

describe('event recorder', () => {
  it('aggregates two identical events into one Event with count 2; a different message is its own Event', async () => {
    const cm = await rest.request<{ metadata: { uid: string } }>('POST', `/api/v1/namespaces/${ns}/configmaps`, {
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'target' } },
    });
    const recorder = new EventRecorder({ rest, component: 'kubelet', host: 'node-e2e', logger: pino({ level: 'silent' }) });
    const stop = new AbortController();
    const running = recorder.run(stop.signal);
    try {
      const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'target', uid: cm.metadata.uid };
      recorder.warning(ref, 'BackOff', 'Back-off restarting failed container');
      recorder.warning(ref, 'BackOff', 'Back-off restarting failed container');
      recorder.normal(ref, 'Pulled', 'Successfully pulled image');
      await recorder.flush();

      const list = await rest.request<{ items: CoreV1Event[] }>('GET', `/api/v1/namespaces/${ns}/events`, {
        query: { fieldSelector: `involvedObject.uid=${cm.metadata.uid}` },
      });
      const byReason = Object.fromEntries(list.items.map((e) => [e.reason, e]));
      expect(list.items).toHaveLength(2);
      expect(byReason['BackOff']).toMatchObject({
        type: 'Warning',
        count: 2,
        message: 'Back-off restarting failed container',
        source: { component: 'kubelet', host: 'node-e2e' },
        reportingComponent: 'kubelet',
        reportingInstance: 'node-e2e',
        involvedObject: { kind: 'ConfigMap', name: 'target', namespace: ns, uid: cm.metadata.uid },
      });
      expect(byReason['Pulled']).toMatchObject({ type: 'Normal', count: 1 });
    } finally {
      stop.abort();
      await running;
    }
  });

  it('drops events with one log line while the API is unreachable, without blocking the caller', async () => {
    // A kubeconfig whose server is a port nobody listens on.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const dir = await mkdtemp(join(tmpdir(), 'tskube-e2e-events-'));
    try {
      const file = join(dir, 'dead.kubeconfig');
      await writeFile(file, (await readFile(tb.adminKubeconfig, 'utf8')).replace(tb.apiserverUrl, `https://127.0.0.1:${port}`));
      const lines: string[] = [];
      const recorder = new EventRecorder({
        rest: new RestClient(loadKubeconfig(file)),
        component: 'kubelet',
        host: 'node-e2e',
        attempts: 2,
        logger: pino({ level: 'info' }, { write: (l: string) => void lines.push(l) }),
      });
      const stop = new AbortController();
      const running = recorder.run(stop.signal);
      try {
        const ref = { apiVersion: 'v1', kind: 'Pod', namespace: ns, name: 'p', uid: 'u' };
        const started = performance.now();
        for (let i = 0; i < 5; i++) recorder.normal(ref, `R${i}`, 'm');
        expect(performance.now() - started).toBeLessThan(50);
        await recorder.flush();
        const dropped = lines.filter((l) => l.includes('dropping events'));
        expect(dropped).toHaveLength(1);
        expect(dropped[0]).toContain('ECONNREFUSED');
      } finally {
        stop.abort();
        await running;
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('drops an event into a namespace being deleted with a debug line, not a warning (its pods are being killed)', async () => {
    // A finalizer on a ConfigMap holds its namespace in Terminating until the test lets go.
    const held = `${ns}-held`;
    await rest.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: held } } });
    const cm = await rest.request<{ metadata: { uid: string } }>('POST', `/api/v1/namespaces/${held}/configmaps`, {
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', finalizers: ['tskube.test/hold'] } },
    });
    const lines: string[] = [];
    const recorder = new EventRecorder({
      rest,
      component: 'kubelet',
      host: 'node-e2e',
      logger: pino({ level: 'debug' }, { write: (l: string) => void lines.push(l) }),
    });
    const stop = new AbortController();
    const running = recorder.run(stop.signal);
    try {
      await rest.request('DELETE', `/api/v1/namespaces/${held}`);
      recorder.normal({ apiVersion: 'v1', kind: 'ConfigMap', namespace: held, name: 'held', uid: cm.metadata.uid }, 'Killing', 'Stopping container app');
      await recorder.flush();
      const rejected = lines.filter((l) => l.includes('event rejected')).map((l) => JSON.parse(l) as { level: number; err: string });
      expect(rejected).toHaveLength(1);
      expect(rejected[0]?.level).toBe(20);
      expect(rejected[0]?.err).toContain('is being terminated');
    } finally {
      stop.abort();
      await running;
      await rest
        .request('PATCH', `/api/v1/namespaces/${held}/configmaps/held`, {
          body: { metadata: { finalizers: null } },
          contentType: 'application/merge-patch+json',
        })
        .catch(() => {});
    }
  });
});
