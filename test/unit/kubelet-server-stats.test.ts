import { pingCheck } from '../../src/kubelet/healthz/healthz.js';
import type { V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { CriClient } from '../../src/cri-client/index.js';
import type { ContainerStats__Output } from '../../src/gen/cri/runtime/v1/ContainerStats.js';
import type { PodSandboxStats__Output } from '../../src/gen/cri/runtime/v1/PodSandboxStats.js';
import { defaultKubeletConfiguration } from '../../src/kubelet/options/index.js';
import { KubeletMetrics, runtimeOperationType } from '../../src/kubelet/metrics/kubelet-metrics.js';
import type { PodRuntimeState } from '../../src/kubelet/pods/runtime-state.js';
import { configzBody } from '../../src/kubelet/server/handlers/configz.js';
import { PodListBody, runningPodList } from '../../src/kubelet/server/handlers/pods.js';
import { buildSummary, type NodeSample } from '../../src/kubelet/server/stats/build-summary.js';
import { SummaryCollector } from '../../src/kubelet/server/stats/collect-summary.js';
import { defaultRouteInterface, parseKeyValues, parseNetDev } from '../../src/kubelet/server/stats/node-sampler.js';
import { resourceMetricsText } from '../../src/kubelet/server/stats/resource-metrics.js';

const ns = (iso: string) => String(BigInt(Date.parse(iso)) * 1_000_000n);
const u64 = (n: number) => ({ value: String(n) });
const at = '2025-01-01T00:00:10Z';

const node: NodeSample = {
  time: new Date(at),
  bootTime: new Date('2025-01-01T00:00:00Z'),
  cpu: { usageCoreNanoSeconds: 5e9, usageNanoCores: 250_000_000 },
  memory: { capacityBytes: 8e9, usageBytes: 3e9, workingSetBytes: 2e9, rssBytes: 1e9, pageFaults: 10, majorPageFaults: 1 },
  fs: { capacityBytes: 100, availableBytes: 40, usedBytes: 60, inodes: 1000, inodesFree: 900 },
  imageFs: { capacityBytes: 200, availableBytes: 50, usedBytes: 30, inodes: 2000, inodesFree: 1500 },
  network: { defaultInterface: { name: 'eth0', rxBytes: 1, txBytes: 2 }, interfaces: [{ name: 'eth0', rxBytes: 1, txBytes: 2 }] },
  rlimit: { maxpid: 4194304, curproc: 300 },
};

const pods = new Map<string, PodRuntimeState>([
  [
    'uid-a',
    {
      uid: 'uid-a',
      name: 'web',
      namespace: 'default',
      sandboxes: [{ id: 'sb-a', attempt: 0, phase: 'ready', createdAt: BigInt(ns('2025-01-01T00:00:01Z')), ips: ['10.0.0.2'], hostNetwork: false }],
      containers: [
        {
          id: 'c-run',
          name: 'app',
          sandboxId: 'sb-a',
          attempt: 1,
          phase: 'running',
          createdAt: 3n,
          startedAt: BigInt(ns('2025-01-01T00:00:05Z')),
          image: 'i',
          imageRef: 'r',
        },
        { id: 'c-old', name: 'app', sandboxId: 'sb-a', attempt: 0, phase: 'exited', createdAt: 2n, image: 'i', imageRef: 'r' },
      ],
    },
  ],
  // Its sandbox is gone: not a pod the summary reports.
  [
    'uid-b',
    {
      uid: 'uid-b',
      name: 'done',
      namespace: 'default',
      sandboxes: [{ id: 'sb-b', attempt: 0, phase: 'not-ready', createdAt: 1n, ips: [], hostNetwork: false }],
      containers: [],
    },
  ],
]);

const containerStats = (id: string, cpuNs: number): ContainerStats__Output => ({
  attributes: { id, metadata: { name: 'app', attempt: 1 }, labels: {}, annotations: {} },
  cpu: { timestamp: ns(at), usageCoreNanoSeconds: u64(cpuNs), usageNanoCores: u64(1000), psi: null },
  memory: {
    timestamp: ns(at),
    workingSetBytes: u64(4096),
    availableBytes: u64(0),
    usageBytes: u64(8192),
    rssBytes: u64(2048),
    pageFaults: u64(5),
    majorPageFaults: u64(0),
    psi: null,
  },
  writableLayer: { timestamp: ns(at), fsId: { mountpoint: '/var/lib/containerd' }, usedBytes: u64(100), inodesUsed: u64(3) },
  swap: null,
  io: null,
});

const sandboxStats: PodSandboxStats__Output = {
  attributes: { id: 'sb-a', metadata: { name: 'web', uid: 'uid-a', namespace: 'default', attempt: 0 }, labels: {}, annotations: {} },
  linux: {
    cpu: { timestamp: ns(at), usageCoreNanoSeconds: u64(3e9), usageNanoCores: u64(2000), psi: null },
    memory: {
      timestamp: ns(at),
      workingSetBytes: u64(9000),
      availableBytes: u64(0),
      usageBytes: u64(10000),
      rssBytes: u64(3000),
      pageFaults: u64(7),
      majorPageFaults: u64(0),
      psi: null,
    },
    network: { timestamp: ns(at), defaultInterface: { name: 'eth0', rxBytes: u64(11), rxErrors: u64(0), txBytes: u64(22), txErrors: u64(0) }, interfaces: [] },
    process: { timestamp: ns(at), processCount: u64(2) },
    containers: [containerStats('c-run', 2e9)],
    io: null,
  },
  windows: null,
};

describe('/stats/summary', () => {
  const summary = buildSummary({
    nodeName: 'n1',
    node,
    pods,
    sandboxStats: [sandboxStats],
    containerStats: [],
    podStartTime: (uid) => (uid === 'uid-a' ? '2025-01-01T00:00:02Z' : undefined),
  });

  it('reports the node in the shape metrics-server reads', () => {
    expect(summary.node).toMatchObject({
      nodeName: 'n1',
      startTime: '2025-01-01T00:00:00Z',
      cpu: { time: at, usageCoreNanoSeconds: 5e9, usageNanoCores: 250_000_000 },
      memory: { time: at, workingSetBytes: 2e9, availableBytes: 6e9, usageBytes: 3e9, rssBytes: 1e9 },
      fs: { capacityBytes: 100, availableBytes: 40, usedBytes: 60, inodes: 1000, inodesFree: 900, inodesUsed: 100 },
      runtime: { imageFs: { capacityBytes: 200, usedBytes: 30 } },
      rlimit: { maxpid: 4194304, curproc: 300 },
      network: { name: 'eth0', rxBytes: 1, txBytes: 2 },
    });
  });

  it('reports pods with a ready sandbox and their containers that have not exited', () => {
    expect(summary.pods).toHaveLength(1);
    const pod = summary.pods[0]!;
    expect(pod.podRef).toEqual({ name: 'web', namespace: 'default', uid: 'uid-a' });
    expect(pod.startTime).toBe('2025-01-01T00:00:02Z');
    expect(pod.cpu).toEqual({ time: at, usageCoreNanoSeconds: 3e9, usageNanoCores: 2000 });
    // The runtime's 0 available bytes means "no limit": left out, as upstream does.
    expect(pod.memory).toEqual({ time: at, workingSetBytes: 9000, usageBytes: 10000, rssBytes: 3000, pageFaults: 7, majorPageFaults: 0 });
    expect(pod.network).toMatchObject({ name: 'eth0', rxBytes: 11, txBytes: 22, interfaces: [{ name: 'eth0', rxBytes: 11 }] });
    expect(pod.process_stats).toEqual({ process_count: 2 });
    expect(pod.containers).toEqual([
      {
        name: 'app',
        startTime: '2025-01-01T00:00:05Z',
        cpu: { time: at, usageCoreNanoSeconds: 2e9, usageNanoCores: 1000 },
        memory: { time: at, workingSetBytes: 4096, usageBytes: 8192, rssBytes: 2048, pageFaults: 5, majorPageFaults: 0 },
        rootfs: { time: at, availableBytes: 50, capacityBytes: 200, usedBytes: 100, inodesFree: 1500, inodes: 2000, inodesUsed: 3 },
      },
    ]);
    expect(pod['ephemeral-storage']).toMatchObject({ usedBytes: 100, inodesUsed: 3 });
  });

  it('sums containers when the runtime has no sandbox stats, and leaves out all but CPU and memory when asked', () => {
    const s = buildSummary({
      nodeName: 'n1',
      node,
      pods,
      sandboxStats: [],
      containerStats: [containerStats('c-run', 2e9)],
      podStartTime: () => undefined,
      onlyCpuAndMemory: true,
    });
    const pod = s.pods[0]!;
    expect(pod.cpu).toEqual({ time: at, usageCoreNanoSeconds: 2e9, usageNanoCores: 1000 });
    expect(pod.memory).toEqual({ time: at, usageBytes: 8192, workingSetBytes: 4096, rssBytes: 2048 });
    expect(pod.startTime).toBe('2025-01-01T00:00:01Z');
    expect(pod.containers[0]?.rootfs).toBeUndefined();
    expect(s.node.fs).toBeUndefined();
    expect(s.node.network).toBeUndefined();
  });

  it("is served at /metrics/resource with upstream's names, labels and sample times", () => {
    const text = resourceMetricsText(summary);
    const ms = Date.parse(at);
    expect(text).toContain(
      '# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds\n# TYPE container_cpu_usage_seconds_total counter\n',
    );
    expect(text).toContain(`container_cpu_usage_seconds_total{container="app",namespace="default",pod="web"} 2 ${ms}\n`);
    expect(text).toContain(`container_memory_working_set_bytes{container="app",namespace="default",pod="web"} 4096 ${ms}\n`);
    expect(text).toContain(`container_start_time_seconds{container="app",namespace="default",pod="web"} ${Date.parse('2025-01-01T00:00:05Z') / 1000}\n`);
    expect(text).toContain(`node_cpu_usage_seconds_total 5 ${ms}\n`);
    expect(text).toContain(`pod_memory_working_set_bytes{namespace="default",pod="web"} 9000 ${ms}\n`);
    expect(text).toContain('resource_scrape_error 0\n');
    const names = [...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]);
    expect(names).toEqual([...names].sort());
    expect(resourceMetricsText(undefined)).toContain('resource_scrape_error 1\n');
  });
});

describe('node sampling parsers', () => {
  it('reads cgroup stat files and /proc/meminfo', () => {
    expect(parseKeyValues('total_rss 4096\ntotal_inactive_file 10\n')).toEqual(
      new Map([
        ['total_rss', 4096],
        ['total_inactive_file', 10],
      ]),
    );
    expect(parseKeyValues('MemTotal:       16 kB\nInactive(file):  2 kB\n').get('Inactive(file)')).toBe(2048);
  });

  it("reads /proc/net/dev and the default route's interface", () => {
    const dev = 'Inter-|   Receive\n face |bytes packets errs\n    lo: 10 1 0 0 0 0 0 0 20 2 0 0 0 0 0 0\n  eth0: 100 5 1 0 0 0 0 0 200 6 2 0 0 0 0 0\n';
    expect(parseNetDev(dev)).toEqual([
      { name: 'lo', rxBytes: 10, rxErrors: 0, txBytes: 20, txErrors: 0 },
      { name: 'eth0', rxBytes: 100, rxErrors: 1, txBytes: 200, txErrors: 2 },
    ]);
    const route =
      'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\nens3\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\nens3\t0002A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\n';
    expect(defaultRouteInterface(route)).toBe('ens3');
  });
});

describe('/runningpods/ and /configz', () => {
  it('lists running pods with their running containers only', () => {
    expect(runningPodList(pods)).toEqual({
      kind: 'PodList',
      apiVersion: 'v1',
      metadata: {},
      items: [
        {
          metadata: { name: 'web', namespace: 'default', uid: 'uid-a', creationTimestamp: null },
          spec: { containers: [{ name: 'app', image: 'i', resources: {} }] },
          status: {},
        },
      ],
    });
  });

  it('writes the configuration with durations as Go does', () => {
    const body = configzBody(defaultKubeletConfiguration()) as {
      kubeletconfig: Record<string, unknown> & { authentication: { webhook: { cacheTTL: unknown } }; logging: { flushFrequency: unknown } };
    };
    expect(body.kubeletconfig).toMatchObject({
      kind: 'KubeletConfiguration',
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      syncFrequency: '1m0s',
      port: 10250,
      runtimeRequestTimeout: '2m0s',
    });
    expect(body.kubeletconfig.authentication.webhook.cacheTTL).toBe('2m0s');
    expect(body.kubeletconfig.logging.flushFrequency).toBe('5s');
    expect(body.kubeletconfig['imageMaximumGCAge']).toBe('0s');
  });
});

describe('kubelet metrics', () => {
  it('names runtime operations as upstream does', () => {
    expect(
      [
        'RunPodSandbox',
        'ListPodSandbox',
        'PodSandboxStatus',
        'ListContainers',
        'ExecSync',
        'PortForward',
        'UpdateContainerResources',
        'ImageFsInfo',
        'ListPodSandboxStats',
        'Version',
      ].map(runtimeOperationType),
    ).toEqual([
      'run_podsandbox',
      'list_podsandbox',
      'podsandbox_status',
      'list_containers',
      'exec_sync',
      'port_forward',
      'update_container',
      'image_fs_info',
      'list_podsandbox_stats',
      'version',
    ]);
  });

  it('times a pod start from when the kubelet first saw it to its first Running status, once', async () => {
    const m = new KubeletMetrics('n1');
    const seen = Date.parse('2025-01-01T00:00:00Z');
    const pod = (phase?: string): V1Pod => ({
      metadata: { uid: 'u1', annotations: { 'kubernetes.io/config.seen': new Date(seen).toISOString() } },
      ...(phase ? { status: { phase } } : {}),
    });
    m.podStatus(pod(), { phase: 'Pending' }, seen + 1000);
    m.podStatus(pod(), { phase: 'Running' }, seen + 3000);
    m.podStatus(pod(), { phase: 'Running' }, seen + 9000);
    // Running already per the API (a kubelet restart): no start to time.
    m.podStatus({ ...pod('Running'), metadata: { uid: 'u2', annotations: {} } }, { phase: 'Running' }, seen + 1000);
    const text = await m.registry.metrics();
    expect(text).toMatch(/^kubelet_pod_start_duration_seconds_count 1$/m);
    expect(text).toMatch(/^kubelet_pod_start_duration_seconds_sum 3$/m);
    expect(text).toMatch(/^kubelet_pod_start_duration_seconds_bucket\{le="2"\} 0$/m);
    expect(text).toMatch(/^kubelet_pod_start_duration_seconds_bucket\{le="3"\} 1$/m);
  });

  it('counts runtime operations and their errors, and running pods and containers from the runtime view', async () => {
    const m = new KubeletMetrics('n1');
    m.setRuntimePods(async () => pods);
    m.runtimeOperation('ListContainers', 12, undefined);
    m.runtimeOperation('ListContainers', 3, undefined);
    m.runtimeOperation('StartContainer', 20_000, new (await import('../../src/common/errors.js')).TskubeError('unavailable', 'x'));
    m.relisted(40, 1000);
    m.relisted(30, 2000);
    const text = await m.registry.metrics();
    expect(text).toMatch(/^kubelet_runtime_operations_total\{operation_type="list_containers"\} 2$/m);
    expect(text).toMatch(/^kubelet_runtime_operations_errors_total\{operation_type="start_container"\} 1$/m);
    expect(text).toMatch(/^kubelet_runtime_operations_duration_seconds_bucket\{le="0.005",operation_type="list_containers"\} 1$/m);
    expect(text).toMatch(/^kubelet_running_pods 1$/m);
    expect(text).toMatch(/^kubelet_running_containers\{container_state="running"\} 1$/m);
    expect(text).toMatch(/^kubelet_running_containers\{container_state="exited"\} 1$/m);
    expect(text).toMatch(/^kubelet_pleg_relist_duration_seconds_count 2$/m);
    expect(text).toMatch(/^kubelet_pleg_relist_interval_seconds_sum 1$/m);
    expect(text).toMatch(/^kubelet_node_name\{node="n1"\} 1$/m);
  });
});

describe('collecting summaries', () => {
  function fakeHost(calls: string[], failSandboxStats = false) {
    const call = async (rpc: string) => {
      calls.push(rpc);
      await new Promise((r) => setTimeout(r, 20));
      if (rpc === 'ListPodSandboxStats') {
        if (failSandboxStats) throw new Error('cgroupPath is empty');
        return { stats: [sandboxStats] };
      }
      return { stats: [containerStats('c-run', 2e9)] };
    };
    return {
      nodeName: 'n1',
      pods: () => [],
      podStatus: () => undefined,
      runtimePods: async () => pods,
      cri: { runtime: { call } } as unknown as CriClient,
      config: defaultKubeletConfiguration(),
      rootDir: '/',
      metrics: new KubeletMetrics('n1'),
      healthChecks: [pingCheck],
    };
  }
  const sampler = { sample: async () => node };
  const log = pino({ level: 'silent' });

  it('shares one collection among concurrent requests and reuses it for a second', async () => {
    const calls: string[] = [];
    const c = new SummaryCollector({ host: fakeHost(calls), sampler, log, maxAgeMs: 1000 });
    const [a, b] = await Promise.all([c.get(), c.get()]);
    expect(a).toBe(b);
    expect(await c.get()).toBe(a);
    expect(calls.sort()).toEqual(['ListContainerStats', 'ListPodSandboxStats']);
    // CPU and memory only: no sandbox stats asked for.
    const only = await c.get({ onlyCpuAndMemory: true });
    expect(calls.filter((x) => x === 'ListPodSandboxStats')).toHaveLength(1);
    expect(only.pods[0]?.cpu?.usageCoreNanoSeconds).toBe(2e9);
  });

  it("falls back to the containers' sums when the runtime cannot list sandbox stats", async () => {
    const c = new SummaryCollector({ host: fakeHost([], true), sampler, log, maxAgeMs: 0 });
    const s = await c.get();
    expect(s.pods[0]?.memory?.workingSetBytes).toBe(4096);
    expect(s.pods[0]?.network).toBeUndefined();
  });
});

describe('/pods', () => {
  it('writes the PodList again only when the pods changed', () => {
    const body = new PodListBody();
    const a: V1Pod = { metadata: { name: 'a' } };
    const first = body.of([a]);
    expect(JSON.parse(first)).toEqual({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: [{ metadata: { name: 'a' } }] });
    expect(body.of([a])).toBe(first);
    const changed = body.of([{ metadata: { name: 'a', labels: { x: 'y' } } }]);
    expect(JSON.parse(changed).items[0].metadata.labels).toEqual({ x: 'y' });
    expect(JSON.parse(body.of([])).items).toEqual([]);
  });
});
