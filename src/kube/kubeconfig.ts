// Loads a kubeconfig the way the kubelet and proxy need it: one file, its current
// context complete. client-node's own loader accepts half a kubeconfig and fails
// later on the first request with a message that names neither file nor field.
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { TskubeError } from '../common/errors.js';

export function loadKubeconfig(file: string): KubeConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = TskubeError.from(err, 'not-found');
    throw new TskubeError(isEnoent(err) ? 'not-found' : e.code, `kubeconfig ${file}: cannot read: ${e.detail}`, { cause: err });
  }
  if (text.trim() === '') throw new TskubeError('invalid-argument', `kubeconfig ${file}: the file is empty`);
  const kc = new KubeConfig();
  try {
    // loadFromString resolves relative certificate paths against the process cwd;
    // loadFromFile resolves them against the file's folder, as kubectl does.
    kc.loadFromFile(file);
  } catch (err) {
    throw new TskubeError('invalid-argument', `kubeconfig ${file}: ${TskubeError.from(err).detail}`, { cause: err });
  }
  validateKubeconfig(kc, file);
  return kc;
}

/** Checks that the current context names a cluster with a server and a user. */
export function validateKubeconfig(kc: KubeConfig, source: string): void {
  const bad = (what: string) => new TskubeError('invalid-argument', `kubeconfig ${source}: ${what}`);
  const contextName = kc.getCurrentContext();
  if (!contextName) throw bad('current-context: required (no context is selected)');
  const context = kc.getContextObject(contextName);
  if (!context) throw bad(`current-context: context "${contextName}" is not defined in contexts`);
  const cluster = kc.getCluster(context.cluster);
  if (!cluster) throw bad(`contexts[${contextName}].cluster: cluster "${context.cluster}" is not defined in clusters`);
  if (!cluster.server) throw bad(`clusters[${cluster.name}].server: required`);
  let url: URL;
  try {
    url = new URL(cluster.server);
  } catch {
    throw bad(`clusters[${cluster.name}].server: "${cluster.server}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw bad(`clusters[${cluster.name}].server: "${cluster.server}" must be an http(s) URL`);
  }
  if (context.user && !kc.getUser(context.user)) {
    throw bad(`contexts[${contextName}].user: user "${context.user}" is not defined in users`);
  }
}

function isEnoent(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT';
}
