// The health-check servers of LoadBalancer Services with externalTrafficPolicy Local:
// one HTTP server per Service on its healthCheckNodePort, answering 200 while this node
// has a ready endpoint of it (and the proxy is healthy), 503 otherwise, so the load
// balancer sends traffic only to nodes that can take it. Upstream's body, byte for byte.
import type { Server } from 'node:http';
import type { Logger } from '../../common/logger.js';
import type { IPFamily } from '../net/ip.js';
import type { ServicePortPlan } from '../plan/service-port-plan.js';
import type { AfterSync } from '../sync/proxy-syncer.js';
import { closeServer, type Listen } from './http-servers.js';

export interface ServiceHealthServersOptions {
  listen: Listen;
  /** Where to bind for a family: the NodePort addresses, or the wildcard address. */
  addresses: (family: IPFamily) => string[];
  proxyHealthy: () => boolean;
  log: Logger;
  /** Called when a port cannot be bound (upstream records a FailedToStartServiceHealthcheck event). */
  onListenFailed?: (service: string, port: number, err: unknown) => void;
}

interface Instance {
  port: number;
  servers: Server[];
  localEndpoints: number;
}

export function healthCheckBody(service: string, localEndpoints: number, healthy: boolean): string {
  const [namespace, name] = service.split('/');
  return `{\n\t"service": {\n\t\t"namespace": ${JSON.stringify(namespace)},\n\t\t"name": ${JSON.stringify(name)}\n\t},\n\t"localEndpoints": ${localEndpoints},\n\t"serviceProxyHealthy": ${healthy}\n}`;
}

/** Service key → health-check port, and → local ready endpoints, from every port's plan. */
export function healthCheckTargets(plans: Iterable<ServicePortPlan>): { ports: Map<string, number>; endpoints: Map<string, number> } {
  const ports = new Map<string, number>();
  const endpoints = new Map<string, number>();
  for (const plan of plans) {
    const p = plan.port;
    if (p.healthCheckNodePort !== 0) ports.set(p.serviceKey, p.healthCheckNodePort);
    // As upstream's LocalReadyEndpoints: the last port of the Service wins.
    endpoints.set(p.serviceKey, plan.categorized.local.filter((ep) => ep.ready).length);
  }
  return { ports, endpoints };
}

export class ServiceHealthServers implements AfterSync {
  readonly #o: ServiceHealthServersOptions;
  readonly #byFamily = new Map<IPFamily, Map<string, Instance>>();

  constructor(options: ServiceHealthServersOptions) {
    this.#o = options;
  }

  async afterSync(family: IPFamily, plans: ReadonlyMap<string, ServicePortPlan>): Promise<void> {
    const { ports, endpoints } = healthCheckTargets(plans.values());
    let instances = this.#byFamily.get(family);
    if (!instances) {
      instances = new Map();
      this.#byFamily.set(family, instances);
    }
    for (const [service, instance] of instances) {
      if (ports.get(service) === instance.port) continue;
      await Promise.all(instance.servers.map(closeServer));
      instances.delete(service);
    }
    for (const [service, port] of ports) {
      if (instances.has(service)) continue;
      const instance: Instance = { port, servers: [], localEndpoints: 0 };
      try {
        for (const host of this.#o.addresses(family)) {
          instance.servers.push(await this.#o.listen(host, port, (_req, res) => this.#answer(res, service, instance)));
        }
        instances.set(service, instance);
        this.#o.log.info({ service, port, ipFamily: family }, 'serving the health check of a Service');
      } catch (err) {
        await Promise.all(instance.servers.map(closeServer));
        this.#o.onListenFailed?.(service, port, err);
      }
    }
    for (const [service, instance] of instances) instance.localEndpoints = endpoints.get(service) ?? 0;
  }

  #answer(res: import('node:http').ServerResponse, service: string, instance: Instance): void {
    const healthy = this.#o.proxyHealthy();
    const ok = instance.localEndpoints !== 0 && healthy;
    res.writeHead(ok ? 200 : 503, {
      'Content-Type': 'application/json',
      'X-Content-Type-Options': 'nosniff',
      'X-Load-Balancing-Endpoint-Weight': String(instance.localEndpoints),
    });
    res.end(healthCheckBody(service, instance.localEndpoints, healthy));
  }

  async close(): Promise<void> {
    for (const instances of this.#byFamily.values()) {
      for (const instance of instances.values()) await Promise.all(instance.servers.map(closeServer));
      instances.clear();
    }
  }
}
