// A standalone kubelet (static pods only, no API server) on a private containerd, for
// benches that need no control plane and no kubelet lock (bench/probes, bench/memory).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CriClient } from '../../src/cri-client/index.js';
import { detectCgroupLayout } from '../../src/kubelet/cm/cgroup-layout.js';
import { cgroupDirs } from '../../src/kubelet/cm/plan-cgroup-writes.js';
import { removeCgroupTree } from '../../test/support/cgroups.js';
import { eventually } from '../../test/testbed/eventually.ts';
import { type KubeletKind, startKubelet, upstreamSafeConfig } from './kubelets.js';

/** The KubeletConfiguration both kubelets run with: static pods from dir/manifests, no server, cgroups under cgroupRoot. */
function standaloneConfig(dir: string, endpoint: string, cgroupRoot: string): object {
  const config = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    containerRuntimeEndpoint: endpoint,
    cgroupDriver: 'cgroupfs',
    cgroupRoot,
    staticPodPath: join(dir, 'manifests'),
    enableServer: false,
    healthzPort: 0,
    readOnlyPort: 0,
    podLogsDir: join(dir, 'logs'),
    maxPods: 110,
    // Standalone: no API server to ask about callers (and no server: enableServer is off).
    authentication: { webhook: { enabled: false }, anonymous: { enabled: false } },
    authorization: { mode: 'AlwaysAllow' },
  };
  // Both get the settings that keep the upstream one harmless (image GC and eviction off among them).
  return { ...config, ...upstreamSafeConfig() };
}

/** The cgroup v1 hierarchies mounted under /sys/fs/cgroup (none on a pure v2 host). */
function v1Hierarchies(): string[] {
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) return [];
  return readdirSync('/sys/fs/cgroup', { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => join('/sys/fs/cgroup', e.name));
}

/** Removes a cgroup folder and the (emptied) ones below it, deepest first. */
function removeEmptyTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeEmptyTree(join(dir, e.name));
  rmdirSync(dir);
}

/**
 * Makes the cgroup root in every hierarchy (name=systemd too: the upstream kubelet wants it
 * to exist already) and returns its removal, which takes what the kubelet left below it.
 */
async function makeCgroupRoot(cgroupRoot: string): Promise<() => Promise<void>> {
  const dirs = [...new Set([...cgroupDirs(await detectCgroupLayout(), cgroupRoot), ...v1Hierarchies().map((h) => join(h, cgroupRoot))])];
  for (const d of dirs) mkdirSync(d, { recursive: true });
  return async () => {
    await removeCgroupTree(cgroupRoot);
    for (const d of dirs) removeEmptyTree(d);
  };
}

export async function runningContainers(cri: CriClient, namespace: string): Promise<number> {
  const { containers } = await cri.runtime.call('ListContainers', {
    filter: { state: { state: 'CONTAINER_RUNNING' }, labelSelector: { 'io.kubernetes.pod.namespace': namespace } },
  });
  return containers.length;
}

/** Stops and removes every sandbox on the (private) runtime. */
async function removeAllPods(cri: CriClient): Promise<void> {
  const { items } = await cri.runtime.call('ListPodSandbox', {});
  await Promise.all(
    items.map(async (s) => {
      await cri.runtime.call('StopPodSandbox', { podSandboxId: s.id }).catch(() => undefined);
      await cri.runtime.call('RemovePodSandbox', { podSandboxId: s.id }).catch(() => undefined);
    }),
  );
}

export interface StandaloneStart {
  kind: KubeletKind;
  /** The bench's name: the folder, node and cgroup root are named after it. */
  bench: string;
  endpoint: string;
  /** The pods' namespace (their container log links are removed at the end). */
  namespace: string;
  root: string;
  upstreamKubelet: string;
  nodeIP: string;
  /** The node's name; by default `bench-<bench>-<kind>`. A handover between kinds keeps one. */
  nodeName?: string;
}

export interface StandaloneKubelet {
  /** Static pod manifests go here. */
  manifests: string;
  cri: CriClient;
  /**
   * Starts the kubelet (write the first manifests before, if it should start with them);
   * `kind` starts the other kind on the same folder and runtime, to hand a node over.
   */
  start(kind?: KubeletKind): number;
  /** Stops the kubelet alone: its pods keep running, as when a node's kubelet is replaced. */
  kill(): Promise<void>;
  /** Waits for `check` (polled every second, up to timeoutMs), unless the kubelet dies first. */
  until(what: string, check: () => Promise<boolean>, timeoutMs?: number): Promise<void>;
  /** Sleeps, unless the kubelet dies first. */
  sleep(ms: number): Promise<void>;
  /** The end of its stderr, for an error message. */
  lastWords(): string;
  /** Stops it and removes its pods, cgroups, folder and container log links. */
  stop(): Promise<void>;
}

export async function standaloneKubelet(o: StandaloneStart): Promise<StandaloneKubelet> {
  const dir = mkdtempSync(join(tmpdir(), `tskube-bench-${o.bench}-${o.kind}-`));
  const manifests = join(dir, 'manifests');
  mkdirSync(manifests);
  const cgroupRoot = `/tskube-bench-${o.bench}-${o.kind}`;
  writeFileSync(join(dir, 'config.yaml'), stringify(standaloneConfig(dir, o.endpoint, cgroupRoot)));
  const removeCgroupRoot = await makeCgroupRoot(cgroupRoot);
  const cri = new CriClient({ endpoint: o.endpoint, timeoutMs: 60_000 });
  let kubelet: ReturnType<typeof startKubelet> | undefined;
  let stderr = '';
  let exited: Promise<never> = new Promise(() => undefined);
  const orExit = <T>(p: Promise<T>) => Promise.race([p, exited]);
  return {
    manifests,
    cri,
    start(kind = o.kind) {
      // The node's address as kubeadm passes it: neither kubelet has to find one itself.
      const nodeName = o.nodeName ?? `bench-${o.bench}-${o.kind}`;
      const k = startKubelet({ kind, dir, nodeName, nodeIP: o.nodeIP, root: o.root, upstreamKubelet: o.upstreamKubelet });
      kubelet = k;
      k.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
      exited = new Promise<never>((_, reject) => k.once('exit', (code) => reject(new Error(`${kind} kubelet exited (${code})`))));
      exited.catch(() => undefined);
      return k.pid ?? 0;
    },
    async kill() {
      const k = kubelet;
      if (!k) return;
      kubelet = undefined;
      exited = new Promise(() => undefined);
      k.kill('SIGTERM');
      await new Promise((r) => (k.exitCode === null && k.signalCode === null ? k.once('exit', r) : r(undefined)));
    },
    until: (what, check, timeoutMs = 300_000) =>
      orExit(eventually(what, async () => ((await check()) ? true : undefined), timeoutMs, 1000)).then(() => undefined),
    sleep: (ms) => orExit(new Promise<void>((r) => setTimeout(r, ms))),
    lastWords: () => stderr,
    async stop() {
      if (kubelet) {
        const k = kubelet;
        k.kill('SIGTERM');
        await new Promise((r) => (k.exitCode === null ? k.once('exit', r) : r(undefined)));
      }
      await removeAllPods(cri);
      cri.close();
      await removeCgroupRoot();
      rmSync(dir, { recursive: true, force: true });
      // The upstream kubelet links container logs into the host's /var/log/containers.
      if (existsSync('/var/log/containers'))
        for (const name of readdirSync('/var/log/containers').filter((n) => n.includes(`_${o.namespace}_`)))
          rmSync(join('/var/log/containers', name), { force: true });
    },
  };
}

/** The image of sleepPod's container: import it into the private containerd. */
export const sleepImage = 'localhost/tskube/busybox:latest';

/** Static pod p<i>: one `sleep` container on the host's network; `container` adds to the container (a probe). */
export function sleepPod(namespace: string, i: number, container: object = {}): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `p${i}`, namespace },
    spec: {
      hostNetwork: true,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'main', image: sleepImage, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'], ...container }],
    },
  };
}
