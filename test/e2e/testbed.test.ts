// The testbed itself: a real control plane that nodes can join, and that
// leaves nothing behind when it goes down.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { eventually } from '../testbed/eventually.js';
import { run } from '../testbed/exec.js';
import { down, status, up } from '../testbed/index.js';
import { kubectl, kubectlJson } from '../testbed/kubectl.js';
import { listeningPorts } from '../testbed/ports.js';
import { isRunning } from '../testbed/processes.js';
import { readState } from '../testbed/state.js';

const tb = inject('testbed');
const suffix = () => randomBytes(3).toString('hex');

function getAnonymously(url: string, caFile: string): Promise<string> {
  return readFile(caFile).then(
    (ca) =>
      new Promise((resolve, reject) => {
        get(url, { ca }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => (body += c));
          res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET ${url}: HTTP ${String(res.statusCode)}: ${body}`))));
        }).on('error', reject);
      }),
  );
}

interface Obj {
  metadata: { name: string; ownerReferences?: { kind: string; name: string }[] };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}
interface List {
  items: Obj[];
}

describe('testbed', () => {
  it('serves /readyz to the admin and reports the pinned version', async () => {
    expect(await kubectl(tb, tb.adminKubeconfig, ['get', '--raw', '/readyz'])).toBe('ok');
    const version = JSON.parse(await kubectl(tb, tb.adminKubeconfig, ['version', '-o', 'json'])) as {
      clientVersion: { gitVersion: string };
      serverVersion: { gitVersion: string };
    };
    expect(version.serverVersion.gitVersion).toBe(tb.kubeVersion);
    expect(version.clientVersion.gitVersion).toBe(tb.kubeVersion);
  });

  it('runs the deployment and replicaset controllers and the scheduler', { timeout: 120_000 }, async () => {
    const ns = `testbed-e2e-${suffix()}`;
    await kubectl(tb, tb.adminKubeconfig, ['create', 'namespace', ns]);
    try {
      const deployment = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: ns },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          // Never pulled: there is no node to run it.
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'registry.k8s.io/pause:3.10' }] } },
        },
      };
      await kubectl(tb, tb.adminKubeconfig, ['apply', '-f', '-'], JSON.stringify(deployment));

      const rs = await eventually('a ReplicaSet owned by the Deployment', async () => {
        const list = await kubectlJson<List>(tb, tb.adminKubeconfig, ['-n', ns, 'get', 'replicasets']);
        return list.items.find((r) => r.metadata.ownerReferences?.some((o) => o.kind === 'Deployment' && o.name === 'web'));
      });

      const pods = await eventually('two Pods of the ReplicaSet, found unschedulable by the scheduler', async () => {
        const list = await kubectlJson<List>(tb, tb.adminKubeconfig, ['-n', ns, 'get', 'pods']);
        const mine = list.items.filter((p) => p.metadata.ownerReferences?.some((o) => o.kind === 'ReplicaSet' && o.name === rs.metadata.name));
        const unschedulable = (p: Obj) =>
          (p.status?.['conditions'] as { type: string; status: string; reason?: string }[] | undefined)?.some(
            (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
          );
        return mine.length === 2 && mine.every(unschedulable) ? mine : undefined;
      });
      for (const pod of pods) {
        expect(pod.status?.['phase']).toBe('Pending');
        expect(pod.spec?.['nodeName']).toBeUndefined();
      }
    } finally {
      await kubectl(tb, tb.adminKubeconfig, ['delete', 'namespace', ns, '--wait=false']);
    }
  });

  it('approves and signs a node client certificate requested with the bootstrap token', { timeout: 120_000 }, async () => {
    const node = `testbed-e2e-node-${suffix()}`;
    const csrName = `node-csr-${node}`;
    const work = await mkdtemp(join(tmpdir(), 'tskube-e2e-csr-'));
    try {
      const key = join(work, 'node.key');
      await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
      const request = await run('openssl', ['req', '-new', '-key', key, '-subj', `/O=system:nodes/CN=system:node:${node}`], {
        env: { ...process.env, OPENSSL_CONF: '/dev/null' },
      });
      const csr = {
        apiVersion: 'certificates.k8s.io/v1',
        kind: 'CertificateSigningRequest',
        metadata: { name: csrName },
        spec: {
          request: Buffer.from(request).toString('base64'),
          signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
          usages: ['digital signature', 'client auth'],
        },
      };
      // As the joining node: authenticated by the bootstrap token alone.
      await kubectl(tb, tb.bootstrapKubeconfig, ['create', '-f', '-'], JSON.stringify(csr));

      const signed = await eventually('the CSR to be approved and signed', async () => {
        const obj = await kubectlJson<Obj>(tb, tb.adminKubeconfig, ['get', 'csr', csrName]);
        return obj.status?.['certificate'] ? obj : undefined;
      });
      const tokenId = tb.bootstrapToken.split('.')[0];
      expect(signed.spec?.['username']).toBe(`system:bootstrap:${tokenId}`);
      const conditions = signed.status?.['conditions'] as { type: string; reason: string }[];
      expect(conditions).toContainEqual(expect.objectContaining({ type: 'Approved', reason: 'AutoApproved' }));

      const certFile = join(work, 'node.crt');
      await writeFile(certFile, Buffer.from(signed.status?.['certificate'] as string, 'base64'));
      await run('openssl', ['verify', '-CAfile', tb.caFile, certFile]);

      // The certificate is a working node identity.
      const kubeconfig = join(work, 'node.kubeconfig');
      const k = (args: string[]) => kubectl(tb, kubeconfig, args);
      await run(tb.kubectl, ['--kubeconfig', kubeconfig, 'config', 'set-cluster', 'tb', `--server=${tb.apiserverUrl}`, `--certificate-authority=${tb.caFile}`]);
      await run(tb.kubectl, ['--kubeconfig', kubeconfig, 'config', 'set-credentials', 'node', `--client-certificate=${certFile}`, `--client-key=${key}`]);
      await run(tb.kubectl, ['--kubeconfig', kubeconfig, 'config', 'set-context', 'tb', '--cluster=tb', '--user=node']);
      await run(tb.kubectl, ['--kubeconfig', kubeconfig, 'config', 'use-context', 'tb']);
      const whoami = JSON.parse(await k(['auth', 'whoami', '-o', 'json'])) as { status: { userInfo: { username: string; groups: string[] } } };
      expect(whoami.status.userInfo.username).toBe(`system:node:${node}`);
      expect(whoami.status.userInfo.groups).toContain('system:nodes');
    } finally {
      await kubectl(tb, tb.adminKubeconfig, ['delete', 'csr', csrName, '--ignore-not-found']);
      await rm(work, { recursive: true, force: true });
    }
  });

  it('publishes cluster-info for discovery, readable without credentials', async () => {
    const cm = await kubectlJson<{ data: Record<string, string> }>(tb, tb.adminKubeconfig, ['-n', 'kube-public', 'get', 'configmap', 'cluster-info']);
    expect(cm.data['kubeconfig']).toContain(tb.apiserverUrl);
    const ca = (await readFile(tb.caFile)).toString('base64');
    expect(cm.data['kubeconfig']).toContain(ca);
    // Anonymous, as `kubeadm join` discovery reads it first.
    const anon = JSON.parse(await getAnonymously(`${tb.apiserverUrl}/api/v1/namespaces/kube-public/configmaps/cluster-info`, tb.caFile)) as {
      data: Record<string, string>;
    };
    expect(anon.data['kubeconfig']).toBe(cm.data['kubeconfig']);
  });

  it('leaves no process, listening port or file behind after down', { timeout: 180_000 }, async () => {
    const second = await up({ binDir: tb.binDir, log: () => {} });
    let downed = false;
    try {
      expect(second.dir).not.toBe(tb.dir);
      const state = await readState(second.dir);
      expect((await status(second.dir)).ready).toBe(true);
      const ports = Object.values(state.ports);
      const listening = await listeningPorts();
      for (const port of ports) expect(listening, `port ${port} should be listening while up`).toContain(port);

      await down(second.dir);
      downed = true;

      for (const p of state.processes) expect(isRunning(p), `${p.name} (pid ${p.pid}) still running`).toBe(false);
      const after = await listeningPorts();
      for (const port of ports) expect(after, `port ${port} still listening`).not.toContain(port);
      await expect(stat(second.dir)).rejects.toThrow(/ENOENT/);
    } finally {
      if (!downed) await down(second.dir);
    }
  });
});
