// bench/proxy: tskube proxy beside upstream kube-proxy v1.36.3 (built from the test
// control plane's Go module), in the same run, fed the same objects by a real control
// plane: 1k to 45k Services with 5 endpoints each (and a row with 1), nftables and
// iptables modes. Each proxy runs alone in a fresh network namespace of its own (its
// rules touch nothing else) that reaches the API through the host.
//
// The objects (bench/lib/proxy-objects.ts) are seeded straight into the control plane's
// etcd, as the apiserver would have stored them, while the apiserver is stopped; then
// the restarted apiserver serves them. Written through the API, each Service costs the
// apiserver more CPU the more Services exist, and 45k would take hours (docs/testbed.md).
//
// Per row: the first full sync (the proxy's own kubeproxy_sync_full_proxy_rules_duration_seconds),
// a full sync of the running proxy (a new zone label on the Node, which makes both rewrite
// every rule; median of 3: the hourly full sync costs the same), a partial sync after one
// EndpointSlice change (…_partial_…, median of 5), the time from
// that API change to the rule in the kernel (kubeproxy_network_programming_duration_seconds,
// from the slice's last-change-trigger-time), rules and set elements in the kernel, the
// proxy's RSS right after those syncs and 25 s later, at rest; and the floor: `nft -f` /
// `iptables-restore` of the finished ruleset alone into an empty namespace (and, for the
// running full sync in iptables mode, over itself).
//
// BENCH_SCALES=1000,5000,10000,30000,45000  BENCH_MODES=nftables,iptables
// BENCH_ONE_ENDPOINT=10000 (the Services in the 1-endpoint row, measured right after the
//   5-endpoint row of that size; default 10000 when it is a scale, else the largest)
// BENCH_DIRECT=1: tskube alone, nftables, without a control plane: the same objects fed
//   in-process to the proxy's syncer writing to a fresh namespace with the real nft (tskube's
//   own cost without informers or the API server; no API->kernel, no RSS)
// BENCH_SYNC_TIMEOUT_S=300 (a proxy whose first sync takes longer is stopped and shown as >N)
// BENCH_REPEAT=3: at up to BENCH_REPEAT_MAX=1000 Services, the first full sync of each proxy
//   and the floor are taken this many times, interleaved (a fresh proxy each time), and the
//   row shows their medians; the log has every sample. At 1,000 Services a sync is 0.1-1 s
//   and one sample moves by a third with the machine's load.
// BENCH_IPTABLES_MAX=5000: iptables rows only up to this many Services (iptables-restore
//   alone grows faster than linearly: 43 s for 5,000 x 5 here; default: every scale)
// BENCH_WRITE=seed|api: seed etcd (default), or write every object through the API (the
//   same objects; the log says the apiserver CPU each Service and slice cost)
// TSKUBE_ETCD_SEED=path to etcd-seed (default: test/testbed/build.sh tools)
// TSKUBE_KUBE_PROXY=path to upstream kube-proxy (default: the testbed's peers build)
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadKubeconfig } from '../src/kube/kubeconfig.js';
import { RestClient } from '../src/kube/rest-client.js';
import { inNetns, processExec } from '../src/proxy/exec/exec.js';
import type { EndpointSlice, Service } from '../src/proxy/model/api-objects.js';
import { EndpointSliceChangeTracker, ServiceChangeTracker } from '../src/proxy/model/change-trackers.js';
import { ServiceMap } from '../src/proxy/model/service-map.js';
import { NftablesProxier } from '../src/proxy/nftables/nftables-proxier.js';
import { type Nftables, nftCommand } from '../src/proxy/nftables/nftables.js';
import { ProxyHealthState } from '../src/proxy/server/proxy-health.js';
import { ProxyMetrics } from '../src/proxy/server/proxy-metrics.js';
import { ProxySyncer } from '../src/proxy/sync/proxy-syncer.js';
import { createNetwork, removeNetwork, type TestbedNetwork } from '../test/testbed/network.ts';
import { down, readState, seed, up } from '../test/testbed/index.ts';
import { processUsage } from './lib/proc.js';
import { counters } from './lib/prom-counters.js';
import { printTable } from './lib/stats.js';
import {
  benchNamespace,
  benchNamespaces,
  type IPAddress,
  serviceRequest,
  sliceRequest,
  storedIpAddress,
  storedService,
  storedSlice,
} from './lib/proxy-objects.js';
import { tskubeRoot } from './lib/root.js';

const root = tskubeRoot;
const scales = (process.env['BENCH_SCALES'] ?? '1000,5000,10000,30000,45000').split(',').map(Number);
const modes = (process.env['BENCH_MODES'] ?? 'nftables,iptables').split(',') as ('nftables' | 'iptables')[];
const syncTimeoutMs = Number(process.env['BENCH_SYNC_TIMEOUT_S'] ?? 300) * 1000;
const upstreamBin = process.env['TSKUBE_KUBE_PROXY'] ?? '';
const iptablesMax = Number(process.env['BENCH_IPTABLES_MAX'] ?? Number.POSITIVE_INFINITY);
const repeats = Math.max(1, Number(process.env['BENCH_REPEAT'] ?? 3));
const repeatMax = Number(process.env['BENCH_REPEAT_MAX'] ?? 1000);
const nodeName = 'bench-node';
const labelZone = 'topology.kubernetes.io/zone';
/** How long a proxy is left alone before its RSS at rest is read. */
const restIdleMs = 25_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The proxies' metrics the bench reads (both proxies name them as upstream does). */
const fullSync = 'kubeproxy_sync_full_proxy_rules_duration_seconds';
const partialSync = 'kubeproxy_sync_partial_proxy_rules_duration_seconds';
const programmingLatency = 'kubeproxy_network_programming_duration_seconds';
const syncMetrics = [fullSync, partialSync, programmingLatency].flatMap((m) => [`${m}_sum`, `${m}_count`]);
const header = [
  'mode services x endpoints',
  'full s tskube',
  'full s upstream',
  'floor s',
  'running full s tskube',
  'upstream',
  'floor',
  'partial ms tskube',
  'partial ms upstream',
  'API->kernel ms tskube',
  'API->kernel ms upstream',
  'rules+elements tskube',
  'upstream',
  'RSS MiB tskube',
  'upstream',
  'at rest tskube',
  'upstream',
];

/** Seconds with two decimals, milliseconds with one, counts whole; text as it is. */
const cell = (v: number | string, digits: number) => (typeof v === 'number' ? v.toFixed(digits) : v);
const log = (m: string) => process.stderr.write(`[bench/proxy] ${m}\n`);

// ── The objects (bench/lib/proxy-objects.ts) ──────────────────────────────────────

const ns = benchNamespace;

async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next++]!;
        for (let attempt = 0; ; attempt++) {
          try {
            await fn(item);
            break;
          } catch (err) {
            if (attempt >= 5) throw err;
            await sleep(500 * (attempt + 1));
          }
        }
      }
    }),
  );
}

// ── Proxies ────────────────────────────────────────────────────────────────────────

type Impl = 'tskube' | 'upstream';

interface Running {
  child: ChildProcess;
  net: TestbedNetwork;
  metrics: () => Promise<Map<string, number>>;
  stderr: () => string;
}

/** The proxy running now, for the signal handler. */
let running: Running | undefined;

function startProxy(impl: Impl, mode: string, net: TestbedNetwork, kubeconfig: string): Running {
  const common = [
    `--kubeconfig=${kubeconfig}`,
    `--hostname-override=${nodeName}`,
    `--proxy-mode=${mode}`,
    `--metrics-bind-address=${net.address}:10249`,
    `--healthz-bind-address=${net.address}:10256`,
    // Neither proxy may change the host's conntrack settings (nf_conntrack_max is global).
    '--conntrack-max-per-core=0',
    '--conntrack-tcp-timeout-established=0s',
    '--conntrack-tcp-timeout-close-wait=0s',
    '--oom-score-adj=0',
  ];
  const [command, args] = impl === 'tskube' ? [join(root, 'bin/tskube'), ['proxy', ...common]] : [upstreamBin, [...common, '--v=0']];
  const child = spawn('ip', ['netns', 'exec', net.netns, command, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, TSKUBE_LOG_LEVEL: 'warn' },
  });
  let err = '';
  child.stderr?.on('data', (c: Buffer) => {
    err = (err + c.toString()).slice(-4000);
  });
  running = {
    child,
    net,
    stderr: () => err,
    async metrics() {
      const text = await fetch(`http://${net.address}:10249/metrics`, { signal: AbortSignal.timeout(5000) }).then((r) => r.text());
      // The IPv4 series (the bench's Services are IPv4); a series without the label counts as it.
      return new Map(syncMetrics.map((name) => [name, counters(text, name, (l) => l['ip_family'] ?? 'IPv4').get('IPv4') ?? 0]));
    },
  };
  return running;
}

async function stopProxy(r: Running): Promise<void> {
  if (r.child.exitCode === null && r.child.signalCode === null) {
    const exited = new Promise<void>((resolve) => r.child.once('exit', () => resolve()));
    r.child.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
    if (r.child.exitCode === null && r.child.signalCode === null) {
      r.child.kill('SIGKILL');
      await exited;
    }
  }
  // A proxy stopped mid-sync leaves its nft or iptables-restore running in the namespace:
  // stop those too, or they would eat CPU through the next measurement.
  const left = await processExec.output('ip', ['netns', 'pids', r.net.netns]).catch(() => '');
  for (const pid of left.split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {}
  }
  await removeNetwork(r.net);
  if (running === r) running = undefined;
}

async function waitMetric(r: Running, name: string, atLeast: number, timeoutMs: number): Promise<Map<string, number> | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (r.child.exitCode !== null) throw new Error(`the proxy exited (${r.child.exitCode}): ${r.stderr()}`);
    const m = await r.metrics().catch(() => undefined);
    if (m && (m.get(name) ?? 0) >= atLeast) return m;
    await sleep(200);
  }
  return undefined;
}

/** Rules and set elements the kernel holds in the namespace. */
async function kernelCount(mode: string, netns: string): Promise<number> {
  if (mode === 'iptables') {
    const save = await processExec.output('ip', ['netns', 'exec', netns, 'iptables-save']);
    return save.split('\n').filter((l) => l.startsWith('-A ')).length;
  }
  const json = JSON.parse(await processExec.output('ip', ['netns', 'exec', netns, 'nft', '-j', 'list', 'ruleset'])) as {
    nftables: Record<string, { elem?: unknown[] }>[];
  };
  let n = 0;
  for (const o of json.nftables) {
    if (o['rule']) n++;
    n += (o['set']?.elem?.length ?? 0) + (o['map']?.elem?.length ?? 0);
  }
  return n;
}

// ── The floor ──────────────────────────────────────────────────────────────────────

/** tskube's writer fed in-process, over `nft`: what `tskube proxy` runs after its informers. */
function inProcessSyncer(nft: Nftables) {
  const services = new ServiceChangeTracker();
  const slices = new EndpointSliceChangeTracker();
  const syncer = new ProxySyncer({
    families: [{ map: new ServiceMap('IPv4'), backend: new NftablesProxier({ nft, family: 'IPv4' }) }],
    services,
    slices,
    nodeName,
    nodeConfig: (family) => ({
      family,
      topology: { nodeName, zone: '' },
      nodeIPs: ['127.0.0.1'],
      masqueradeBit: 14,
      masqueradeAll: false,
      localDetector: { kind: 'none' },
      nodePortAddresses: { matchAll: true },
      serviceCIDRs: ['10.96.0.0/12'],
      localhostNodePorts: false,
    }),
    schedule: { minIntervalMs: 0, retryIntervalMs: 1000, maxIntervalMs: 3_600_000 },
    metrics: new ProxyMetrics(),
    health: new ProxyHealthState(60_000),
    log: pino({ level: 'silent' }),
  });
  syncer.setInitialized();
  return { syncer, services, slices };
}

/** tskube's full-sync transaction for these objects, made in-process (the exact `nft -f` script). */
async function nftScript(services: Service[], slices: EndpointSlice[]): Promise<string> {
  let script = '';
  const capture: Nftables = {
    run: async (tx) => {
      script = tx.toString();
    },
    check: async () => {},
    inventory: async () => ({ tableExists: false, chains: new Set(), setTimeouts: new Map() }),
    deleteTable: async () => false,
  };
  const p = inProcessSyncer(capture);
  for (const s of services) p.services.update(undefined, s);
  for (const s of slices) p.slices.update(s, false);
  await p.syncer.syncOnce();
  return script;
}

/** Seconds to load `input` into a fresh namespace; `over` loads it once first, untimed (a rewrite of rules in place). */
async function timeLoad(command: string, args: string[], input: string, over = false): Promise<number> {
  const netns = `tskp-bench-floor-${process.pid}`;
  await processExec.output('ip', ['netns', 'add', netns]);
  try {
    if (over) await processExec.output('ip', ['netns', 'exec', netns, command, ...args], { input });
    const t = performance.now();
    await processExec.output('ip', ['netns', 'exec', netns, command, ...args], { input });
    return (performance.now() - t) / 1000;
  } finally {
    await processExec.output('ip', ['netns', 'del', netns]);
  }
}

// ── One measurement ────────────────────────────────────────────────────────────────

interface Result {
  fullS: number | string;
  /** A full sync of the running proxy (a Node zone label change), median of 3. */
  runningFullS: number | string;
  partialMs: number | string;
  programmingMs: number | string;
  count: number | string;
  rssMiB: number | string;
  /** RSS once the proxy has had nothing to do for a while (restIdleMs). */
  rssRestMiB: number | string;
}

async function measure(
  impl: Impl,
  mode: string,
  count: number,
  kubeconfig: string,
  rest: RestClient,
  endpoints: number,
): Promise<Result & { netns?: string; keep?: Running }> {
  const net = await createNetwork();
  const r = startProxy(impl, mode, net, kubeconfig);
  const result: Result = { fullS: '-', runningFullS: '-', partialMs: '-', programmingMs: '-', count: '-', rssMiB: '-', rssRestMiB: '-' };
  result.fullS = await firstFullSync(r);
  if (typeof result.fullS === 'string') {
    await stopProxy(r);
    return result;
  }
  await sleep(1500);
  const partials: number[] = [];
  const programming: number[] = [];
  for (let k = 0; k < 5; k++) {
    const before = await r.metrics();
    const i = Math.floor(Math.random() * count);
    await rest.request('PUT', `/apis/discovery.k8s.io/v1/namespaces/${ns(i)}/endpointslices/svc-${i}-bench`, {
      body: sliceRequest(i, endpoints, 1 + (k % 2)),
    });
    const after = await waitMetric(r, `${partialSync}_count`, (before.get(`${partialSync}_count`) ?? 0) + 1, 60_000);
    if (!after) break;
    partials.push(meanSince(before, after, partialSync) * 1000);
    const np = meanSince(before, after, programmingLatency);
    if (!Number.isNaN(np)) programming.push(np * 1000);
    await sleep(1200);
  }
  // A full sync of the running proxy: a new zone label on the Node makes both proxies rewrite
  // every rule (upstream's OnTopologyChange), as the hourly full sync does, with warm code.
  const running: number[] = [];
  for (let k = 0; k < 3; k++) {
    const before = await r.metrics();
    await rest.request('PATCH', `/api/v1/nodes/${nodeName}`, {
      body: { metadata: { labels: { [labelZone]: `bench-${impl}-${k}-${Date.now()}` } } },
      contentType: 'application/merge-patch+json',
    });
    const after = await waitMetric(r, `${fullSync}_count`, (before.get(`${fullSync}_count`) ?? 0) + 1, syncTimeoutMs);
    if (!after) break;
    running.push(meanSince(before, after, fullSync));
    await sleep(1200);
  }
  result.runningFullS = medianOf(running);
  result.partialMs = medianOf(partials);
  result.programmingMs = medianOf(programming);
  result.rssMiB = processUsage(r.child.pid!).rssMiB;
  result.count = await kernelCount(mode, net.netns).catch(() => '-');
  // What the proxy holds between syncs, as a node runs most of the time (tskube gives a
  // full sync's heap back once syncs settle: src/common/memory-release.ts).
  await sleep(restIdleMs);
  result.rssRestMiB = processUsage(r.child.pid!).rssMiB;
  return { ...result, keep: r, netns: net.netns };
}

/** A started proxy's first full sync in seconds, or ">N" when it took longer than the timeout. */
async function firstFullSync(r: Running): Promise<number | string> {
  const full = await waitMetric(r, `${fullSync}_count`, 1, syncTimeoutMs);
  return full ? full.get(`${fullSync}_sum`)! : `>${syncTimeoutMs / 1000}`;
}

/** One more first full sync: a fresh proxy in a fresh namespace, stopped once it has synced. */
async function firstSyncOnly(impl: Impl, mode: string, kubeconfig: string): Promise<number | string> {
  const r = startProxy(impl, mode, await createNetwork(), kubeconfig);
  try {
    return await firstFullSync(r);
  } finally {
    await stopProxy(r);
  }
}

/** A histogram's mean over the observations made between two scrapes (NaN when there were none). */
function meanSince(before: Map<string, number>, after: Map<string, number>, histogram: string): number {
  const delta = (suffix: string) => (after.get(histogram + suffix) ?? 0) - (before.get(histogram + suffix) ?? 0);
  return delta('_sum') / delta('_count');
}

/** The median of the samples ('-' when there are none); a sample that is text (a timeout) stands for the row. */
function medianOf(samples: readonly (number | string)[]): number | string {
  if (samples.length === 0) return '-';
  const text = samples.find((x) => typeof x === 'string');
  if (text !== undefined) return text;
  const sorted = (samples as number[]).toSorted((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

// ── Main ───────────────────────────────────────────────────────────────────────────

/** BENCH_DIRECT: tskube's full and partial syncs at each scale, fed in-process. */
async function direct(): Promise<void> {
  const rows: (string | number)[][] = [];
  let version = 1_000_000;
  const versioned = (s: EndpointSlice) => ({ ...s, metadata: { ...s.metadata, resourceVersion: String(++version) } });
  for (const count of scales) {
    const created = new Date().toISOString();
    const services = Array.from({ length: count }, (_, i) => storedService(i, created));
    const slices = services.map((_, i) => versioned(sliceRequest(i, 5)));
    const netns = `tskp-bench-direct-${process.pid}`;
    await processExec.output('ip', ['netns', 'add', netns]);
    try {
      const p = inProcessSyncer(nftCommand(inNetns(processExec, netns)));
      for (const s of services) p.services.update(undefined, s);
      for (const s of slices) p.slices.update(s, false);
      let t = performance.now();
      if (!(await p.syncer.syncOnce())) throw new Error(`the full sync of ${count} Services failed`);
      const fullS = (performance.now() - t) / 1000;
      const partials: number[] = [];
      for (let k = 0; k < 5; k++) {
        p.slices.update(versioned(sliceRequest(Math.floor(Math.random() * count), 5, 1 + (k % 2))), false);
        t = performance.now();
        if (!(await p.syncer.syncOnce())) throw new Error('a partial sync failed');
        partials.push(performance.now() - t);
      }
      p.syncer.requestFullSync();
      t = performance.now();
      if (!(await p.syncer.syncOnce())) throw new Error('a second full sync failed');
      const runningS = (performance.now() - t) / 1000;
      const kernel = await kernelCount('nftables', netns);
      const floor = await timeLoad('nft', ['-f', '-'], await nftScript(services, slices));
      const median = medianOf(partials);
      rows.push([
        `nftables ${count}x5 (direct)`,
        cell(fullS, 2),
        '-',
        cell(floor, 2),
        cell(runningS, 2),
        '-',
        '-',
        cell(median, 1),
        '-',
        '-',
        '-',
        cell(kernel, 0),
        '-',
        '-',
        '-',
        '-',
        '-',
      ]);
      printTable(header, rows.slice(-1));
    } finally {
      await processExec.output('ip', ['netns', 'del', netns]);
    }
  }
  console.log('');
  printTable(header, rows);
}

// ── Putting the objects into the API ───────────────────────────────────────────────

/** How Services i in [from, to) and their slices get into the API, and how every slice is rewritten. */
interface Writer {
  create(from: number, to: number, endpoints: number): Promise<string>;
  rewriteSlices(count: number, endpoints: number): Promise<string>;
}

/**
 * BENCH_WRITE=api: POSTs and PUTs through the API server, 48 at a time. Each Service
 * create costs the apiserver more CPU the more Services exist (its ClusterIP allocator
 * counts every IPAddress, twice, per allocation, for two gauges), so this path takes
 * hours at 45,000; the log says the CPU per Service and slice.
 */
function apiWriter(rest: RestClient, dir: string, services: Service[], slices: EndpointSlice[]): Writer {
  const apiserverCpu = async () => {
    const pid = (await readState(dir)).processes.find((p) => p.name === 'kube-apiserver')?.pid;
    return pid === undefined ? Number.NaN : processUsage(pid).cpuSeconds;
  };
  return {
    async create(from, to, endpoints) {
      const cpuBefore = await apiserverCpu();
      await pool(
        Array.from({ length: to - from }, (_, k) => from + k),
        48,
        async (i) => {
          services[i] = await rest.request<Service>('POST', `/api/v1/namespaces/${ns(i)}/services`, { body: serviceRequest(i) });
          slices[i] = await rest.request<EndpointSlice>('POST', `/apis/discovery.k8s.io/v1/namespaces/${ns(i)}/endpointslices`, {
            body: sliceRequest(i, endpoints),
          });
        },
      );
      return ` to write, apiserver ${((((await apiserverCpu()) - cpuBefore) * 1000) / (to - from)).toFixed(1)} ms CPU per Service and slice`;
    },
    async rewriteSlices(count, endpoints) {
      await pool(
        Array.from({ length: count }, (_, i) => i),
        48,
        async (i) => {
          slices[i] = await rest.request<EndpointSlice>('PUT', `/apis/discovery.k8s.io/v1/namespaces/${ns(i)}/endpointslices/svc-${i}-bench`, {
            body: sliceRequest(i, endpoints),
          });
        },
      );
      return ' to rewrite the slices through the API';
    },
  };
}

/**
 * The default: the same objects as the API server would store them after apiWriter's
 * requests (the Service with its ClusterIP, the IPAddress the allocator keeps for it,
 * the slice), written straight into etcd while the apiserver is stopped, then served by
 * the restarted apiserver like any other (test/testbed/seed.ts, docs/testbed.md).
 */
function etcdSeeder(rest: RestClient, dir: string, services: Service[], slices: EndpointSlice[]): Writer {
  let version = 0;
  // The in-process floor's change trackers order slices by resourceVersion; the seeder drops it.
  const versioned = <T extends EndpointSlice>(s: T): T => ({ ...s, metadata: { ...s.metadata, resourceVersion: String(++version) } });
  const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const seedAndWait = async (objects: Iterable<object>) => {
    const since = Date.now();
    const r = await seed(dir, objects, seedBin ? { seedBin } : {});
    // The first request after the restart may meet a connection the old apiserver closed.
    await pool([0], 1, async () => void (await rest.request('GET', '/api/v1/namespaces/default')));
    await checkSeeded(rest, services.length, since);
    return `: ${r.objects} objects seeded into etcd in ${(r.seedMs / 1000).toFixed(1)} s, apiserver stopped to ready again in ${(r.totalMs / 1000).toFixed(1)} s`;
  };
  return {
    async create(from, to, endpoints) {
      const created = now();
      const objects: (Service | EndpointSlice | IPAddress)[] = [];
      for (let i = from; i < to; i++) {
        services[i] = storedService(i, created);
        slices[i] = versioned(storedSlice(i, endpoints, created));
        objects.push(services[i]!, storedIpAddress(i, created), slices[i]!);
      }
      return await seedAndWait(objects);
    },
    async rewriteSlices(count, endpoints) {
      const created = now();
      for (let i = 0; i < count; i++) slices[i] = versioned(storedSlice(i, endpoints, created, 2));
      return await seedAndWait(slices.slice(0, count));
    },
  };
}

/**
 * That the restarted apiserver serves every seeded Service and IPAddress (and the
 * `kubernetes` one), and that its ClusterIP repair loop found nothing to repair: /readyz
 * waits for the loop's first pass over every Service and IPAddress, which records a
 * warning Event for each one it would repair.
 */
async function checkSeeded(rest: RestClient, services: number, since: number): Promise<void> {
  const count = async (path: string) => {
    const list = await rest.request<{ items: unknown[]; metadata: { remainingItemCount?: number } }>('GET', path, { query: { limit: 1 } });
    return list.items.length + (list.metadata.remainingItemCount ?? 0);
  };
  for (const path of ['/api/v1/services', '/apis/networking.k8s.io/v1/ipaddresses']) {
    const n = await count(path);
    if (n !== services + 1) throw new Error(`after the seeding, ${path} lists ${n} objects, not ${services + 1}`);
  }
  const events = await rest.request<{ items: { reason?: string; note?: string; eventTime?: string }[] }>('GET', '/apis/events.k8s.io/v1/events');
  const repairs = events.items.filter((e) => /^(ClusterIP|IPAddress)/.test(e.reason ?? '') && Date.parse(e.eventTime ?? '') >= since);
  if (repairs.length > 0) throw new Error(`the apiserver's repair loop fought the seeded objects: ${repairs.length} events, the first: ${repairs[0]!.note}`);
}

if (process.env['BENCH_DIRECT']) {
  await direct();
  process.exit(0);
}

const binDir = process.env['TSKUBE_TESTBED_BIN'];
const writeMode = process.env['BENCH_WRITE'] ?? 'seed';
if (writeMode !== 'seed' && writeMode !== 'api') throw new Error(`BENCH_WRITE=${writeMode}: expected seed or api`);
const seedBin = process.env['TSKUBE_ETCD_SEED'];
log('starting a control plane (testbed --netns)');
const tb = await up({ netns: true, timeoutMs: 300_000, log: (m) => log(`testbed: ${m}`), ...(binDir ? { binDir } : {}) });
const work = mkdtempSync(join(tmpdir(), 'tskube-bench-proxy-'));
// Ctrl-C or a kill: stop the proxy, the control plane and the namespaces, then go.
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    stopping = true;
    log(`${signal}: cleaning up`);
    void (async () => {
      if (running) await stopProxy(running).catch(() => undefined);
      rmSync(work, { recursive: true, force: true });
      await down(tb.dir).catch(() => undefined);
      process.exit(130);
    })();
  });
}
const rows: (string | number)[][] = [];
try {
  const rest = new RestClient(loadKubeconfig(tb.adminKubeconfig), { userAgent: 'tskube-bench-proxy' });
  await rest.request('POST', '/api/v1/nodes', {
    body: { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName, labels: { 'kubernetes.io/hostname': nodeName } } },
  });
  for (let i = 0; i < benchNamespaces; i++)
    await rest.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns(i) } } });
  const services: Service[] = [];
  const slices: EndpointSlice[] = [];
  // The 1-endpoint row comes right after the 5-endpoint row of its size; later rows put
  // the 5 endpoints back (rewriting every slice costs as much as creating it).
  const oneEndpoint = Number(process.env['BENCH_ONE_ENDPOINT'] ?? (scales.includes(10_000) ? 10_000 : Math.max(...scales)));
  const runs = scales.flatMap((count) => (count === oneEndpoint ? [5, 1] : [5]).map((endpoints) => ({ count, endpoints })));
  const writer = writeMode === 'api' ? apiWriter(rest, tb.dir, services, slices) : etcdSeeder(rest, tb.dir, services, slices);
  let created = 0;
  let endpointsNow = 5;
  for (const { count, endpoints } of runs) {
    const t = performance.now();
    let how = '';
    if (endpoints !== endpointsNow) {
      how += await writer.rewriteSlices(created, endpoints);
      endpointsNow = endpoints;
    }
    if (count > created) how += await writer.create(created, count, endpoints);
    created = Math.max(created, count);
    log(`${count} Services with ${endpoints} endpoint(s) in the API (${((performance.now() - t) / 1000).toFixed(0)} s${how})`);
    for (const mode of modes) {
      if (mode === 'iptables' && count > iptablesMax) continue;
      const measured: Record<Impl, Result> = {} as Record<Impl, Result>;
      let floor: number | string = '-';
      let floorInput = '';
      for (const impl of ['tskube', 'upstream'] as Impl[]) {
        if (impl === 'upstream' && !upstreamBin) {
          measured.upstream = { fullS: 'n/a', runningFullS: 'n/a', partialMs: 'n/a', programmingMs: 'n/a', count: 'n/a', rssMiB: 'n/a', rssRestMiB: 'n/a' };
          continue;
        }
        log(`${mode} ${count}x${endpoints}: ${impl}`);
        const m = await measure(impl, mode, count, tb.adminKubeconfig, rest, endpoints);
        if (impl === 'tskube' && mode === 'iptables' && m.netns) {
          const save = await processExec.output('ip', ['netns', 'exec', m.netns, 'iptables-save']);
          writeFileSync(join(work, 'iptables.txt'), save);
          floorInput = save;
        }
        if (m.keep) await stopProxy(m.keep);
        measured[impl] = m;
      }
      if (mode === 'nftables') floorInput = await nftScript(services.slice(0, count), slices.slice(0, count));
      const floorOnce = () => (mode === 'iptables' ? timeLoad('iptables-restore', ['--noflush'], floorInput) : timeLoad('nft', ['-f', '-'], floorInput));
      if (floorInput !== '') floor = await floorOnce();
      if (count <= repeatMax && repeats > 1) {
        // Interleaved, so a change in the machine's load falls on every column alike.
        const fulls: Record<Impl, (number | string)[]> = { tskube: [measured.tskube.fullS], upstream: [measured.upstream.fullS] };
        const floors: (number | string)[] = [floor];
        for (let k = 1; k < repeats; k++) {
          for (const impl of ['tskube', 'upstream'] as Impl[])
            if (impl === 'tskube' || upstreamBin) fulls[impl].push(await firstSyncOnly(impl, mode, tb.adminKubeconfig));
          if (floorInput !== '') floors.push(await floorOnce());
        }
        const shown = (xs: (number | string)[]) => xs.map((x) => cell(x, 3)).join(' ');
        log(`${mode} ${count}x${endpoints} first full syncs: tskube ${shown(fulls.tskube)}, upstream ${shown(fulls.upstream)}, floor ${shown(floors)}`);
        measured.tskube.fullS = medianOf(fulls.tskube);
        if (upstreamBin) measured.upstream.fullS = medianOf(fulls.upstream);
        if (floorInput !== '') floor = medianOf(floors);
      }
      // The floor of a running full sync: the same restore over the rules it replaces.
      let floorOver: number | string = '-';
      if (mode === 'iptables' && floorInput !== '') {
        const overs: number[] = [];
        for (let k = 0; k < 3; k++) overs.push(await timeLoad('iptables-restore', ['--noflush'], floorInput, true));
        log(`${mode} ${count}x${endpoints} restores over the same rules: ${overs.map((x) => x.toFixed(3)).join(' ')}`);
        floorOver = medianOf(overs);
      }
      const t = measured.tskube;
      const u = measured.upstream;
      rows.push([
        `${mode} ${count}x${endpoints}`,
        cell(t.fullS, 2),
        cell(u.fullS, 2),
        cell(floor, 2),
        cell(t.runningFullS, 2),
        cell(u.runningFullS, 2),
        cell(floorOver, 2),
        cell(t.partialMs, 1),
        cell(u.partialMs, 1),
        cell(t.programmingMs, 0),
        cell(u.programmingMs, 0),
        cell(t.count, 0),
        cell(u.count, 0),
        cell(t.rssMiB, 0),
        cell(u.rssMiB, 0),
        cell(t.rssRestMiB, 0),
        cell(u.rssRestMiB, 0),
      ]);
      printTable(header, rows.slice(-1));
    }
  }
} catch (err) {
  // A measurement the cleanup pulled the namespace from under: the handler exits.
  if (stopping) await new Promise(() => undefined);
  throw err;
} finally {
  rmSync(work, { recursive: true, force: true });
  await down(tb.dir);
}

console.log('');
printTable(header, rows);
