// The RestClient over TLS with a kubeconfig's files: it trusts the kubeconfig's CA, presents
// the client certificate, and after a rotation (kubelet-client-current.pem switched to a new
// pair) presents the new one.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeconfig } from '../../src/kube/kubeconfig.js';
import { RestClient } from '../../src/kube/rest-client.js';

const dir = mkdtempSync(join(tmpdir(), 'tskube-rest-tls-'));
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, env: { ...process.env, OPENSSL_CONF: '/dev/null' }, stdio: 'pipe' });

const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** A key and a certificate for `cn` signed by the test CA, as one PEM file (as the kubelet writes its pair). */
function issue(cn: string, file: string, ext: string[] = []): void {
  openssl('req', '-new', ...newKey, '-keyout', `${file}.key`, '-out', `${file}.csr`, '-subj', `/CN=${cn}`);
  openssl('x509', '-req', '-in', `${file}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-out', `${file}.crt`, ...ext);
  writeFileSync(join(dir, `${file}.pem`), readFileSync(join(dir, `${file}.crt`), 'utf8') + readFileSync(join(dir, `${file}.key`), 'utf8'));
}

/** A self-signed P-256 certificate (a CA) as `name`.crt and `name`.key. */
function selfSigned(name: string, cn: string): void {
  openssl('req', '-x509', ...newKey, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '1', '-subj', `/CN=${cn}`);
}

let server: https.Server;
let port = 0;

beforeAll(async () => {
  selfSigned('ca', 'test-ca');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:kubernetes,IP:127.0.0.1\n');
  issue('kube-apiserver', 'server', ['-extfile', 'san.ext']);
  issue('system:node:one', 'client-one');
  issue('system:node:two', 'client-two');
  server = https.createServer(
    { key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.crt')), ca: readFileSync(join(dir, 'ca.crt')), requestCert: true },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ user: (req.socket as TLSSocket).authorized ? peer.subject?.CN : 'anonymous' }));
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
}, 30_000);

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

describe('RestClient over TLS', () => {
  it('presents the client certificate of the kubeconfig, and the new one after a rotation', async () => {
    symlinkSync('client-one.pem', join(dir, 'kubelet-client-current.pem'));
    const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: default-cluster
  cluster: { server: "https://127.0.0.1:${port}", certificate-authority: ca.crt, tls-server-name: kubernetes }
users:
- name: default-auth
  user: { client-certificate: kubelet-client-current.pem, client-key: kubelet-client-current.pem }
contexts:
- name: default-context
  context: { cluster: default-cluster, user: default-auth }
current-context: default-context
`;
    writeFileSync(join(dir, 'kubelet.conf'), kubeconfig);
    const rest = new RestClient(loadKubeconfig(join(dir, 'kubelet.conf')), { credentialsTtlMs: 0 });
    expect(await rest.request('GET', '/whoami')).toEqual({ user: 'system:node:one' });
    expect(await rest.request('GET', '/whoami')).toEqual({ user: 'system:node:one' });
    symlinkSync('client-two.pem', join(dir, 'next.pem'));
    renameSync(join(dir, 'next.pem'), join(dir, 'kubelet-client-current.pem'));
    expect(await rest.request('GET', '/whoami')).toEqual({ user: 'system:node:two' });
  });

  it('refuses a server its CA did not sign', async () => {
    selfSigned('other', 'other');
    writeFileSync(
      join(dir, 'other.conf'),
      readFileSync(join(dir, 'kubelet.conf'), 'utf8').replace('certificate-authority: ca.crt', 'certificate-authority: other.crt'),
    );
    const rest = new RestClient(loadKubeconfig(join(dir, 'other.conf')));
    await expect(rest.request('GET', '/whoami')).rejects.toThrow(/certificate/);
  });
});
