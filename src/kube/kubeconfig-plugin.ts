// Credentials of an `exec` (client.authentication.k8s.io ExecCredential) or `auth-provider`
// user, from client-node, loaded only for such a user. Its exec support runs the plugin,
// caches the credential until it expires and handles the interactive and cluster-info
// settings; its auth providers cover OIDC and the cloud ones. A kubelet or proxy whose
// kubeconfig holds a certificate or token (kubeadm's, the TLS bootstrap's) never loads it.
import type { RequestOptions } from 'node:https';
// Static here (this module itself is loaded lazily), so the bundle keeps only what KubeConfig uses.
import { KubeConfig } from '@kubernetes/client-node';
import { TskubeError } from '../common/errors.js';
import type { KubeCredentials, Kubeconfig } from './kubeconfig.js';

export async function pluginCredentials(kc: Kubeconfig): Promise<KubeCredentials> {
  if (!kc.file) throw new TskubeError('invalid-argument', `kubeconfig ${kc.source}: users[${kc.user.name}].user.${kc.user.plugin}: needs a kubeconfig file`);
  const options: RequestOptions = {};
  try {
    const loaded = new KubeConfig();
    loaded.loadFromFile(kc.file);
    loaded.setCurrentContext(kc.context);
    await loaded.applyToHTTPSOptions(options);
  } catch (err) {
    throw new TskubeError('invalid-argument', `kubeconfig ${kc.source}: users[${kc.user.name}].user.${kc.user.plugin}: ${TskubeError.from(err).detail}`, {
      cause: err,
    });
  }
  const tls: KubeCredentials['tls'] = {};
  for (const k of ['ca', 'cert', 'key'] as const) {
    const v = options[k];
    if (typeof v === 'string' || Buffer.isBuffer(v)) tls[k] = Buffer.from(v as string | Buffer);
  }
  if (options.rejectUnauthorized === false) tls.rejectUnauthorized = false;
  if (options.servername) tls.servername = options.servername;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.headers ?? {})) if (typeof v === 'string') headers[k.toLowerCase()] = v;
  if (options.auth && !headers['authorization']) headers['authorization'] = `Basic ${Buffer.from(options.auth).toString('base64')}`;
  return { tls, headers };
}
