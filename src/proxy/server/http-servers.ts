// The proxy's two HTTP servers, as upstream serves them:
//   :10256  /healthz, /livez         (ProxyHealthServer: JSON, 200 or 503)
//   :10249  /metrics, /proxyMode, /healthz, /configz
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TskubeError } from '../../common/errors.js';
import type { Node } from '../model/api-objects.js';
import { healthzResponse, livezResponse, type ProxyHealthState } from './proxy-health.js';
import type { ProxyMetrics } from './proxy-metrics.js';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Binds a server; the seam tests use to bind inside a network namespace. */
export type Listen = (host: string, port: number, handler: Handler) => Promise<Server>;

export const listenHere: Listen = (host, port, handler) =>
  new Promise((resolve, reject) => {
    const server = createServer(handler);
    server.once('error', reject);
    // "::" and "0.0.0.0" of the two families' servers share a port: each keeps to its own.
    server.listen({ host, port, ipv6Only: host.includes(':') }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });

/** "0.0.0.0:10256", "[::]:10256" → host and port. */
export function splitHostPort(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (!m) throw new TskubeError('invalid-argument', `address "${address}": want IP:port`);
  return { host: m[1] ?? m[2] ?? '', port: Number(m[3]) };
}

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' });
  res.end(JSON.stringify(body));
}

export interface HealthServerDeps {
  health: ProxyHealthState;
  metrics: ProxyMetrics;
  node: () => Node | undefined;
  clock?: () => number;
}

export function healthHandler(deps: HealthServerDeps): Handler {
  const now = deps.clock ?? Date.now;
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/healthz') {
      const r = healthzResponse(deps.health, deps.node(), now());
      deps.metrics.healthzTotal.inc({ code: String(r.code) });
      return json(res, r.code, r.body);
    }
    if (path === '/livez') {
      const r = livezResponse(deps.health, now());
      deps.metrics.livezTotal.inc({ code: String(r.code) });
      return json(res, r.code, r.body);
    }
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
  };
}

export interface MetricsServerDeps {
  metrics: ProxyMetrics;
  mode: string;
  /** The configuration as upstream's /configz shows it. */
  configz: () => unknown;
}

export function metricsHandler(deps: MetricsServerDeps): Handler {
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    switch (path) {
      case '/metrics':
        deps.metrics.registry
          .metrics()
          .then((text) => res.writeHead(200, { 'Content-Type': deps.metrics.registry.contentType }).end(text))
          .catch((err: unknown) => res.writeHead(500).end(TskubeError.from(err).message));
        return;
      case '/proxyMode':
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' }).end(deps.mode);
        return;
      case '/healthz':
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' }).end('ok');
        return;
      case '/configz':
        return json(res, 200, { kubeproxy: deps.configz() });
      default:
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
    }
  };
}

export function boundPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
