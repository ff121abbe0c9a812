// The proxy's writer wired to a back end and fed objects directly, without reflectors:
// for unit tests (with the fake nftables) and netns tests (with the real one).
import { pino } from 'pino';
import type { ProxyBackend } from '../../src/proxy/backend.js';
import type { EndpointSlice, Service } from '../../src/proxy/model/api-objects.js';
import { EndpointSliceChangeTracker, ServiceChangeTracker } from '../../src/proxy/model/change-trackers.js';
import { ServiceMap } from '../../src/proxy/model/service-map.js';
import type { IPFamily } from '../../src/proxy/net/ip.js';
import type { ProxyNodeConfig } from '../../src/proxy/plan/node-config.js';
import { ProxyHealthState } from '../../src/proxy/server/proxy-health.js';
import { ProxyMetrics } from '../../src/proxy/server/proxy-metrics.js';
import { type AfterSync, ProxySyncer } from '../../src/proxy/sync/proxy-syncer.js';

export const testNodeName = 'node-a';

export function testNodeConfig(family: IPFamily = 'IPv4', overrides: Partial<ProxyNodeConfig> = {}): ProxyNodeConfig {
  return {
    family,
    topology: { nodeName: testNodeName, zone: 'zone-a' },
    nodeIPs: family === 'IPv4' ? ['192.168.0.10'] : ['fd00:192::10'],
    masqueradeBit: 14,
    masqueradeAll: false,
    localDetector: { kind: 'cidr', cidrs: [family === 'IPv4' ? '10.244.0.0/16' : 'fd00:10:244::/56'] },
    nodePortAddresses: { matchAll: true },
    serviceCIDRs: [family === 'IPv4' ? '10.96.0.0/12' : 'fd00:10:96::/112'],
    localhostNodePorts: true,
    ...overrides,
  };
}

export interface Harness {
  syncer: ProxySyncer;
  services: ServiceChangeTracker;
  slices: EndpointSliceChangeTracker;
  metrics: ProxyMetrics;
  health: ProxyHealthState;
  /** Apply objects (delete with `remove`) and sync once; resolves to whether it succeeded. */
  apply(objects: { services?: Service[]; slices?: EndpointSlice[]; removeServices?: Service[]; removeSlices?: EndpointSlice[] }): Promise<boolean>;
  /** Changes the node configuration of both families, or of `family` alone. */
  setConfig(config: Partial<ProxyNodeConfig>, family?: IPFamily): void;
}

export function proxyHarness(
  backends: { family: IPFamily; backend: ProxyBackend }[],
  options: { config?: Partial<ProxyNodeConfig>; after?: AfterSync[]; clock?: () => number } = {},
): Harness {
  const services = new ServiceChangeTracker();
  const slices = new EndpointSliceChangeTracker();
  const metrics = new ProxyMetrics();
  const health = new ProxyHealthState(60_000);
  let overrides = options.config ?? {};
  const familyOverrides = new Map<IPFamily, Partial<ProxyNodeConfig>>();
  const syncer = new ProxySyncer({
    families: backends.map((b) => ({ map: new ServiceMap(b.family), backend: b.backend })),
    services,
    slices,
    nodeName: testNodeName,
    nodeConfig: (family) => testNodeConfig(family, { ...overrides, ...familyOverrides.get(family) }),
    schedule: { minIntervalMs: 0, retryIntervalMs: 1000, maxIntervalMs: 3_600_000 },
    metrics,
    health,
    log: pino({ level: process.env['TSKUBE_LOG_LEVEL'] ?? 'silent' }),
    ...(options.after && { after: options.after }),
    ...(options.clock && { clock: options.clock }),
  });
  syncer.setInitialized();
  return {
    syncer,
    services,
    slices,
    metrics,
    health,
    async apply(objects) {
      for (const s of objects.services ?? []) services.update(undefined, s);
      for (const s of objects.removeServices ?? []) services.update(s, undefined);
      for (const s of objects.slices ?? []) slices.update(s, false);
      for (const s of objects.removeSlices ?? []) slices.update(s, true);
      return syncer.syncOnce();
    },
    setConfig(config, family) {
      if (family) familyOverrides.set(family, { ...familyOverrides.get(family), ...config });
      else overrides = { ...overrides, ...config };
    },
  };
}
