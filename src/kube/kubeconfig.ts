// The kubeconfig of the kubelet and the proxy: one file, its current context resolved to
// a cluster and a user, checked whole when it is loaded. A field that is wrong, missing
// or not supported fails here, naming the file and the field, not later on the first
// request. client-node's KubeConfig is not used: it imports undici, its auth providers and
// its generated index (~28 MiB of RSS, docs/memory.md); only an `exec` or `auth-provider`
// user loads it, for its credentials (kubeconfig-plugin.ts).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import { TskubeError } from '../common/errors.js';
import { isPlainObject } from '../common/field-readers.js';

export interface KubeCluster {
  name: string;
  server: string;
  /** A CA file (absolute) or base64 PEM (certificate-authority-data). */
  caFile?: string;
  caData?: string;
  insecureSkipTLSVerify?: boolean;
  tlsServerName?: string;
}

export interface KubeUser {
  name: string;
  certFile?: string;
  certData?: string;
  keyFile?: string;
  keyData?: string;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  /** `exec` or `auth-provider`: credentials come from client-node's plugins. */
  plugin?: 'exec' | 'auth-provider';
}

export interface Kubeconfig {
  /** Where it came from, for messages: the file, or "in-cluster configuration". */
  source: string;
  /** The file, when there is one (plugins reload it through client-node). */
  file?: string;
  context: string;
  cluster: KubeCluster;
  user: KubeUser;
  namespace?: string;
}

/** What a connection needs, read from the files the kubeconfig names at the time of asking. */
export interface KubeCredentials {
  tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean; servername?: string };
  headers: Record<string, string>;
}

// client-go's field names (clientcmd/api/v1), and what the loader does with each.
const clusterFields = new Set(['server', 'certificate-authority', 'certificate-authority-data', 'insecure-skip-tls-verify', 'tls-server-name', 'extensions']);
// disable-compression: node:https asks for no compression anyway.
const ignoredClusterFields = new Set(['disable-compression']);
const unsupportedClusterFields: Record<string, string> = { 'proxy-url': 'connecting through a proxy is not supported' };
const userFields = new Set([
  'client-certificate',
  'client-certificate-data',
  'client-key',
  'client-key-data',
  'token',
  'tokenFile',
  'username',
  'password',
  'exec',
  'auth-provider',
  'extensions',
]);
const unsupportedUserFields: Record<string, string> = {
  as: 'impersonation is not supported',
  'as-uid': 'impersonation is not supported',
  'as-groups': 'impersonation is not supported',
  'as-user-extra': 'impersonation is not supported',
};
const contextFields = new Set(['cluster', 'user', 'namespace', 'extensions']);

export function loadKubeconfig(file: string): Kubeconfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = TskubeError.from(err, 'not-found');
    throw new TskubeError(isEnoent(err) ? 'not-found' : e.code, `kubeconfig ${file}: cannot read: ${e.detail}`, { cause: err });
  }
  if (text.trim() === '') throw new TskubeError('invalid-argument', `kubeconfig ${file}: the file is empty`);
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new TskubeError('invalid-argument', `kubeconfig ${file}: not YAML: ${TskubeError.from(err).detail}`, { cause: err });
  }
  // Relative file names resolve against the kubeconfig's folder, as client-go does.
  return { ...resolveKubeconfig(doc, file, dirname(file)), file };
}

/** The current context of a parsed kubeconfig, resolved and checked. */
export function resolveKubeconfig(doc: unknown, source: string, baseDir: string): Kubeconfig {
  const bad = (what: string) => new TskubeError('invalid-argument', `kubeconfig ${source}: ${what}`);
  if (!isPlainObject(doc)) throw bad('not a kubeconfig (expected a mapping with clusters, users, contexts)');
  const contextName = doc['current-context'];
  if (typeof contextName !== 'string' || contextName === '') throw bad('current-context: required (no context is selected)');
  const context = named(doc, 'contexts', 'context', contextName, bad);
  if (!context) throw bad(`current-context: context "${contextName}" is not defined in contexts`);
  const cPath = `contexts[${contextName}].context`;
  checkFields(context, cPath, contextFields, new Set(), {}, bad);
  const clusterName = context['cluster'];
  if (typeof clusterName !== 'string' || clusterName === '') throw bad(`${cPath}.cluster: required`);
  const cluster = named(doc, 'clusters', 'cluster', clusterName, bad);
  if (!cluster) throw bad(`${cPath}.cluster: cluster "${clusterName}" is not defined in clusters`);
  const userName = context['user'];
  if (userName !== undefined && typeof userName !== 'string') throw bad(`${cPath}.user: must be a string`);
  const user = userName ? named(doc, 'users', 'user', userName, bad) : {};
  if (!user) throw bad(`${cPath}.user: user "${userName}" is not defined in users`);
  const namespace = context['namespace'];
  return {
    source,
    context: contextName,
    cluster: readCluster(cluster, clusterName, baseDir, bad),
    user: readUser(user, userName ?? '', baseDir, bad),
    ...(typeof namespace === 'string' && namespace !== '' ? { namespace } : {}),
  };
}

function readCluster(c: Record<string, unknown>, name: string, baseDir: string, bad: (what: string) => TskubeError): KubeCluster {
  const at = `clusters[${name}].cluster`;
  checkFields(c, at, clusterFields, ignoredClusterFields, unsupportedClusterFields, bad);
  const str = stringField(c, at, bad);
  const server = str('server');
  if (!server) throw bad(`${at}.server: required`);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw bad(`${at}.server: "${server}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw bad(`${at}.server: "${server}" must be an http(s) URL`);
  const skip = c['insecure-skip-tls-verify'];
  if (skip !== undefined && typeof skip !== 'boolean') throw bad(`${at}.insecure-skip-tls-verify: must be true or false, not ${JSON.stringify(skip)}`);
  const caData = str('certificate-authority-data');
  const caFile = str('certificate-authority');
  const tlsServerName = str('tls-server-name');
  return {
    name,
    server,
    ...(caData ? { caData } : caFile ? { caFile: resolvePath(baseDir, caFile) } : {}),
    ...(skip ? { insecureSkipTLSVerify: true } : {}),
    ...(tlsServerName ? { tlsServerName } : {}),
  };
}

function readUser(u: Record<string, unknown>, name: string, baseDir: string, bad: (what: string) => TskubeError): KubeUser {
  const at = `users[${name}].user`;
  checkFields(u, at, userFields, new Set(), unsupportedUserFields, bad);
  const str = stringField(u, at, bad);
  const out: KubeUser = { name };
  const certData = str('client-certificate-data');
  const certFile = str('client-certificate');
  const keyData = str('client-key-data');
  const keyFile = str('client-key');
  if (certData) out.certData = certData;
  else if (certFile) out.certFile = resolvePath(baseDir, certFile);
  if (keyData) out.keyData = keyData;
  else if (keyFile) out.keyFile = resolvePath(baseDir, keyFile);
  if ((out.certData || out.certFile) && !(out.keyData || out.keyFile)) throw bad(`${at}.client-key: required with client-certificate`);
  if ((out.keyData || out.keyFile) && !(out.certData || out.certFile)) throw bad(`${at}.client-certificate: required with client-key`);
  const token = str('token');
  const tokenFile = str('tokenFile');
  if (token) out.token = token;
  else if (tokenFile) out.tokenFile = resolvePath(baseDir, tokenFile);
  const username = str('username');
  const password = str('password');
  if (username || password) {
    out.username = username ?? '';
    out.password = password ?? '';
  }
  if (u['exec'] !== undefined && u['exec'] !== null) out.plugin = 'exec';
  else if (u['auth-provider'] !== undefined && u['auth-provider'] !== null) out.plugin = 'auth-provider';
  return out;
}

/**
 * The in-cluster configuration, as client-go's InClusterConfig reads it: the API server from
 * KUBERNETES_SERVICE_HOST and _PORT, the service account's token (re-read, as it rotates) and CA.
 */
export function inClusterKubeconfig(env: NodeJS.ProcessEnv = process.env, dir = '/var/run/secrets/kubernetes.io/serviceaccount'): Kubeconfig {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  const source = 'in-cluster configuration';
  if (!host || !port) throw new TskubeError('invalid-argument', `${source}: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set`);
  const tokenFile = join(dir, 'token');
  try {
    readFileSync(tokenFile);
  } catch (err) {
    throw new TskubeError('invalid-argument', `${source}: cannot read the service account token ${tokenFile}: ${TskubeError.from(err).detail}`);
  }
  return {
    source,
    context: '',
    cluster: { name: 'in-cluster', server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`, caFile: join(dir, 'ca.crt') },
    user: { name: 'in-cluster', tokenFile },
  };
}

/** The same kubeconfig with another API server (`--master`). */
export function withServer(kc: Kubeconfig, server: string): Kubeconfig {
  return { ...kc, cluster: { ...kc.cluster, server } };
}

/**
 * The TLS material and headers for a connection, read now: a rotated client certificate
 * (kubelet-client-current.pem) or token file is picked up by the next call.
 */
export async function kubeCredentials(kc: Kubeconfig): Promise<KubeCredentials> {
  if (kc.user.plugin) {
    const { pluginCredentials } = await import('./kubeconfig-plugin.js');
    return pluginCredentials(kc);
  }
  const { cluster, user } = kc;
  const read = async (file: string, field: string): Promise<Buffer> => {
    try {
      return await readFile(file);
    } catch (err) {
      throw new TskubeError('invalid-argument', `kubeconfig ${kc.source}: ${field}: cannot read ${file}: ${TskubeError.from(err).detail}`, { cause: err });
    }
  };
  const tls: KubeCredentials['tls'] = {};
  if (cluster.caData) tls.ca = Buffer.from(cluster.caData, 'base64');
  else if (cluster.caFile) tls.ca = await read(cluster.caFile, `clusters[${cluster.name}].cluster.certificate-authority`);
  if (cluster.insecureSkipTLSVerify) tls.rejectUnauthorized = false;
  if (cluster.tlsServerName) tls.servername = cluster.tlsServerName;
  const at = `users[${user.name}].user`;
  if (user.certData) tls.cert = Buffer.from(user.certData, 'base64');
  else if (user.certFile) tls.cert = await read(user.certFile, `${at}.client-certificate`);
  if (user.keyData) tls.key = Buffer.from(user.keyData, 'base64');
  else if (user.keyFile) tls.key = await read(user.keyFile, `${at}.client-key`);
  const headers: Record<string, string> = {};
  const token = user.token ?? (user.tokenFile ? (await read(user.tokenFile, `${at}.tokenFile`)).toString('utf8').trim() : undefined);
  if (token) headers['authorization'] = `Bearer ${token}`;
  else if (user.username !== undefined) headers['authorization'] = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
  return { tls, headers };
}

function named(
  doc: Record<string, unknown>,
  list: string,
  field: string,
  name: string,
  bad: (what: string) => TskubeError,
): Record<string, unknown> | undefined {
  const items = doc[list];
  if (items === undefined || items === null) return undefined;
  if (!Array.isArray(items)) throw bad(`${list}: must be a list`);
  const entry = items.find((i) => isPlainObject(i) && i['name'] === name) as Record<string, unknown> | undefined;
  if (!entry) return undefined;
  const value = entry[field];
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw bad(`${list}[${name}].${field}: must be a mapping`);
  return value;
}

function checkFields(
  obj: Record<string, unknown>,
  at: string,
  known: Set<string>,
  ignored: Set<string>,
  unsupported: Record<string, string>,
  bad: (what: string) => TskubeError,
): void {
  for (const key of Object.keys(obj)) {
    if (obj[key] === undefined || obj[key] === null || known.has(key) || ignored.has(key)) continue;
    const why = unsupported[key];
    throw bad(`${at}.${key}: ${why ?? 'unknown field'}`);
  }
}

function stringField(obj: Record<string, unknown>, at: string, bad: (what: string) => TskubeError): (key: string) => string | undefined {
  return (key) => {
    const v = obj[key];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') throw bad(`${at}.${key}: must be a string, not ${JSON.stringify(v)}`);
    return v;
  };
}

function resolvePath(baseDir: string, file: string): string {
  return isAbsolute(file) ? file : join(baseDir, file);
}

function isEnoent(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT';
}
