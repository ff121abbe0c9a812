// The kubelet's TLS bootstrap against the real control plane: from the bootstrap
// token to a node identity, reused on restart, renewed by the rotator.
import { X509Certificate } from 'node:crypto';
import { lstat, mkdtemp, readFile, readlink, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { bootstrapClientCertificate, ClientCertificateRotator, type BootstrapResult } from '../../src/kubelet/bootstrap/index.js';
import { kubectl } from '../testbed/kubectl.js';

const tb = inject('testbed');
const csrs = new Set<string>();
const dirs: string[] = [];

afterAll(async () => {
  for (const name of csrs) await kubectl(tb, tb.adminKubeconfig, ['delete', 'csr', name, '--ignore-not-found']);
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function nodeDir(): Promise<{ work: string; certDir: string; kubeconfigPath: string; nodeName: string }> {
  const work = await mkdtemp(join(tmpdir(), 'tskube-e2e-bootstrap-'));
  dirs.push(work);
  return {
    work,
    certDir: join(work, 'pki'),
    kubeconfigPath: join(work, 'kubelet.conf'),
    nodeName: `bootstrap-e2e-${work
      .slice(-6)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, 'x')}`,
  };
}

async function getOwnNode(kubeconfigPath: string, nodeName: string): Promise<number> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  try {
    await kc.makeApiClient(CoreV1Api).readNode({ name: nodeName });
    return 200;
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
}

describe('kubelet TLS bootstrap', () => {
  it('gets a node client certificate with the bootstrap token, and reuses it on restart', async () => {
    const n = await nodeDir();
    const events: string[] = [];
    const options = {
      kubeconfigPath: n.kubeconfigPath,
      bootstrapKubeconfigPath: tb.bootstrapKubeconfig,
      certDir: n.certDir,
      nodeName: n.nodeName,
      timeoutMs: 60_000,
      log: (e: { event: string }) => events.push(e.event),
    };
    const first: BootstrapResult = await bootstrapClientCertificate(options, AbortSignal.timeout(90_000));
    if (first.action !== 'issued') throw new Error(`expected a new certificate, got ${first.action}`);
    csrs.add(first.csrName);
    expect(events).toEqual(['kubeconfig-invalid', 'csr-created', 'certificate-stored']);

    // The pair file: 0600, certificate for system:node:<name> in system:nodes, signed by the cluster CA.
    expect(first.clientPairFile).toMatch(/\/kubelet-client-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.pem$/);
    expect((await stat(first.clientPairFile)).mode & 0o777).toBe(0o600);
    const current = join(n.certDir, 'kubelet-client-current.pem');
    expect((await lstat(current)).isSymbolicLink()).toBe(true);
    expect(await readlink(current)).toBe(first.clientPairFile);
    const cert = new X509Certificate(await readFile(current));
    expect(cert.subject.split('\n').sort()).toEqual([`CN=system:node:${n.nodeName}`, 'O=system:nodes']);
    expect(cert.verify(new X509Certificate(await readFile(tb.caFile)).publicKey)).toBe(true);
    expect(await readdir(n.certDir)).not.toContain('kubelet-client.key.tmp');

    // The CSR as the API server recorded it.
    const csr = JSON.parse(await kubectl(tb, tb.adminKubeconfig, ['get', 'csr', first.csrName, '-o', 'json'])) as {
      spec: { signerName: string; usages: string[]; username: string };
    };
    expect(csr.spec.signerName).toBe('kubernetes.io/kube-apiserver-client-kubelet');
    expect(csr.spec.usages).toEqual(['digital signature', 'client auth']);
    expect(csr.spec.username).toBe(`system:bootstrap:${tb.bootstrapToken.split('.')[0]}`);

    // The kubeconfig: 0600, upstream's shape, and it authenticates as the node.
    expect((await stat(n.kubeconfigPath)).mode & 0o777).toBe(0o600);
    const kubeconfig = parse(await readFile(n.kubeconfigPath, 'utf8')) as {
      users: { user: Record<string, string> }[];
      clusters: { cluster: { server: string } }[];
    };
    expect(kubeconfig.users[0]?.user).toEqual({ 'client-certificate': current, 'client-key': current });
    expect(kubeconfig.clusters[0]?.cluster.server).toBe(tb.apiserverUrl);
    // No Node object exists yet: 404 (not 401/403) proves the API server took the certificate.
    expect(await getOwnNode(n.kubeconfigPath, n.nodeName)).toBe(404);
    const whoami = JSON.parse(await kubectl(tb, n.kubeconfigPath, ['auth', 'whoami', '-o', 'json'])) as { status: { userInfo: { username: string } } };
    expect(whoami.status.userInfo.username).toBe(`system:node:${n.nodeName}`);

    // A restart finds the kubeconfig valid and files no new CSR.
    const before = await csrNames();
    const second = await bootstrapClientCertificate(options, AbortSignal.timeout(30_000));
    expect(second.action).toBe('kubeconfig-valid');
    expect(second.notAfter).toEqual(first.notAfter);
    // Without the kubeconfig, the stored certificate is reused: still no new CSR.
    await rm(n.kubeconfigPath);
    const third = await bootstrapClientCertificate(options, AbortSignal.timeout(30_000));
    expect(third).toMatchObject({ action: 'reused-certificate', clientPairFile: first.clientPairFile });
    expect(await getOwnNode(n.kubeconfigPath, n.nodeName)).toBe(404);
    expect(await csrNames()).toEqual(before);
  });

  it('renews the certificate as the node itself and switches kubelet-client-current.pem', async () => {
    const n = await nodeDir();
    const first = await bootstrapClientCertificate(
      { kubeconfigPath: n.kubeconfigPath, bootstrapKubeconfigPath: tb.bootstrapKubeconfig, certDir: n.certDir, nodeName: n.nodeName, timeoutMs: 60_000 },
      AbortSignal.timeout(90_000),
    );
    if (first.action !== 'issued') throw new Error(`expected a new certificate, got ${first.action}`);
    csrs.add(first.csrName);
    // Pair files are named by the second; make sure the renewal gets a new name.
    await new Promise((r) => setTimeout(r, 1100));
    const rotator = new ClientCertificateRotator({ kubeconfigPath: n.kubeconfigPath, certDir: n.certDir, nodeName: n.nodeName, timeoutMs: 60_000 });
    const renewed = await rotator.renew(AbortSignal.timeout(90_000));
    csrs.add(renewed.csrName);
    expect(renewed.csrName).not.toBe(first.csrName);
    expect(renewed.pair.file).not.toBe(first.clientPairFile);
    expect(await readlink(join(n.certDir, 'kubelet-client-current.pem'))).toBe(renewed.pair.file);
    const csr = JSON.parse(await kubectl(tb, tb.adminKubeconfig, ['get', 'csr', renewed.csrName, '-o', 'json'])) as { spec: { username: string } };
    expect(csr.spec.username).toBe(`system:node:${n.nodeName}`);
    expect(await getOwnNode(n.kubeconfigPath, n.nodeName)).toBe(404);

    // The loop: with the clock past the deadline it renews at once, reports it, and stops on abort.
    const ac = new AbortController();
    const events: string[] = [];
    const rotated = new Promise<string>((resolve) => {
      const loop = new ClientCertificateRotator({
        kubeconfigPath: n.kubeconfigPath,
        certDir: n.certDir,
        nodeName: n.nodeName,
        timeoutMs: 60_000,
        now: () => new Date(Date.now() + 400 * 86_400_000),
        log: (e) => events.push(e.event),
        onRotated: (pair) => {
          ac.abort();
          resolve(pair.file);
        },
      });
      void loop.run(ac.signal).then(() => events.push('stopped'));
    });
    const file = await rotated;
    await expect.poll(() => events.at(-1)).toBe('stopped');
    expect(events.slice(0, 2)).toEqual(['rotation-scheduled', 'rotated']);
    expect(await readlink(join(n.certDir, 'kubelet-client-current.pem'))).toBe(file);
    const list = JSON.parse(await kubectl(tb, tb.adminKubeconfig, ['get', 'csr', '-o', 'json'])) as {
      items: { metadata: { name: string }; spec: { username: string } }[];
    };
    for (const item of list.items) if (item.spec.username === `system:node:${n.nodeName}`) csrs.add(item.metadata.name);
    expect(await getOwnNode(n.kubeconfigPath, n.nodeName)).toBe(404);
  });
});

async function csrNames(): Promise<string[]> {
  const list = JSON.parse(await kubectl(tb, tb.adminKubeconfig, ['get', 'csr', '-o', 'json'])) as { items: { metadata: { name: string } }[] };
  return list.items.map((i) => i.metadata.name).sort();
}
