import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { lstat, mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { clientPairFileName, rotationDeadline } from '../../src/kubelet/bootstrap/cert-files.js';
import { isCurrentlyValid, readCurrentPair, storeClientPair } from '../../src/kubelet/bootstrap/cert-store.js';
import { csrOutcome, describeFinal } from '../../src/kubelet/bootstrap/csr-status.js';
import { certificateRequestPem, csrObjectName, kubeletClientUsages, newClientKeyPem, nodeSubject } from '../../src/kubelet/bootstrap/key-and-request.js';
import { checkNodeKubeconfig } from '../../src/kubelet/bootstrap/kubeconfig-files.js';
import { renderNodeKubeconfig } from '../../src/kubelet/bootstrap/node-kubeconfig.js';
import { buildCsrObject } from '../../src/kubelet/bootstrap/request-certificate.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), 'tskube-unit-bootstrap-'));
  dirs.push(d);
  return d;
};

// A self-signed certificate for the key, from openssl, valid for `days`.
function selfSigned(dir: string, keyPem: string, cn: string, days: number): string {
  const keyFile = join(dir, `k-${cn}-${days}.pem`);
  execFileSync('bash', ['-c', 'cat > "$0"', keyFile], { input: keyPem });
  const args = ['req', '-x509', '-key', keyFile, '-subj', `/O=system:nodes/CN=${cn}`, '-days', String(days)];
  return execFileSync('openssl', args, { env: { ...process.env, OPENSSL_CONF: '/dev/null' } }).toString();
}

describe('client certificate file names', () => {
  it('match upstream kubelet-client-<timestamp>.pem, in local time', () => {
    expect(clientPairFileName(new Date(2025, 0, 2, 3, 4, 5))).toBe('kubelet-client-2025-01-02-03-04-05.pem');
    expect(clientPairFileName(new Date(2025, 11, 31, 23, 59, 59))).toBe('kubelet-client-2025-12-31-23-59-59.pem');
  });
});

describe('rotation deadline', () => {
  const notBefore = new Date('2025-01-01T00:00:00Z');
  const notAfter = new Date('2025-01-11T00:00:00Z'); // 10 days
  it('falls between 70% and 90% of the lifetime', () => {
    expect(rotationDeadline(notBefore, notAfter, 0).toISOString()).toBe('2025-01-08T00:00:00.000Z');
    expect(rotationDeadline(notBefore, notAfter, 0.5).toISOString()).toBe('2025-01-09T00:00:00.000Z');
    expect(rotationDeadline(notBefore, notAfter, 0.999999).getTime()).toBeLessThan(new Date('2025-01-10T00:00:00Z').getTime());
    for (let i = 0; i < 100; i++) {
      const at = rotationDeadline(notBefore, notAfter, Math.random()).getTime();
      expect(at).toBeGreaterThanOrEqual(new Date('2025-01-08T00:00:00Z').getTime());
      expect(at).toBeLessThan(new Date('2025-01-10T00:00:00Z').getTime());
    }
  });
});

describe('node kubeconfig', () => {
  it("has upstream's names and points at kubelet-client-current.pem for both cert and key", () => {
    const text = renderNodeKubeconfig({ server: 'https://10.0.0.1:6443', caData: 'Q0E=', clientPairFile: '/var/lib/kubelet/pki/kubelet-client-current.pem' });
    expect(parse(text)).toEqual({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'default-cluster', cluster: { server: 'https://10.0.0.1:6443', 'certificate-authority-data': 'Q0E=' } }],
      contexts: [{ name: 'default-context', context: { cluster: 'default-cluster', namespace: 'default', user: 'default-auth' } }],
      'current-context': 'default-context',
      preferences: {},
      users: [
        {
          name: 'default-auth',
          user: { 'client-certificate': '/var/lib/kubelet/pki/kubelet-client-current.pem', 'client-key': '/var/lib/kubelet/pki/kubelet-client-current.pem' },
        },
      ],
    });
  });

  it('keeps a CA file reference and the TLS server name', () => {
    const doc = parse(renderNodeKubeconfig({ server: 'https://api', caFile: '/etc/ca.crt', tlsServerName: 'kubernetes', clientPairFile: '/p.pem' })) as {
      clusters: { cluster: Record<string, unknown> }[];
    };
    expect(doc.clusters[0]?.cluster).toEqual({ server: 'https://api', 'certificate-authority': '/etc/ca.crt', 'tls-server-name': 'kubernetes' });
  });
});

describe('CSR status', () => {
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  it('is issued only when approved and the certificate is present', () => {
    expect(csrOutcome({ spec: { request: '', signerName: '' } })).toEqual({ state: 'pending' });
    expect(csrOutcome({ spec: { request: '', signerName: '' }, status: { conditions: [{ type: 'Approved', status: 'True' }] } })).toEqual({ state: 'pending' });
    expect(
      csrOutcome({
        spec: { request: '', signerName: '' },
        status: { conditions: [{ type: 'Approved', status: 'True' }], certificate: Buffer.from(pem).toString('base64') },
      }),
    ).toEqual({ state: 'issued', certificatePem: pem });
  });

  it('reports denied and failed requests with their reason, naming the CSR', () => {
    const denied = csrOutcome({
      spec: { request: '', signerName: '' },
      status: { conditions: [{ type: 'Denied', status: 'True', reason: 'NotMine', message: 'wrong node' }] },
    });
    expect(denied).toEqual({ state: 'denied', reason: 'NotMine', message: 'wrong node' });
    if (denied.state !== 'denied') throw new Error('unreachable');
    expect(describeFinal('node-csr-abc', denied)).toBe('CertificateSigningRequest node-csr-abc was denied: NotMine: wrong node');
    const failed = csrOutcome({ spec: { request: '', signerName: '' }, status: { conditions: [{ type: 'Failed', status: 'True', reason: 'SignerError' }] } });
    expect(failed).toEqual({ state: 'failed', reason: 'SignerError', message: '' });
  });
});

describe('key and certificate request', () => {
  it('is a P-256 key and a request openssl verifies, for system:node:<name> in system:nodes', async () => {
    const dir = await tempDir();
    const key = newClientKeyPem();
    expect(key).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);
    const csr = await certificateRequestPem(key, nodeSubject('worker-1'));
    const file = join(dir, 'req.pem');
    await writeFile(file, csr);
    const out = execFileSync('openssl', ['req', '-in', file, '-noout', '-verify', '-subject', '-text'], {
      env: { ...process.env, OPENSSL_CONF: '/dev/null' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }).toString();
    expect(out).toMatch(/subject=O\s*=\s*system:nodes,\s*CN\s*=\s*system:node:worker-1/);
    expect(out).toContain('ASN1 OID: prime256v1');
    expect(out).toContain('ecdsa-with-SHA256');
  });

  it('names the CSR after key, subject and usages, so a retry with the same key finds it', () => {
    const key = newClientKeyPem();
    const name = csrObjectName(key, nodeSubject('n1'), kubeletClientUsages);
    expect(name).toMatch(/^node-csr-[A-Za-z0-9_-]{43}$/);
    expect(csrObjectName(key, nodeSubject('n1'), kubeletClientUsages)).toBe(name);
    expect(csrObjectName(key, nodeSubject('n2'), kubeletClientUsages)).not.toBe(name);
    expect(csrObjectName(newClientKeyPem(), nodeSubject('n1'), kubeletClientUsages)).not.toBe(name);
  });

  it('asks the kubelet client signer for client auth', () => {
    expect(buildCsrObject('node-csr-x', 'PEM', 3600)).toEqual({
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name: 'node-csr-x' },
      spec: {
        request: Buffer.from('PEM').toString('base64'),
        signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
        usages: ['digital signature', 'client auth'],
        expirationSeconds: 3600,
      },
    });
  });
});

describe('certificate store', () => {
  it('writes the pair 0600 and switches the current symlink', async () => {
    const dir = await tempDir();
    const certDir = join(dir, 'pki');
    const key1 = newClientKeyPem();
    const file1 = await storeClientPair(certDir, selfSigned(dir, key1, 'system:node:a', 30), key1, new Date(2025, 0, 1, 0, 0, 0));
    expect(file1).toBe(join(certDir, 'kubelet-client-2025-01-01-00-00-00.pem'));
    expect((await stat(file1)).mode & 0o777).toBe(0o600);
    const text = await readFile(file1, 'utf8');
    expect(text).toMatch(/^-----BEGIN CERTIFICATE-----[\s\S]*-----END CERTIFICATE-----\n-----BEGIN EC PRIVATE KEY-----[\s\S]*-----END EC PRIVATE KEY-----\n$/);
    const current = join(certDir, 'kubelet-client-current.pem');
    expect((await lstat(current)).isSymbolicLink()).toBe(true);

    const key2 = newClientKeyPem();
    const file2 = await storeClientPair(certDir, selfSigned(dir, key2, 'system:node:a', 30), key2, new Date(2025, 0, 2, 0, 0, 0));
    expect(await readlink(current)).toBe(file2);
    const pair = await readCurrentPair(certDir);
    expect(pair?.file).toBe(file2);
    expect(pair && isCurrentlyValid(pair.cert, new Date())).toBe(true);
    // The older pair stays, as upstream keeps it.
    expect((await stat(file1)).isFile()).toBe(true);
  });

  it('refuses a certificate that does not match the key', async () => {
    const dir = await tempDir();
    const cert = selfSigned(dir, newClientKeyPem(), 'system:node:a', 30);
    await expect(storeClientPair(join(dir, 'pki'), cert, newClientKeyPem(), new Date())).rejects.toThrow(/the private key does not match the certificate/);
    expect(await readCurrentPair(join(dir, 'pki'))).toBeUndefined();
  });
});

describe('existing kubeconfig check', () => {
  it('accepts an unexpired matching certificate and explains anything else', async () => {
    const dir = await tempDir();
    const certDir = join(dir, 'pki');
    const kubeconfig = join(dir, 'kubelet.conf');
    expect(await checkNodeKubeconfig(kubeconfig, new Date())).toEqual({ valid: false, why: `${kubeconfig} does not exist` });

    const key = newClientKeyPem();
    const certPem = selfSigned(dir, key, 'system:node:a', 30);
    await storeClientPair(certDir, certPem, key, new Date());
    await writeFile(
      kubeconfig,
      renderNodeKubeconfig({ server: 'https://127.0.0.1:6443', caData: 'Q0E=', clientPairFile: join(certDir, 'kubelet-client-current.pem') }),
    );
    const ok = await checkNodeKubeconfig(kubeconfig, new Date());
    expect(ok).toEqual({ valid: true, notAfter: new Date(new X509Certificate(certPem).validTo) });

    // Thirty-one days on, the same files are expired.
    const later = new Date(Date.now() + 31 * 86_400_000);
    const expired = await checkNodeKubeconfig(kubeconfig, later);
    expect(expired).toEqual({
      valid: false,
      why: `${kubeconfig}: the client certificate expired at ${new Date(new X509Certificate(certPem).validTo).toISOString()}`,
    });

    await writeFile(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: []\n');
    expect((await checkNodeKubeconfig(kubeconfig, new Date())).valid).toBe(false);
  });
});
