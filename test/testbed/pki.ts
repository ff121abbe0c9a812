// The certificates and keys of one testbed, made fresh with openssl: the same
// set `kubeadm init` writes to /etc/kubernetes/pki, minus etcd's (etcd here
// speaks plain HTTP on loopback only).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './exec.ts';

export interface KeyPair {
  cert: string;
  key: string;
}

export interface Pki {
  ca: KeyPair;
  apiserver: KeyPair;
  apiserverKubeletClient: KeyPair;
  frontProxyCa: KeyPair;
  frontProxyClient: KeyPair;
  serviceAccount: { key: string; pub: string };
  admin: KeyPair;
  controllerManager: KeyPair;
  scheduler: KeyPair;
}

export interface PkiOptions {
  // The first address of the service CIDR: pods reach the apiserver there as
  // the `kubernetes` Service, so it must be in the serving cert.
  kubernetesServiceIP: string;
  clusterDomain: string;
  /** More addresses the apiserver is reached at (the --netns address). */
  extraApiserverIPs?: string[];
}

const CA_DAYS = '3650';
const LEAF_DAYS = '365';

export async function makePki(dir: string, options: PkiOptions): Promise<Pki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // An empty config keeps the host's openssl.cnf (and its default extensions,
  // which would mark every cert a CA) out of the result.
  const config = join(dir, 'openssl.cnf');
  await writeFile(config, '[req]\ndistinguished_name = dn\n[dn]\n');
  const ssl = (args: string[]) => run('openssl', args, { env: { ...process.env, OPENSSL_CONF: config } });
  const path = (name: string): KeyPair => ({ cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) });

  // P-256 keys: as good as RSA for TLS here and ten times faster to make.
  const newKey = (file: string) => ssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file]);

  const newCa = async (name: string, cn: string): Promise<KeyPair> => {
    const p = path(name);
    await newKey(p.key);
    await ssl([
      'req',
      '-config',
      config,
      '-x509',
      '-new',
      '-key',
      p.key,
      '-subj',
      `/CN=${cn}`,
      '-days',
      CA_DAYS,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
      '-out',
      p.cert,
    ]);
    return p;
  };

  const newLeaf = async (
    ca: KeyPair,
    name: string,
    subject: { cn: string; o?: string },
    usage: 'serverAuth' | 'clientAuth',
    sans: string[] = [],
  ): Promise<KeyPair> => {
    const p = path(name);
    await newKey(p.key);
    const subj = `${subject.o ? `/O=${subject.o}` : ''}/CN=${subject.cn}`;
    const ext = ['-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'keyUsage=critical,digitalSignature', '-addext', `extendedKeyUsage=${usage}`];
    if (sans.length > 0) ext.push('-addext', `subjectAltName=${sans.join(',')}`);
    await ssl([
      'req',
      '-config',
      config,
      '-x509',
      '-new',
      '-key',
      p.key,
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
      '-subj',
      subj,
      '-days',
      LEAF_DAYS,
      ...ext,
      '-out',
      p.cert,
    ]);
    return p;
  };

  const [ca, frontProxyCa] = await Promise.all([newCa('ca', 'kubernetes'), newCa('front-proxy-ca', 'front-proxy-ca')]);

  const d = options.clusterDomain;
  const apiserverSans = [
    'DNS:localhost',
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    `DNS:kubernetes.default.svc.${d}`,
    'IP:127.0.0.1',
    'IP:::1',
    `IP:${options.kubernetesServiceIP}`,
    ...(options.extraApiserverIPs ?? []).map((ip) => `IP:${ip}`),
  ];
  const serviceAccount = { key: join(dir, 'sa.key'), pub: join(dir, 'sa.pub') };

  const [apiserver, apiserverKubeletClient, frontProxyClient, admin, controllerManager, scheduler] = await Promise.all([
    newLeaf(ca, 'apiserver', { cn: 'kube-apiserver' }, 'serverAuth', apiserverSans),
    // system:masters: the kubelet asks the apiserver (SubjectAccessReview)
    // whether this user may use nodes/proxy, log and exec; masters always may.
    newLeaf(ca, 'apiserver-kubelet-client', { cn: 'kube-apiserver-kubelet-client', o: 'system:masters' }, 'clientAuth'),
    newLeaf(frontProxyCa, 'front-proxy-client', { cn: 'front-proxy-client' }, 'clientAuth'),
    newLeaf(ca, 'admin', { cn: 'kubernetes-admin', o: 'system:masters' }, 'clientAuth'),
    // These user names are the ones the bootstrap RBAC policy grants
    // the controller manager's and scheduler's permissions to.
    newLeaf(ca, 'controller-manager', { cn: 'system:kube-controller-manager' }, 'clientAuth'),
    newLeaf(ca, 'scheduler', { cn: 'system:kube-scheduler' }, 'clientAuth'),
    // RSA for service account tokens: RS256 is what every token consumer
    // expects to verify.
    (async () => {
      await ssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', serviceAccount.key]);
      await ssl(['pkey', '-in', serviceAccount.key, '-pubout', '-out', serviceAccount.pub]);
    })(),
  ]);

  return { ca, apiserver, apiserverKubeletClient, frontProxyCa, frontProxyClient, serviceAccount, admin, controllerManager, scheduler };
}
