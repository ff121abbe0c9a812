import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inClusterKubeconfig, kubeCredentials, loadKubeconfig, withServer } from '../../src/kube/kubeconfig.js';
import { TskubeError } from '../../src/common/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'tskube-kubeconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

const good = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: { server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true }
users:
- name: u
  user: { token: abc }
contexts:
- name: ctx
  context: { cluster: c, user: u }
current-context: ctx
`;

// The three shapes kubeadm writes (field order and all): the node's kubeconfig after the
// TLS bootstrap, the bootstrap one, and the admin's.
function kubeadmConf(cluster: string, user: string, credentials: string): string {
  return `apiVersion: v1
clusters:
- cluster:
${cluster}
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: ${user}
  name: ${user}@kubernetes
current-context: ${user}@kubernetes
kind: Config
preferences: {}
users:
- name: ${user}
  user:
${credentials}
`;
}
const embeddedCA = `    certificate-authority-data: ${b64('CA PEM')}\n    server: https://10.0.0.1:6443`;
const kubeletConf = kubeadmConf(
  embeddedCA,
  'system:node:node-1',
  '    client-certificate: pki/kubelet-client-current.pem\n    client-key: pki/kubelet-client-current.pem',
);
const bootstrapConf = kubeadmConf(
  '    certificate-authority: ca.crt\n    server: https://cp.example:6443\n    tls-server-name: kubernetes',
  'tls-bootstrap-token-user',
  '    token: abcdef.0123456789abcdef',
);
const adminConf = kubeadmConf(embeddedCA, 'kubernetes-admin', `    client-certificate-data: ${b64('ADMIN CERT')}\n    client-key-data: ${b64('ADMIN KEY')}`);

function errorOf(fn: () => unknown): TskubeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TskubeError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

async function rejection(p: Promise<unknown>): Promise<TskubeError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TskubeError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('loadKubeconfig', () => {
  it('loads a complete kubeconfig', async () => {
    const kc = loadKubeconfig(write('good', good));
    expect(kc.cluster.server).toBe('https://127.0.0.1:6443');
    expect(await kubeCredentials(kc)).toEqual({ tls: { rejectUnauthorized: false }, headers: { authorization: 'Bearer abc' } });
  });

  it("reads kubeadm's kubelet.conf, with the client pair resolved against the file's folder and re-read when it rotates", async () => {
    mkdirSync(join(dir, 'node', 'pki'), { recursive: true });
    writeFileSync(join(dir, 'node', 'pki', 'kubelet-client-2026-01-01.pem'), 'PAIR ONE');
    symlinkSync('kubelet-client-2026-01-01.pem', join(dir, 'node', 'pki', 'kubelet-client-current.pem'));
    const file = join(dir, 'node', 'kubelet.conf');
    writeFileSync(file, kubeletConf);
    const kc = loadKubeconfig(file);
    expect(kc.context).toBe('system:node:node-1@kubernetes');
    expect(kc.cluster).toEqual({ name: 'kubernetes', server: 'https://10.0.0.1:6443', caData: b64('CA PEM') });
    expect(kc.user.certFile).toBe(join(dir, 'node', 'pki', 'kubelet-client-current.pem'));
    const first = await kubeCredentials(kc);
    expect(first.tls.ca?.toString()).toBe('CA PEM');
    expect(first.tls.cert?.toString()).toBe('PAIR ONE');
    expect(first.tls.key?.toString()).toBe('PAIR ONE');
    expect(first.headers).toEqual({});
    // The rotation writes a new dated file and switches the symlink.
    writeFileSync(join(dir, 'node', 'pki', 'kubelet-client-2026-02-01.pem'), 'PAIR TWO');
    symlinkSync('kubelet-client-2026-02-01.pem', join(dir, 'node', 'pki', 'next.pem'));
    renameSync(join(dir, 'node', 'pki', 'next.pem'), join(dir, 'node', 'pki', 'kubelet-client-current.pem'));
    expect((await kubeCredentials(kc)).tls.cert?.toString()).toBe('PAIR TWO');
  });

  it("reads kubeadm's bootstrap-kubelet.conf: token, CA file, tls-server-name", async () => {
    mkdirSync(join(dir, 'boot'));
    writeFileSync(join(dir, 'boot', 'ca.crt'), 'CA FILE');
    const kc = loadKubeconfig(write('boot/bootstrap-kubelet.conf', bootstrapConf));
    expect(kc.cluster.caFile).toBe(join(dir, 'boot', 'ca.crt'));
    expect(await kubeCredentials(kc)).toEqual({
      tls: { ca: Buffer.from('CA FILE'), servername: 'kubernetes' },
      headers: { authorization: 'Bearer abcdef.0123456789abcdef' },
    });
  });

  it("reads kubeadm's admin.conf with embedded certificate and key", async () => {
    const kc = loadKubeconfig(write('admin.conf', adminConf));
    const c = await kubeCredentials(kc);
    expect([c.tls.cert?.toString(), c.tls.key?.toString(), c.tls.ca?.toString()]).toEqual(['ADMIN CERT', 'ADMIN KEY', 'CA PEM']);
    expect(withServer(kc, 'https://other:6443').cluster.server).toBe('https://other:6443');
  });

  it('re-reads a tokenFile (trimmed) on every call; basic auth', async () => {
    const tokenFile = write('token', 'first\n');
    const kc = loadKubeconfig(write('tf', good.replace('user: { token: abc }', 'user: { tokenFile: token }')));
    expect((await kubeCredentials(kc)).headers).toEqual({ authorization: 'Bearer first' });
    writeFileSync(tokenFile, 'second');
    expect((await kubeCredentials(kc)).headers).toEqual({ authorization: 'Bearer second' });
    const basic = loadKubeconfig(write('basic', good.replace('user: { token: abc }', 'user: { username: me, password: pw }')));
    expect((await kubeCredentials(basic)).headers).toEqual({ authorization: `Basic ${b64('me:pw')}` });
  });

  it('gets an exec user its credential through the ExecCredential protocol', async () => {
    const credential = JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 'from-exec' } });
    const script = write('plugin.sh', `#!/bin/sh\necho '${credential}'\n`);
    const exec = `user: { exec: { apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, args: ["${script}"], interactiveMode: Never } }`;
    const kc = loadKubeconfig(write('exec', good.replace('user: { token: abc }', exec)));
    expect(kc.user.plugin).toBe('exec');
    expect((await kubeCredentials(kc)).headers['authorization']).toBe('Bearer from-exec');
  });

  it('names the file and the field of a certificate it cannot read', async () => {
    const file = write('missing-cert', adminConf.replace(/client-certificate-data: .*/, 'client-certificate: nope.pem'));
    const e = await rejection(kubeCredentials(loadKubeconfig(file)));
    expect(e.message).toContain(file);
    expect(e.message).toContain('users[kubernetes-admin].user.client-certificate: cannot read');
    expect(e.message).toContain(join(dir, 'nope.pem'));
  });

  it('reads the in-cluster configuration from the environment and the service account folder', async () => {
    const sa = join(dir, 'sa');
    mkdirSync(sa);
    writeFileSync(join(sa, 'token'), 'sa-token\n');
    writeFileSync(join(sa, 'ca.crt'), 'SA CA');
    const kc = inClusterKubeconfig({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, sa);
    expect(kc.cluster.server).toBe('https://[fd00::1]:443');
    expect(await kubeCredentials(kc)).toEqual({ tls: { ca: Buffer.from('SA CA') }, headers: { authorization: 'Bearer sa-token' } });
    expect(() => inClusterKubeconfig({}, sa)).toThrow(/KUBERNETES_SERVICE_HOST/);
  });

  it('names the file when it is missing', () => {
    const e = errorOf(() => loadKubeconfig(join(dir, 'nope')));
    expect(e.code).toBe('not-found');
    expect(e.message).toContain(join(dir, 'nope'));
  });

  it('names the file and the field that is wrong', () => {
    const cases: [string, string, RegExp][] = [
      ['empty', '', /the file is empty/],
      ['no-context', good.replace('current-context: ctx', ''), /current-context: required/],
      ['bad-context', good.replace('current-context: ctx', 'current-context: other'), /context "other" is not defined/],
      ['no-cluster', good.replace('context: { cluster: c, user: u }', 'context: { user: u }'), /contexts\[ctx\]\.context\.cluster: required/],
      ['no-server', good.replace('server: "https://127.0.0.1:6443", ', ''), /clusters\[c\]\.cluster\.server: required/],
      ['bad-server', good.replace('https://127.0.0.1:6443', 'not a url'), /is not a URL/],
      ['ftp-server', good.replace('https://127.0.0.1:6443', 'ftp://x'), /must be an http\(s\) URL/],
      ['bad-user', good.replace('user: u }', 'user: ghost }'), /user "ghost" is not defined/],
      ['not-yaml', 'clusters: [', /not YAML/],
      ['unknown-user-field', good.replace('user: { token: abc }', 'user: { token: abc, tokn: x }'), /users\[u\]\.user\.tokn: unknown field/],
      ['impersonation', good.replace('user: { token: abc }', 'user: { token: abc, as: admin }'), /users\[u\]\.user\.as: impersonation is not supported/],
      ['proxy-url', good.replace('insecure-skip-tls-verify: true', 'proxy-url: "http://proxy:3128"'), /clusters\[c\]\.cluster\.proxy-url: connecting/],
      ['skip-not-bool', good.replace('insecure-skip-tls-verify: true', 'insecure-skip-tls-verify: "yes"'), /insecure-skip-tls-verify: must be true or false/],
      ['cert-no-key', adminConf.replace(/ {4}client-key-data: .*\n/, ''), /users\[kubernetes-admin\]\.user\.client-key: required with client-certificate/],
      ['token-not-string', good.replace('token: abc', 'token: [a]'), /users\[u\]\.user\.token: must be a string/],
    ];
    for (const [name, text, re] of cases) {
      const file = write(name, text);
      const e = errorOf(() => loadKubeconfig(file));
      expect(e.code, name).toBe('invalid-argument');
      expect(e.message, name).toContain(file);
      expect(e.message, name).toMatch(re);
    }
  });
});
