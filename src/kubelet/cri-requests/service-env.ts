import type { V1Service } from '@kubernetes/client-node';

// The Docker-links style variables the kubelet gives every container for the Services of
// its namespace (enableServiceLinks) and, always, for the API server's `kubernetes`
// Service in `default`: in-cluster clients find the API server through
// KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT.

const masterServices = new Set(['kubernetes']);

function envName(s: string): string {
  return s.replace(/-/g, '_').toUpperCase();
}

function hasClusterIP(s: V1Service): boolean {
  const ip = s.spec?.clusterIP;
  return ip !== undefined && ip !== '' && ip !== 'None';
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The variables for one Service, in upstream's order. */
export function serviceEnvVars(service: V1Service): { name: string; value: string }[] {
  if (!hasClusterIP(service)) return [];
  const ports = service.spec?.ports ?? [];
  const first = ports[0];
  if (!first) return [];
  const prefix = envName(service.metadata?.name ?? '');
  const ip = service.spec?.clusterIP ?? '';
  const out = [
    { name: `${prefix}_SERVICE_HOST`, value: ip },
    { name: `${prefix}_SERVICE_PORT`, value: String(first.port) },
  ];
  for (const p of ports) if (p.name) out.push({ name: `${prefix}_SERVICE_PORT_${envName(p.name)}`, value: String(p.port) });
  ports.forEach((p, i) => {
    const protocol = p.protocol || 'TCP';
    const lower = protocol.toLowerCase();
    const url = `${lower}://${joinHostPort(ip, p.port)}`;
    if (i === 0) out.push({ name: `${prefix}_PORT`, value: url });
    const pp = `${prefix}_PORT_${p.port}_${protocol.toUpperCase()}`;
    out.push({ name: pp, value: url }, { name: `${pp}_PROTO`, value: lower }, { name: `${pp}_PORT`, value: String(p.port) }, { name: `${pp}_ADDR`, value: ip });
  });
  return out;
}

/**
 * The service variables for a pod in `namespace`: the master services of `default`
 * always, the namespace's own Services when enableServiceLinks (default true). Services
 * are taken in name order so the result is stable.
 */
export function serviceEnvMap(services: V1Service[], namespace: string, enableServiceLinks: boolean): Map<string, string> {
  const chosen = new Map<string, V1Service>();
  for (const s of services) {
    if (!hasClusterIP(s)) continue;
    const name = s.metadata?.name ?? '';
    const ns = s.metadata?.namespace ?? '';
    if (ns === 'default' && masterServices.has(name)) {
      if (!chosen.has(name)) chosen.set(name, s);
    } else if (ns === namespace && enableServiceLinks) {
      chosen.set(name, s);
    }
  }
  const env = new Map<string, string>();
  for (const name of [...chosen.keys()].sort()) {
    const s = chosen.get(name);
    if (s) for (const v of serviceEnvVars(s)) env.set(v.name, v.value);
  }
  return env;
}
