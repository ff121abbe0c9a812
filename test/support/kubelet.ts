// Runs the real tskube kubelet in-process for a test: its own root dir, static pod
// folder and config, stopped (and its pods removed from the runtime) by stop().
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { resolveKubeletOptions } from '../../src/kubelet/options/index.js';
import { runKubelet } from '../../src/kubelet/kubelet.js';
import { CriClient } from '../../src/cri-client/index.js';
import { runtimeEndpoint } from './runtime.js';
import { freePorts } from '../testbed/ports.js';
import { removeCgroupTree } from './cgroups.js';
import { unmountUnder } from './mounts.js';
import type { PodNetworkSettings } from '../../src/kubelet/network/pod-network.js';

export interface TestKubelet {
  dir: string;
  /** The kubelet's podLogsDir (its /var/log/pods). */
  podLogs: string;
  /** Its /var/log/containers. */
  containerLogLinks: string;
  manifests: string;
  nodeName: string;
  /** The kubelet API's HTTPS port (on 127.0.0.1 unless extraConfig says otherwise). */
  apiPort: number;
  writeManifest(file: string, pod: object): void;
  removeManifest(file: string): void;
  /** Stops the kubelet; its pods keep running, as upstream's do. */
  stop(): Promise<void>;
  start(): void;
  /** Stops the kubelet and removes every sandbox of pods it made. */
  destroy(): Promise<void>;
}

// Tests read the kubelet's effects, not its log; TSKUBE_LOG_LEVEL=info shows it.
process.env['TSKUBE_LOG_LEVEL'] ??= 'warn';

/** The cgroup root a test kubelet's pods live under. */
export function cgroupRootName(nodeName: string): string {
  return `tskube-test-${nodeName}`;
}

/** The KubeletConfiguration every test kubelet starts from. */
export function testKubeletConfig(o: {
  dir: string;
  manifests: string;
  endpoint: string;
  apiPort: number;
  nodeName: string;
  extra?: Record<string, unknown> | undefined;
}): Record<string, unknown> {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    staticPodPath: o.manifests,
    fileCheckFrequency: '1s',
    containerRuntimeEndpoint: o.endpoint,
    cgroupDriver: 'cgroupfs',
    clusterDomain: 'cluster.local',
    podLogsDir: join(o.dir, 'pod-logs'),
    address: '127.0.0.1',
    port: o.apiPort,
    // Kubelets of parallel suites must not fight over :10248; a test that reads /healthz sets a port.
    healthzPort: 0,
    // Each test kubelet keeps its QoS cgroups under a root of its own: a kubelet removes pod
    // cgroups no pod of its own owns, so two on one machine must not share a hierarchy.
    cgroupRoot: `/${cgroupRootName(o.nodeName)}`,
    // The shared containerd's images belong to every suite: no test kubelet collects them
    // (100 % turns image GC off, as upstream); the image GC test sets its own thresholds.
    imageGCHighThresholdPercent: 100,
    // A CI machine may have swap on; the refusal to start with it is unit-tested.
    failSwapOn: false,
    ...o.extra,
  };
}

export async function startTestKubelet(options: {
  nodeName: string;
  extraConfig?: Record<string, unknown>;
  args?: string[];
  /** API namespaces the test runs pods in: destroy() removes their sandboxes too. */
  namespaces?: string[];
  /** CRI endpoint when not the shared containerd's. */
  runtimeEndpoint?: string;
  /** Image GC period (default upstream's 5 minutes); only on a private containerd, whose images are the test's own. */
  imageGcPeriodMs?: number;
  /** When in its life a projected token is renewed (upstream's 0.8): small, to see a renewal within a test. */
  tokenRefreshFraction?: number;
  /** With --network-plugin=cni (in args): how the plugins run (in a test namespace) and their deadlines. */
  cni?: Pick<PodNetworkSettings, 'exec' | 'timeouts'>;
}): Promise<TestKubelet> {
  const endpoint = options.runtimeEndpoint ?? runtimeEndpoint;
  const dir = mkdtempSync(join(tmpdir(), 'tskube-kubelet-'));
  const manifests = join(dir, 'manifests');
  mkdirSync(manifests);
  const configPath = join(dir, 'config.yaml');
  // The kubelet API on loopback and a free port, never the host's 0.0.0.0:10250; no healthz port.
  const [apiPort = 0] = await freePorts(1);
  writeFileSync(configPath, stringify(testKubeletConfig({ dir, manifests, endpoint, apiPort, nodeName: options.nodeName, extra: options.extraConfig })));
  const { options: resolved } = await resolveKubeletOptions(
    ['--config', configPath, '--root-dir', join(dir, 'root'), '--hostname-override', options.nodeName, '--v', '0', ...(options.args ?? [])],
    { hostname: options.nodeName },
  );
  // Links go beside the pod logs, not into the host's /var/log/containers; a short GC
  // period lets tests see dead containers and gone pods' logs collected.
  resolved.containerLogLinksDir = join(dir, 'containers');
  resolved.containerGcPeriodMs = 1000;
  if (options.imageGcPeriodMs !== undefined) resolved.imageGcPeriodMs = options.imageGcPeriodMs;
  if (options.tokenRefreshFraction !== undefined) resolved.tokenRefreshFraction = options.tokenRefreshFraction;
  if (resolved.cni && options.cni) resolved.cni = { ...resolved.cni, ...options.cni };
  let controller: AbortController | undefined;
  let running: Promise<void> | undefined;
  const kubelet: TestKubelet = {
    dir,
    podLogs: join(dir, 'pod-logs'),
    containerLogLinks: resolved.containerLogLinksDir,
    manifests,
    nodeName: options.nodeName,
    apiPort: Number(options.extraConfig?.['port'] ?? apiPort),
    writeManifest: (file, pod) => writeFileSync(join(manifests, file), stringify(pod)),
    removeManifest: (file) => rmSync(join(manifests, file), { force: true }),
    start() {
      controller = new AbortController();
      running = runKubelet(resolved, controller.signal).catch((err: unknown) => {
        if (!controller?.signal.aborted) throw err;
      });
    },
    async stop() {
      controller?.abort();
      await running;
    },
    async destroy() {
      await kubelet.stop();
      const client = new CriClient({ endpoint, timeoutMs: 30_000 });
      try {
        const { items } = await client.runtime.call('ListPodSandbox', {});
        const ours = (s: (typeof items)[number]) =>
          (s.metadata?.name ?? '').endsWith(`-${options.nodeName}`) || (options.namespaces ?? []).includes(s.labels['io.kubernetes.pod.namespace'] ?? '');
        for (const p of items.filter(ours)) {
          await client.runtime.call('StopPodSandbox', { podSandboxId: p.id }).catch(() => undefined);
          await client.runtime.call('RemovePodSandbox', { podSandboxId: p.id }).catch(() => undefined);
        }
      } finally {
        client.close();
      }
      // The volumes of pods still there when the kubelet stopped (tmpfs, subPath binds).
      unmountUnder(dir);
      rmSync(dir, { recursive: true, force: true });
      await removeCgroupTree(`/${cgroupRootName(options.nodeName)}`);
      // The kubeconfig the TLS bootstrap wrote is ours; the bootstrap kubeconfig is the testbed's.
      const args = options.args ?? [];
      const written = args[args.indexOf('--kubeconfig') + 1];
      if (args.includes('--kubeconfig') && written) rmSync(written, { force: true });
    },
  };
  kubelet.start();
  return kubelet;
}
