import type { V1Secret } from '@kubernetes/client-node';
import type { AuthConfig } from '../../gen/cri/runtime/v1/AuthConfig.js';

/** The registry host of an image reference, as Docker resolves it ("docker.io" when none). */
export function registryOf(image: string): string {
  const first = image.split('/')[0] ?? '';
  const isHost = image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  return isHost ? first : 'docker.io';
}

function normaliseRegistry(key: string): string {
  const host = key.replace(/^https?:\/\//, '').split('/')[0] ?? '';
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

interface DockerAuthEntry {
  username?: string;
  password?: string;
  auth?: string;
  identitytoken?: string;
  registrytoken?: string;
}

/**
 * CRI credentials for pulling `image` from the pod's imagePullSecrets
 * (kubernetes.io/dockerconfigjson and legacy kubernetes.io/dockercfg), in secret order.
 * Secrets that do not parse are skipped: the pull then fails with the registry's own error.
 */
export function authForImage(image: string, secrets: readonly V1Secret[]): AuthConfig[] {
  const registry = registryOf(image);
  const out: AuthConfig[] = [];
  for (const secret of secrets) {
    const raw = secret.data?.['.dockerconfigjson'] ?? secret.data?.['.dockercfg'];
    if (!raw) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
    } catch {
      continue;
    }
    const auths = (secret.data?.['.dockerconfigjson'] ? (parsed as { auths?: unknown }).auths : parsed) as Record<string, DockerAuthEntry> | undefined;
    for (const [key, entry] of Object.entries(auths ?? {})) {
      if (normaliseRegistry(key) !== registry) continue;
      let { username, password } = entry;
      if ((!username || !password) && entry.auth) {
        const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon > 0) [username, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
      }
      out.push({
        username: username ?? '',
        password: password ?? '',
        serverAddress: registry,
        identityToken: entry.identitytoken ?? '',
        registryToken: entry.registrytoken ?? '',
      });
    }
  }
  return out;
}

/**
 * Upstream's default pull policy: Always for the tag latest, given or implied (a name
 * with neither tag nor digest), else IfNotPresent; `name:latest@sha256:…` keeps its tag.
 */
export function defaultPullPolicy(image: string): 'Always' | 'IfNotPresent' {
  const at = image.indexOf('@');
  const name = at < 0 ? image : image.slice(0, at);
  const lastSegment = name.split('/').pop() ?? name;
  const tag = lastSegment.includes(':') ? lastSegment.split(':').pop() : at < 0 ? 'latest' : undefined;
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
}
