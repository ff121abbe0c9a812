// The pod sources and mirror pods against the real apiserver, as the node itself: a
// client certificate for system:node:<name>, so the Node authorizer and the
// NodeRestriction admission plugin judge every request as they would the kubelet's.
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadKubeconfig } from '../../src/kube/kubeconfig.js';
import { RestClient } from '../../src/kube/rest-client.js';
import { MirrorPodClient, MirrorPodSyncer } from '../../src/kubelet/pods/mirror-pods.js';
import { ApiSource } from '../../src/kubelet/pods/sources/api-source.js';
import { FileSource } from '../../src/kubelet/pods/sources/file-source.js';
import { PodSourceMerger } from '../../src/kubelet/pods/sources/pod-source-merger.js';
import { run } from '../testbed/exec.js';
import { renderKubeconfig } from '../testbed/kubeconfig.js';
import { eventually } from '../testbed/eventually.js';

const tb = inject('testbed');
const log = pino({ level: process.env['TSKUBE_TEST_LOG'] ?? 'silent' });
const nodeName = `sources-node-${randomBytes(3).toString('hex')}`;
const fixtures = join(import.meta.dirname, '../fixtures/static-pods');
let work: string;
let admin: RestClient;
let node: RestClient;

const getPod = (name: string, ns = 'default') => admin.request<V1Pod>('GET', `/api/v1/namespaces/${ns}/pods/${name}`);
const gone = (name: string, ns = 'default') =>
  getPod(name, ns).then(
    () => undefined,
    (err: { status?: number }) => (err.status === 404 ? true : undefined),
  );

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tskube-e2e-sources-'));
  admin = new RestClient(loadKubeconfig(tb.adminKubeconfig));
  // A node identity signed by the testbed CA, as TLS bootstrap would give.
  const key = join(work, 'node.key');
  const csr = join(work, 'node.csr');
  const cert = join(work, 'node.crt');
  const env = { ...process.env, OPENSSL_CONF: '/dev/null' };
  await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
  await run('openssl', ['req', '-new', '-key', key, '-subj', `/O=system:nodes/CN=system:node:${nodeName}`, '-out', csr], { env });
  const ext = join(work, 'ext.cnf');
  await writeFile(ext, 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n');
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', tb.caFile, '-CAkey', tb.caKeyFile, '-CAcreateserial', '-days', '1', '-out', cert, '-extfile', ext], {
    env,
  });
  const kubeconfig = join(work, 'node.kubeconfig');
  await writeFile(
    kubeconfig,
    await renderKubeconfig({ server: tb.apiserverUrl, caFile: tb.caFile, user: nodeName, credentials: { kind: 'cert', certFile: cert, keyFile: key } }),
  );
  node = new RestClient(loadKubeconfig(kubeconfig));
  // The node registers itself, as the kubelet does before it makes mirror pods.
  await node.request('POST', '/api/v1/nodes', {
    body: { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName, labels: { 'kubernetes.io/hostname': nodeName } } },
  });
});

afterAll(async () => {
  for (const name of ['web', 'api-pod']) {
    await admin.request('DELETE', `/api/v1/namespaces/default/pods/${name}-${nodeName}`, { query: { gracePeriodSeconds: 0 } }).catch(() => {});
  }
  await admin.request('DELETE', `/api/v1/namespaces/default/pods/api-pod`, { query: { gracePeriodSeconds: 0 } }).catch(() => {});
  await admin.request('DELETE', `/api/v1/nodes/${nodeName}`).catch(() => {});
  await rm(work, { recursive: true, force: true });
});

describe('pod sources and mirror pods', () => {
  it('sees API pods bound here, runs static pods from files, and keeps their mirror pods in the API', { timeout: 120_000 }, async () => {
    const manifests = join(work, 'manifests');
    await cp(join(fixtures, 'web.yaml'), join(manifests, 'web.yaml'), { recursive: true });
    await cp(join(fixtures, 'no-image.yaml'), join(manifests, 'broken.yaml'));

    const config = new PodSourceMerger();
    const fileSource = new FileSource({ path: manifests, nodeName, onPods: (p) => config.set('file', p), logger: log, checkIntervalMs: 1000 });
    const apiSource = new ApiSource({ rest: node, nodeName, onPods: (p) => config.set('api', p), logger: log });
    const syncer = new MirrorPodSyncer({ sources: config, client: new MirrorPodClient({ rest: node, nodeName, logger: log }), logger: log, resyncMs: 1000 });
    const stop = new AbortController();
    const running = [fileSource.run(stop.signal), apiSource.run(stop.signal), syncer.run(stop.signal)];
    try {
      await Promise.all([fileSource.ready, apiSource.ready]);

      // The static pod (not the broken one) is wanted, and its mirror pod appears.
      expect(config.pods('file').map((p) => p.metadata?.name)).toEqual([`web-${nodeName}`]);
      const staticPod = config.pods('file')[0]!;
      const hash = staticPod.metadata?.annotations?.['kubernetes.io/config.hash'];
      const mirror = await eventually('the mirror pod', () => getPod(`web-${nodeName}`));
      const nodeObj = await admin.request<{ metadata: { uid: string } }>('GET', `/api/v1/nodes/${nodeName}`);
      expect(mirror.metadata?.annotations?.['kubernetes.io/config.mirror']).toBe(hash);
      expect(mirror.metadata?.annotations?.['kubernetes.io/config.source']).toBe('file');
      expect(mirror.metadata?.ownerReferences).toEqual([
        expect.objectContaining({ kind: 'Node', name: nodeName, uid: nodeObj.metadata.uid, controller: true }),
      ]);
      expect(mirror.spec?.nodeName).toBe(nodeName);
      expect(mirror.spec?.containers[0]?.image).toBe('registry.k8s.io/pause:3.10');
      expect(mirror.metadata?.uid).not.toBe(staticPod.metadata?.uid);

      // The API source sees the mirror pod and keeps it apart from the pods to run.
      await eventually('the mirror pod through the API source', () => (config.mirrorPods().length === 1 ? true : undefined));
      expect(config.pods('api')).toEqual([]);

      // A pod bound here through the API reaches the api set; one bound elsewhere does not.
      const pod = (name: string, nodeName2: string) => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'default' },
        spec: { nodeName: nodeName2, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] },
      });
      // Pods are admitted once the namespace's default ServiceAccount exists (a fresh testbed may lack it yet).
      await eventually('the default ServiceAccount', () => admin.request('GET', '/api/v1/namespaces/default/serviceaccounts/default').then(() => true));
      await admin.request('POST', '/api/v1/namespaces/default/pods', { body: pod('api-pod', nodeName) });
      await admin.request('POST', '/api/v1/namespaces/default/pods', { body: pod(`api-pod-${nodeName}`, `${nodeName}-elsewhere`) });
      await eventually('the API pod', () => (config.pods('api').some((p) => p.metadata?.name === 'api-pod') ? true : undefined));
      expect(config.pods('api').map((p) => p.metadata?.name)).toEqual(['api-pod']);
      expect(config.pods('api')[0]?.metadata?.creationTimestamp).toBeInstanceOf(Date);

      // Editing the manifest gives a new hash: the mirror pod is replaced.
      const edited = (await readFile(join(manifests, 'web.yaml'), 'utf8')).replace('app: web', 'app: web2');
      await writeFile(join(manifests, 'web.yaml'), edited);
      const replaced = await eventually('the replaced mirror pod', async () => {
        const m = await getPod(`web-${nodeName}`);
        return m.metadata?.annotations?.['kubernetes.io/config.mirror'] !== hash ? m : undefined;
      });
      expect(replaced.metadata?.labels).toEqual({ app: 'web2' });
      expect(replaced.metadata?.uid).not.toBe(mirror.metadata?.uid);
      expect(replaced.metadata?.annotations?.['kubernetes.io/config.mirror']).toBe(config.pods('file')[0]?.metadata?.uid);

      // Removing the file removes the static pod and its mirror.
      await unlink(join(manifests, 'web.yaml'));
      await eventually('the mirror pod to go', () => gone(`web-${nodeName}`));
      expect(config.pods('file')).toEqual([]);
    } finally {
      stop.abort();
      await Promise.all(running);
    }
  });
});
