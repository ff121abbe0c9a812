import type { V1ConfigMap, V1Container, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import { TskubeError } from '../../common/errors.js';
import { fieldRefValue, resourceFieldRefValue, type NodeAllocatable } from './env-field-ref.js';
import { expandVars, lookupIn } from './expansion.js';
import { containerField } from './pod-resources.js';
import { serviceEnvMap } from './service-env.js';
import type { WaitingReason } from '../pods/waiting-reason.js';
import { isStaticPod } from '../pods/pod-source.js';

/** What resolveEnv needs from outside; the caller fetches it, resolveEnv stays pure. */
export interface EnvSources {
  configMap(namespace: string, name: string): V1ConfigMap | undefined;
  secret(namespace: string, name: string): V1Secret | undefined;
  hostIP: string;
  hostIPs: string[];
  podIPs: string[];
  nodeName: string;
  nodeAllocatable: NodeAllocatable;
  /**
   * Services known to the kubelet (all namespaces); gives KUBERNETES_SERVICE_HOST and,
   * with enableServiceLinks, the namespace's service variables. Absent (standalone): none
   * are added. 'not-synced': the kubelet has not listed them yet, and a pod from the API
   * waits (as upstream's: its in-cluster clients need KUBERNETES_SERVICE_HOST).
   */
  services?: V1Service[] | 'not-synced';
}

export type ResolvedEnv =
  | {
      ok: true;
      env: { name: string; value: string }[];
      /** Things to report as Warning events (InvalidEnvironmentVariableNames). */
      warnings: string[];
    }
  | ({ ok: false } & WaitingReason & { reason: 'CreateContainerConfigError' });

/** Env var names the kubelet accepts (relaxed validation): printable ASCII without '='. */
export function isValidEnvVarName(name: string): boolean {
  return name !== '' && /^[\x20-\x3c\x3e-\x7e]+$/.test(name);
}

/** Secret data is base64 in the API; stringData (write-only, but present in static files) wins. */
export function secretValues(secret: V1Secret): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(secret.data ?? {})) out.set(k, Buffer.from(v, 'base64').toString('utf8'));
  for (const [k, v] of Object.entries(secret.stringData ?? {})) out.set(k, v);
  return out;
}

class EnvError extends Error {}

/**
 * The container's environment as the upstream kubelet makes it: envFrom sources first
 * (in order, later ones overriding, keys with the prefix; names that cannot be env vars
 * skipped with a warning), then `env` in order, each either a value with `$(VAR)`
 * references expanded against what came before and the service variables, or a
 * fieldRef / resourceFieldRef / configMapKeyRef / secretKeyRef; then the service
 * variables not already set. A missing ConfigMap, Secret or key fails with upstream's
 * message unless the reference is optional, in which case the variable is left out.
 */
export function resolveEnv(pod: V1Pod, container: V1Container, sources: EnvSources): ResolvedEnv {
  try {
    return resolve(pod, container, sources);
  } catch (err) {
    if (err instanceof EnvError || err instanceof TskubeError) {
      return { ok: false, reason: 'CreateContainerConfigError', message: err instanceof TskubeError ? err.detail : err.message };
    }
    throw err;
  }
}

function resolve(pod: V1Pod, container: V1Container, sources: EnvSources): ResolvedEnv {
  const ns = pod.metadata?.namespace ?? '';
  const warnings: string[] = [];
  if (sources.services === 'not-synced' && !isStaticPod(pod)) throw new EnvError('services have not yet been read at least once, cannot construct envvars');
  const services = sources.services === 'not-synced' ? [] : (sources.services ?? []);
  const serviceEnv = serviceEnvMap(services, ns, pod.spec?.enableServiceLinks !== false);
  const configMaps = new Map<string, V1ConfigMap | undefined>();
  const secrets = new Map<string, Map<string, string> | undefined>();
  const getConfigMap = (name: string) => {
    if (!configMaps.has(name)) configMaps.set(name, sources.configMap(ns, name));
    return configMaps.get(name);
  };
  const getSecret = (name: string) => {
    if (!secrets.has(name)) {
      const s = sources.secret(ns, name);
      secrets.set(name, s ? secretValues(s) : undefined);
    }
    return secrets.get(name);
  };

  const env = new Map<string, string>();
  (container.envFrom ?? []).forEach((from, i) => {
    const prefix = from.prefix ?? '';
    let values: Iterable<[string, string]>;
    let what: string;
    if (from.configMapRef) {
      const name = from.configMapRef.name ?? '';
      const cm = getConfigMap(name);
      if (!cm) {
        if (from.configMapRef.optional) return;
        throw new EnvError(`configmap ${JSON.stringify(name)} not found`);
      }
      values = Object.entries(cm.data ?? {});
      what = `configMap ${ns}/${name}`;
    } else if (from.secretRef) {
      const name = from.secretRef.name ?? '';
      const s = getSecret(name);
      if (!s) {
        if (from.secretRef.optional) return;
        throw new EnvError(`secret ${JSON.stringify(name)} not found`);
      }
      values = s;
      what = `secret ${ns}/${name}`;
    } else {
      throw new EnvError(`${containerField(pod, container)}.envFrom[${i}]: neither configMapRef nor secretRef is set`);
    }
    const invalid: string[] = [];
    for (const [k, v] of [...values].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const key = prefix + k;
      if (!isValidEnvVarName(key)) {
        invalid.push(key);
        continue;
      }
      env.set(key, v);
    }
    if (invalid.length > 0) {
      warnings.push(`Keys [${invalid.join(', ')}] from the EnvFrom ${what} were skipped since they are considered invalid environment variable names.`);
    }
  });

  const lookup = lookupIn(env, serviceEnv);
  const field = (i: number) => `${containerField(pod, container)}.env[${i}]`;
  (container.env ?? []).forEach((v, i) => {
    let value: string | undefined = v.value ?? '';
    const from = v.valueFrom;
    if (value !== '') {
      value = expandVars(value, lookup);
    } else if (from?.fieldRef) {
      value = fieldRefValue(
        pod,
        from.fieldRef,
        { hostIPs: sources.hostIPs.length > 0 ? sources.hostIPs : [sources.hostIP], podIPs: sources.podIPs },
        `${field(i)}.valueFrom.fieldRef`,
      );
    } else if (from?.resourceFieldRef) {
      value = resourceFieldRefValue(pod, container, from.resourceFieldRef, sources.nodeAllocatable, `${field(i)}.valueFrom.resourceFieldRef`);
    } else if (from?.configMapKeyRef) {
      const { name = '', key, optional } = from.configMapKeyRef;
      const cm = getConfigMap(name);
      if (!cm) {
        if (optional) return;
        throw new EnvError(`configmap ${JSON.stringify(name)} not found`);
      }
      value = cm.data?.[key];
      if (value === undefined) {
        if (optional) return;
        throw new EnvError(`couldn't find key ${key} in ConfigMap ${ns}/${name}`);
      }
    } else if (from?.secretKeyRef) {
      const { name = '', key, optional } = from.secretKeyRef;
      const s = getSecret(name);
      if (!s) {
        if (optional) return;
        throw new EnvError(`secret ${JSON.stringify(name)} not found`);
      }
      value = s.get(key);
      if (value === undefined) {
        if (optional) return;
        throw new EnvError(`couldn't find key ${key} in Secret ${ns}/${name}`);
      }
    } else if (from?.fileKeyRef) {
      throw new EnvError(`${field(i)}.valueFrom.fileKeyRef: env vars from files are not supported by this kubelet yet`);
    }
    env.set(v.name, value);
  });

  for (const [k, v] of serviceEnv) if (!env.has(k)) env.set(k, v);
  return { ok: true, env: [...env].map(([name, value]) => ({ name, value })), warnings };
}
