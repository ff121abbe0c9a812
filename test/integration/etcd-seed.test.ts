// Seeding the testbed's etcd (test/testbed/seed.ts, etcd-seed) against the real
// kube-apiserver v1.36.3: bench/proxy's objects seeded while the apiserver is stopped
// come back from the restarted apiserver exactly as the same objects written through
// the API do, and its ClusterIP repair loop finds nothing to repair in them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchFieldManager, benchNamespace, serviceRequest, sliceRequest, storedIpAddress, storedService, storedSlice } from '../../bench/lib/proxy-objects.js';
import { loadKubeconfig } from '../../src/kube/kubeconfig.js';
import { RestClient } from '../../src/kube/rest-client.js';
import { eventually } from '../testbed/eventually.js';
import { down, seed, type Testbed, up } from '../testbed/index.js';

const written = [0, 1, 2, 3];
const seeded = [4, 5, 6, 7];
// Seeded without its IPAddress: the repair loop must allocate it and say so.
const broken = 8;
let seedStarted = 0;

interface Listed {
  items: { metadata: { name: string; namespace?: string } }[];
}

/** What differs between two writes of one object: identity, times, resourceVersion. */
function comparable(o: unknown): unknown {
  const copy = structuredClone(o) as { metadata: Record<string, unknown> & { managedFields?: { time?: string }[]; annotations?: Record<string, string> } };
  for (const k of ['uid', 'resourceVersion', 'creationTimestamp']) delete copy.metadata[k];
  for (const f of copy.metadata.managedFields ?? []) delete f.time;
  if (copy.metadata.annotations) delete copy.metadata.annotations['endpoints.kubernetes.io/last-change-trigger-time'];
  return copy;
}

describe('etcd seeding of a testbed', { timeout: 240_000 }, () => {
  let tb: Testbed | undefined;
  let rest: RestClient;
  const get = <T>(path: string) => rest.request<T>('GET', path);
  const service = (i: number) => get(`/api/v1/namespaces/${benchNamespace(i)}/services/svc-${i}`);
  const slice = (i: number) => get(`/apis/discovery.k8s.io/v1/namespaces/${benchNamespace(i)}/endpointslices/svc-${i}-bench`);
  const ipAddress = (i: number) => get(`/apis/networking.k8s.io/v1/ipaddresses/${storedIpAddress(i, '').metadata.name}`);

  beforeAll(async () => {
    tb = await up({ timeoutMs: 180_000, log: () => undefined });
    rest = new RestClient(loadKubeconfig(tb.adminKubeconfig), { userAgent: benchFieldManager });
    for (const i of [...written, ...seeded, broken]) {
      await rest.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: benchNamespace(i) } } });
    }
    for (const i of written) {
      await rest.request('POST', `/api/v1/namespaces/${benchNamespace(i)}/services`, { body: serviceRequest(i) });
      await rest.request('POST', `/apis/discovery.k8s.io/v1/namespaces/${benchNamespace(i)}/endpointslices`, { body: sliceRequest(i, 5) });
    }
    const created = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    seedStarted = Date.now();
    const result = await seed(tb.dir, [
      ...seeded.flatMap((i) => [storedService(i, created), storedIpAddress(i, created), storedSlice(i, 5, created)]),
      storedService(broken, created),
      storedSlice(broken, 5, created),
    ]);
    expect(result.objects).toBe(seeded.length * 3 + 2);
  }, 240_000);

  afterAll(async () => {
    if (tb) await down(tb.dir);
  });

  it('describes what the API server stores for the bench requests', async () => {
    for (const i of written) {
      const created = '';
      expect(comparable(await service(i))).toEqual(comparable(storedService(i, created)));
      expect(comparable(await slice(i))).toEqual(comparable(storedSlice(i, 5, created)));
      expect(comparable(await ipAddress(i))).toEqual(comparable(storedIpAddress(i, created)));
    }
  });

  it('serves the seeded objects as it serves the written ones', async () => {
    for (const i of seeded) {
      expect(comparable(await service(i))).toEqual(comparable(storedService(i, '')));
      expect(comparable(await slice(i))).toEqual(comparable(storedSlice(i, 5, '')));
      expect(comparable(await ipAddress(i))).toEqual(comparable(storedIpAddress(i, '')));
    }
    const services = await get<Listed>('/api/v1/services');
    expect(services.items.map((s) => s.metadata.name).sort()).toEqual(['kubernetes', ...[...written, ...seeded, broken].map((i) => `svc-${i}`)].sort());
  });

  it('leaves the ClusterIP repair loop nothing to repair but the Service seeded without its IPAddress', async () => {
    // The positive sign that the repair loop has looked: it allocated the missing one. The
    // loop's first pass after a start goes over every Service and IPAddress in one go,
    // so once svc-8 is repaired the others have been checked too.
    await eventually('the repair loop to allocate the IPAddress of the Service seeded without one', () => ipAddress(broken).catch(() => undefined));
    const events = await eventually('the repair loop to report the Service it repaired', async () => {
      const list = await get<{ items: { reason: string; eventTime: string; regarding?: { name: string } }[] }>('/apis/events.k8s.io/v1/events');
      return list.items.some((e) => e.regarding?.name === `svc-${broken}`) ? list.items : undefined;
    });
    // Only since the seeding: on a fresh control plane the loop may race the `kubernetes`
    // Service's own IPAddress at boot and "repair" it (its informers see the Service before
    // the IPAddress made just before it; seen once in four runs, before any seeding).
    const sinceSeed = events.filter((e) => Date.parse(e.eventTime) >= seedStarted);
    expect(
      sinceSeed.filter((e) => e.reason.startsWith('ClusterIP') || e.reason.startsWith('IPAddress')).map((e) => `${e.reason} ${e.regarding?.name}`),
    ).toEqual([`ClusterIPNotAllocated svc-${broken}`]);
    const addresses = await get<Listed>('/apis/networking.k8s.io/v1/ipaddresses');
    expect(addresses.items.map((a) => a.metadata.name).sort()).toEqual(
      ['10.96.0.1', ...[...written, ...seeded, broken].map((i) => storedIpAddress(i, '').metadata.name)].sort(),
    );
  });

  it('refuses a kind it does not know where to store, naming the line, and starts the apiserver again', async () => {
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'default' } };
    await expect(seed(tb!.dir, [storedService(9, '2026-01-01T00:00:00Z'), configMap])).rejects.toThrow(
      /stdin line 2: kind \/v1, Kind=ConfigMap is not one etcd-seed knows/,
    );
    const services = await get<Listed>('/api/v1/services');
    expect(services.items.map((s) => s.metadata.name)).toContain('svc-8');
  });
});
