import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { node } from '../support/proxy-objects.js';
import { boundPort, closeServer, healthHandler, listenHere, metricsHandler } from '../../src/proxy/server/http-servers.js';
import { ProxyHealthState } from '../../src/proxy/server/proxy-health.js';
import { ProxyMetrics } from '../../src/proxy/server/proxy-metrics.js';
import { ServiceHealthServers } from '../../src/proxy/server/service-health-servers.js';
import { pino } from 'pino';
import { planServicePort } from '../../src/proxy/plan/service-port-plan.js';
import { readService } from '../../src/proxy/model/service-port.js';
import { mergeEndpointSlices } from '../../src/proxy/model/endpoints.js';
import { service, slice } from '../support/proxy-objects.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(closeServer));
});

async function serve(handler: Parameters<typeof listenHere>[2]): Promise<string> {
  const server = await listenHere('127.0.0.1', 0, handler);
  servers.push(server);
  return `http://127.0.0.1:${boundPort(server)}`;
}

describe('the proxy HTTP servers', () => {
  it('serves /healthz and /livez as upstream does, and counts them', async () => {
    const metrics = new ProxyMetrics();
    const health = new ProxyHealthState(60_000);
    let now = 1_000;
    health.updated('IPv4', now);
    let current = node('node-a');
    const url = await serve(healthHandler({ health, metrics, node: () => current, clock: () => now }));
    const healthz = await fetch(`${url}/healthz`);
    expect(healthz.status).toBe(200);
    expect(healthz.headers.get('content-type')).toBe('application/json');
    expect(await healthz.json()).toEqual({
      lastUpdated: '1970-01-01T00:00:01Z',
      currentTime: '1970-01-01T00:00:01Z',
      nodeEligible: true,
      healthy: true,
      status: { IPv4: { lastUpdated: '1970-01-01T00:00:01Z', healthy: true } },
    });
    current = { ...current, metadata: { ...current.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
    expect((await fetch(`${url}/healthz`)).status).toBe(503);
    expect((await fetch(`${url}/livez`)).status).toBe(200);
    health.queued('IPv4', now);
    now += 61_000;
    expect((await fetch(`${url}/livez`)).status).toBe(503);
    const text = await metrics.registry.metrics();
    expect(text).toContain('kubeproxy_proxy_healthz_total{code="200"} 1');
    expect(text).toContain('kubeproxy_proxy_healthz_total{code="503"} 1');
    expect(text).toContain('kubeproxy_proxy_livez_total{code="503"} 1');
  });

  it('serves /metrics with upstream names and /proxyMode', async () => {
    const metrics = new ProxyMetrics();
    metrics.syncFullDuration.observe({ ip_family: 'IPv4' }, 0.5);
    const url = await serve(metricsHandler({ metrics, mode: 'nftables', configz: () => ({ mode: 'nftables' }) }));
    expect(await (await fetch(`${url}/proxyMode`)).text()).toBe('nftables');
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const name of [
      'kubeproxy_sync_proxy_rules_duration_seconds',
      'kubeproxy_sync_full_proxy_rules_duration_seconds_count{ip_family="IPv4"} 1',
      'kubeproxy_sync_partial_proxy_rules_duration_seconds',
      'kubeproxy_network_programming_duration_seconds',
      'kubeproxy_sync_proxy_rules_last_timestamp_seconds',
      'kubeproxy_sync_proxy_rules_nftables_sync_failures_total',
      'kubeproxy_sync_proxy_rules_iptables_restore_failures_total',
      'kubeproxy_conntrack_reconciler_deleted_entries_total',
    ]) {
      expect(text).toContain(name);
    }
    expect(await (await fetch(`${url}/configz`)).json()).toEqual({ kubeproxy: { mode: 'nftables' } });
    expect((await fetch(`${url}/nope`)).status).toBe(404);
  });

  it('serves the health check of an externalTrafficPolicy=Local Service while it has a local endpoint', async () => {
    const servers = new ServiceHealthServers({ listen: listenHere, addresses: () => ['127.0.0.1'], proxyHealthy: () => true, log: pino({ level: 'silent' }) });
    const [free] = await (await import('../testbed/ports.js')).freePorts(1);
    const svc = service({
      name: 'lb',
      type: 'LoadBalancer',
      clusterIP: '10.96.0.5',
      ports: [{ port: 80, nodePort: 30005 }],
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: free,
    });
    const port = (readService(svc, 'IPv4') as { ports: Parameters<typeof planServicePort>[0][] }).ports[0]!;
    const eps = (nodeName: string) =>
      mergeEndpointSlices([slice({ service: 'lb', ports: [{ port: 80 }], endpoints: [{ ip: '10.244.0.9', node: nodeName }] })], 'node-a').get('/TCP')!;
    const plan = (nodeName: string) => new Map([[port.key, planServicePort(port, eps(nodeName), { nodeName: 'node-a', zone: '' })]]);
    try {
      await servers.afterSync('IPv4', plan('node-a'));
      const ok = await fetch(`http://127.0.0.1:${free}/`);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-load-balancing-endpoint-weight')).toBe('1');
      expect(await ok.text()).toContain('"localEndpoints": 1');
      await servers.afterSync('IPv4', plan('node-b'));
      expect((await fetch(`http://127.0.0.1:${free}/`)).status).toBe(503);
      await servers.afterSync('IPv4', new Map());
      await expect(fetch(`http://127.0.0.1:${free}/`)).rejects.toThrow();
    } finally {
      await servers.close();
    }
  });
});
