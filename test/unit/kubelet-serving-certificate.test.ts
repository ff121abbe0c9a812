import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ipBytes } from '../../src/kubelet/bootstrap/der.js';
import type { CsrApi } from '../../src/kubelet/bootstrap/csr-api.js';
import { certificateRequestPem, newClientKeyPem, nodeSubject } from '../../src/kubelet/bootstrap/key-and-request.js';
import { selfSignedCertificate } from '../../src/kubelet/bootstrap/self-signed.js';
import { readPairFiles, ServingCertificates } from '../../src/kubelet/bootstrap/serving-certificate.js';
import { defaultKubeletConfiguration } from '../../src/kubelet/options/index.js';
import { tlsOptions } from '../../src/kubelet/server/tls-options.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), 'tskube-unit-serving-'));
  dirs.push(d);
  return d;
};
const log = pino({ level: 'silent' });
const openssl = (args: string[], input: string) => execFileSync('openssl', args, { input, env: { ...process.env, OPENSSL_CONF: '/dev/null' } }).toString();

/** A CA (from openssl) that signs CSRs like the controller manager's kubelet-serving signer. */
async function testCa(dir: string): Promise<{ sign: (csrPem: string) => string }> {
  const key = join(dir, 'ca.key');
  const crt = join(dir, 'ca.crt');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', crt, '-subj', '/CN=test-ca', '-days', '1'],
    {
      env: { ...process.env, OPENSSL_CONF: '/dev/null' },
      stdio: 'ignore',
    },
  );
  return { sign: (csrPem) => openssl(['x509', '-req', '-CA', crt, '-CAkey', key, '-days', '1', '-copy_extensions', 'copy'], csrPem) };
}

describe('certificate requests and the self-signed certificate', () => {
  it("puts the node's DNS names and IPs in a serving CSR's SAN extension", async () => {
    const pem = await certificateRequestPem(newClientKeyPem(), nodeSubject('node-a'), { dnsNames: ['node-a'], ips: ['192.0.2.7', 'fd00::2'] });
    const text = openssl(['req', '-noout', '-text', '-verify'], pem);
    expect(text).toContain('Subject: O = system:nodes, CN = system:node:node-a');
    expect(text).toMatch(/X509v3 Subject Alternative Name:\s+DNS:node-a, IP Address:192\.0\.2\.7, IP Address:FD00:0:0:0:0:0:0:2/);
  });

  it('writes IPv4 and IPv6 addresses as their bytes', () => {
    expect([...ipBytes('10.1.2.3')]).toEqual([10, 1, 2, 3]);
    expect(ipBytes('::1').toString('hex')).toBe('00000000000000000000000000000001');
    expect(ipBytes('fd00:1::ffff:192.0.2.1').toString('hex')).toBe('fd000001000000000000ffffc0000201');
  });

  it("makes a self-signed certificate that is its own CA, for the node's names, for a year", () => {
    const now = new Date('2025-06-01T00:00:00Z');
    const { certPem, keyPem } = selfSignedCertificate({ host: 'node-a', dnsNames: ['node-a', 'localhost'], ips: ['127.0.0.1'], now });
    const cert = new X509Certificate(certPem);
    expect(cert.subject).toBe(`CN=node-a@${Math.floor(now.getTime() / 1000)}`);
    expect(cert.ca).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.subjectAltName).toBe('DNS:node-a, DNS:localhost, IP Address:127.0.0.1');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(cert.validToDate.getTime() - now.getTime()).toBe(365 * 24 * 3_600_000);
    expect(cert.checkPrivateKey(createPrivateKey(keyPem))).toBe(true);
  });
});

describe('where the serving certificate comes from', () => {
  const base = {
    nodeName: 'node-a',
    tlsCertFile: '',
    tlsPrivateKeyFile: '',
    serverTLSBootstrap: false,
    altNames: () => ({ dnsNames: ['node-a'], ips: ['192.0.2.7'] }),
    log,
  };

  it('makes a self-signed pair once and reuses it', async () => {
    const certDir = await tempDir();
    const first = new ServingCertificates({ ...base, certDir });
    await first.load();
    expect(first.current?.source).toBe('self-signed');
    expect((await stat(join(certDir, 'kubelet.key'))).mode & 0o777).toBe(0o600);
    const second = new ServingCertificates({ ...base, certDir });
    await second.load();
    expect(second.current?.certPem).toBe(first.current?.certPem);
    expect(new X509Certificate(second.current?.certPem ?? '').subjectAltName).toContain('IP Address:192.0.2.7');
  });

  it('serves tlsCertFile/tlsPrivateKeyFile, and says clearly what is wrong with them', async () => {
    const dir = await tempDir();
    const a = selfSignedCertificate({ host: 'a', dnsNames: ['a'], ips: [], now: new Date() });
    const b = selfSignedCertificate({ host: 'b', dnsNames: ['b'], ips: [], now: new Date() });
    await writeFile(join(dir, 'tls.crt'), a.certPem);
    await writeFile(join(dir, 'tls.key'), a.keyPem);
    await writeFile(join(dir, 'other.key'), b.keyPem);
    expect((await readPairFiles(join(dir, 'tls.crt'), join(dir, 'tls.key'))).source).toBe('files');
    await expect(readPairFiles(join(dir, 'tls.crt'), join(dir, 'other.key'))).rejects.toThrow(
      `tlsPrivateKeyFile ${join(dir, 'other.key')}: does not belong to the certificate in ${join(dir, 'tls.crt')}`,
    );
    await expect(readPairFiles(join(dir, 'nope.crt'), join(dir, 'tls.key'))).rejects.toThrow(/reading tlsCertFile\/tlsPrivateKeyFile: .*ENOENT/);
    await expect(readPairFiles(join(dir, 'tls.crt'), '')).rejects.toThrow('tlsPrivateKeyFile: must be set together with tlsCertFile');
  });

  it('picks up replaced certificate files, and keeps the old pair while the new one is half written', async () => {
    const dir = await tempDir();
    const a = selfSignedCertificate({ host: 'a', dnsNames: ['a'], ips: [], now: new Date() });
    const b = selfSignedCertificate({ host: 'b', dnsNames: ['b'], ips: [], now: new Date() });
    const crt = join(dir, 'tls.crt');
    const key = join(dir, 'tls.key');
    await writeFile(crt, a.certPem);
    await writeFile(key, a.keyPem);
    const certs = new ServingCertificates({ ...base, certDir: dir, tlsCertFile: crt, tlsPrivateKeyFile: key, filePollMs: 20 });
    await certs.load();
    const changes: string[] = [];
    certs.onChange((p) => changes.push(p.certPem));
    const stop = new AbortController();
    const running = certs.run(stop.signal);
    await new Promise((r) => setTimeout(r, 60));
    await writeFile(crt, b.certPem);
    await new Promise((r) => setTimeout(r, 100));
    expect(changes).toEqual([]);
    await writeFile(key, b.keyPem);
    await expect.poll(() => changes, { timeout: 2000, interval: 20 }).toEqual([b.certPem]);
    stop.abort();
    await running;
  });

  it('requests a kubelet-serving certificate, notes the pending CSR until it is issued, then stores and serves it', async () => {
    const certDir = await tempDir();
    const ca = await testCa(certDir);
    const created: V1CertificateSigningRequest[] = [];
    let approved = false;
    const api: CsrApi = {
      create: async (body) => {
        created.push(body);
        return { ...body, metadata: { name: 'csr-abcde' } };
      },
      read: async (name) => {
        const csr = created[0] as V1CertificateSigningRequest;
        if (!approved) return { ...csr, metadata: { name } };
        const certificate = Buffer.from(ca.sign(Buffer.from(csr.spec.request, 'base64').toString())).toString('base64');
        return { ...csr, metadata: { name }, status: { certificate, conditions: [{ type: 'Approved', status: 'True', reason: 'ok', message: '' }] } };
      },
    };
    const certs = new ServingCertificates({ ...base, certDir, serverTLSBootstrap: true, kubeconfigPath: '/unused', api: () => api });
    await certs.load();
    expect(certs.current).toBeUndefined();
    const stop = new AbortController();
    const running = certs.run(stop.signal);
    await expect
      .poll(() => certs.pendingNote(), { timeout: 5000, interval: 20 })
      .toBe('serving certificate: CertificateSigningRequest csr-abcde waits for approval (kubectl certificate approve csr-abcde)');
    expect(created[0]?.metadata).toEqual({ generateName: 'csr-' });
    expect(created[0]?.spec).toMatchObject({ signerName: 'kubernetes.io/kubelet-serving', usages: ['digital signature', 'server auth'] });
    approved = true;
    const pair = await certs.ready;
    expect(pair.source).toBe('bootstrap');
    expect(certs.pendingNote()).toBeUndefined();
    expect(new X509Certificate(pair.certPem).subjectAltName).toBe('DNS:node-a, IP Address:192.0.2.7');
    expect(await readFile(join(certDir, 'kubelet-server-current.pem'), 'utf8')).toContain(pair.certPem.trim());
    stop.abort();
    await running;
    // A restart finds the stored pair and requests nothing.
    const again = new ServingCertificates({ ...base, certDir, serverTLSBootstrap: true, kubeconfigPath: '/unused', api: () => api });
    await again.load();
    expect(again.current?.certPem.trim()).toBe(pair.certPem.trim());
    expect(created).toHaveLength(1);
  });
});

describe('TLS settings', () => {
  const pair = { certPem: 'C', keyPem: 'K' };
  it("maps Go cipher suite and version names to Node's, and asks for client certificates only with a client CA", () => {
    const c = {
      ...defaultKubeletConfiguration(),
      tlsCipherSuites: ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_AES_128_GCM_SHA256'],
      tlsMinVersion: 'VersionTLS13',
    };
    expect(tlsOptions(c, pair, 'CA')).toEqual({
      cert: 'C',
      key: 'K',
      minVersion: 'TLSv1.3',
      ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:TLS_AES_128_GCM_SHA256',
      ca: 'CA',
      requestCert: true,
      rejectUnauthorized: false,
    });
    expect(tlsOptions(defaultKubeletConfiguration(), pair, undefined)).toEqual({ cert: 'C', key: 'K', minVersion: 'TLSv1.2', requestCert: false });
  });
});
