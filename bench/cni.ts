// bench/cni: CNI ADD and DEL for 50 pod sandboxes through the tskube library, beside
// the same plugins run by containerd's own CNI (go-cni on libcni) for the same
// sandboxes, in the same run, one plugin set after the other (Debian's 1.1.1, v1.10).
//
// A private containerd (Debian's 1.6) creates each sandbox with its network, a bridge +
// host-local + portmap list (CNI 1.0.0) on eth0; tskube then adds two more networks of
// the same plugins (each its own bridge and subnet) in the same sandbox namespace, found
// in the verbose sandbox status, with the CNI_ARGS containerd passes: eth1 with plugins
// started by Node's own spawn, eth2 with plugins started by tskube-cni-exec (the two ways
// src/cni can run a plugin; which goes first alternates per sandbox). Teardown is the
// other way round: tskube's DELs, then StopPodSandbox. So all sides see the same machine
// load, sandbox after sandbox.
//
//   containerd ADD/DEL: containerd's own timer around go-cni's Setup/Remove, read as the
//     change of containerd_cri_network_plugin_operations_duration_seconds (sum) across
//     each RunPodSandbox/StopPodSandbox: only the CNI part of the call. go-cni also runs
//     its built-in loopback network: at once with the list on ADD, before it on DEL.
//   tskube ADD/DEL: wall time of the library's add()/del() of the list, in this process:
//     the work the kubelet does per pod when containerd keeps the loopback network.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cni } from '../src/cni/cni.js';
import { loadConfigFile } from '../src/cni/config/config-dir.js';
import { HelperPluginExec } from '../src/cni/helper-exec.js';
import type { NetworkConfig } from '../src/cni/network-config.js';
import { processPluginExec } from '../src/cni/plugin-exec.js';
import { CriClient } from '../src/cri-client/index.js';
import { privateContainerd } from '../test/support/private-containerd.js';
import { freePort } from './lib/free-port.js';
import { counters } from './lib/prom-counters.js';
import { percentile, printTable } from './lib/stats.js';

const count = Number(process.env['BENCH_SANDBOXES'] ?? 50);
const cacheRoot = process.env['TSKUBE_CACHE'] ?? join(process.env['HOME'] ?? '/root', '.cache/tskube');
const pluginSets = [
  { name: "Debian's plugins 1.1.1", dir: '/usr/lib/cni' },
  { name: 'plugins v1.10.0', dir: process.env['TSKUBE_CNI_PLUGINS_BIN'] ?? join(cacheRoot, 'cni-plugins/v1.10.0/bin') },
];
const helperPath = join(process.env['TSKUBE_CNI_NATIVE_BIN'] ?? join(cacheRoot, 'cni-native/bin'), 'tskube-cni-exec');
const metric = 'containerd_cri_network_plugin_operations_duration_seconds_seconds_sum';

interface Samples {
  add: number[];
  del: number[];
}

/** containerd's cumulative CNI time per operation (seconds), from its metrics endpoint. */
async function cniSeconds(metricsUrl: string, op: 'set_up_pod' | 'tear_down_pod'): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  return counters(text, metric, (l) => l['operation_type'] ?? '').get(op) ?? 0;
}

/** The sandbox's network namespace, from the verbose status (runtimeSpec's network namespace, as containerd 1.6 and 2.x give it). */
async function sandboxNetns(cri: CriClient, podSandboxId: string): Promise<string> {
  const { info } = await cri.runtime.call('PodSandboxStatus', { podSandboxId, verbose: true });
  const spec = JSON.parse(info['info'] ?? '{}') as { runtimeSpec?: { linux?: { namespaces?: { type: string; path?: string }[] } } };
  const path = spec.runtimeSpec?.linux?.namespaces?.find((n) => n.type === 'network')?.path;
  if (!path) throw new Error(`sandbox ${podSandboxId}: no network namespace in the verbose status`);
  return path;
}

async function benchSet(set: { name: string; dir: string }, rows: (string | number)[][]): Promise<void> {
  const tag = `${process.pid % 10000}`;
  const work = mkdtempSync(join(tmpdir(), 'tskube-bench-cni-'));
  const bridges = [`tkb${tag}a`, `tkb${tag}b`, `tkb${tag}c`] as const;
  const confDir = join(work, 'net.d');
  execFileSync('mkdir', ['-p', confDir]);
  // The same plugins for both; subnets inside the pod CIDR scripts/setup blackholes (no traffic is sent anyway).
  const list = (name: string, bridgeName: string, subnet: string) =>
    JSON.stringify({
      cniVersion: '1.0.0',
      name,
      plugins: [
        {
          type: 'bridge',
          bridge: bridgeName,
          isGateway: true,
          ipam: { type: 'host-local', dataDir: join(work, 'ipam'), ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }] },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    });
  writeFileSync(join(confDir, '10-bench.conflist'), list(`tskube-bench-${tag}`, bridges[0], '10.88.240.0/24'));
  const secondFile = join(work, '10-bench-tskube.conflist');
  writeFileSync(secondFile, list(`tskube-bench-${tag}-b`, bridges[1], '10.88.241.0/24'));
  const second: NetworkConfig = await loadConfigFile(secondFile);
  const thirdFile = join(work, '10-bench-helper.conflist');
  writeFileSync(thirdFile, list(`tskube-bench-${tag}-c`, bridges[2], '10.88.242.0/24'));
  const third: NetworkConfig = await loadConfigFile(thirdFile);
  const port = await freePort();
  const ctd = privateContainerd({ cri: true, cni: { confDir, binDir: set.dir }, metricsAddress: `127.0.0.1:${port}` });
  const metricsUrl = `http://127.0.0.1:${port}/v1/metrics`;
  const cni = new Cni({ pluginDirs: [set.dir], exec: processPluginExec });
  const helper = new HelperPluginExec(helperPath);
  const cniHelper = new Cni({ pluginDirs: [set.dir], exec: helper });
  const sandboxes: string[] = [];
  let client: CriClient | undefined;
  const tskube: Samples = { add: [], del: [] };
  const tskubeHelper: Samples = { add: [], del: [] };
  const containerd: Samples = { add: [], del: [] };
  try {
    await ctd.start();
    ctd.importImages(['registry.k8s.io/pause:3.10']);
    client = new CriClient({ endpoint: ctd.endpoint, timeoutMs: 60_000 });
    for (let i = 0; ; i++) {
      const status = await client.runtime.call('Status', {}).catch(() => undefined);
      if (status?.status?.conditions.some((c) => c.type === 'NetworkReady' && c.status)) break;
      if (i > 100) throw new Error(`private containerd in ${ctd.dir}: its CNI network never became ready`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const cri = client;
    const pods: { id: string; args: [string, string][]; netns: string }[] = [];
    // Node's spawn on eth1 and the helper on eth2, the first of the two alternating per sandbox.
    const sides = (i: number) => {
      const both = [
        { cni, network: second, ifName: 'eth1', samples: tskube },
        { cni: cniHelper, network: third, ifName: 'eth2', samples: tskubeHelper },
      ];
      return i % 2 ? both.reverse() : both;
    };
    for (let i = 0; i < count; i++) {
      // containerd's CNI time is its metric's change across RunPodSandbox.
      const before = await cniSeconds(metricsUrl, 'set_up_pod');
      const metadata = { name: `bench-cni-${tag}-${i}`, namespace: 'tskube-bench', uid: `bench-cni-${tag}-${i}`, attempt: 0 };
      const { podSandboxId } = await cri.runtime.call('RunPodSandbox', {
        config: { metadata, hostname: metadata.name, logDirectory: join(work, 'logs', metadata.name), linux: {} },
      });
      sandboxes.push(podSandboxId);
      containerd.add.push(((await cniSeconds(metricsUrl, 'set_up_pod')) - before) * 1000);

      const netns = await sandboxNetns(cri, podSandboxId);
      const args: [string, string][] = [
        ['IgnoreUnknown', '1'],
        ['K8S_POD_NAMESPACE', metadata.namespace],
        ['K8S_POD_NAME', metadata.name],
        ['K8S_POD_INFRA_CONTAINER_ID', podSandboxId],
        ['K8S_POD_UID', metadata.uid],
      ];
      for (const side of sides(i)) {
        const t0 = performance.now();
        await side.cni.add(side.network, { containerId: podSandboxId, ifName: side.ifName, netns, args });
        side.samples.add.push(performance.now() - t0);
      }
      pods.push({ id: podSandboxId, args, netns });
    }
    for (const [i, pod] of pods.entries()) {
      for (const side of sides(i)) {
        const t0 = performance.now();
        await side.cni.del(side.network, { containerId: pod.id, ifName: side.ifName, netns: pod.netns, args: pod.args });
        side.samples.del.push(performance.now() - t0);
      }

      const before = await cniSeconds(metricsUrl, 'tear_down_pod');
      await cri.runtime.call('StopPodSandbox', { podSandboxId: pod.id });
      containerd.del.push(((await cniSeconds(metricsUrl, 'tear_down_pod')) - before) * 1000);
      await cri.runtime.call('RemovePodSandbox', { podSandboxId: pod.id });
    }
    sandboxes.length = 0;
    if (containerd.add.every((v) => v === 0)) throw new Error(`no ${metric} in containerd's metrics at ${metricsUrl}`);
    for (const [op, t, h, c] of [
      ['ADD', tskube.add, tskubeHelper.add, containerd.add],
      ['DEL', tskube.del, tskubeHelper.del, containerd.del],
    ] as const) {
      rows.push([
        `${set.name} ${op}`,
        percentile(t, 50),
        percentile(t, 99),
        percentile(h, 50),
        percentile(h, 99),
        percentile(c, 50),
        percentile(c, 99),
        (percentile(t, 50) / percentile(c, 50)) * 100,
        (percentile(h, 50) / percentile(c, 50)) * 100,
      ]);
    }
  } finally {
    for (const podSandboxId of sandboxes) {
      await client?.runtime.call('StopPodSandbox', { podSandboxId }).catch(() => undefined);
      await client?.runtime.call('RemovePodSandbox', { podSandboxId }).catch(() => undefined);
    }
    client?.close();
    helper.close();
    await ctd.destroy();
    for (const bridge of bridges) {
      try {
        execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
      } catch {
        // never made
      }
    }
    rmSync(work, { recursive: true, force: true });
  }
}

const rows: (string | number)[][] = [];
for (const set of pluginSets) await benchSet(set, rows);
console.log(`CNI ADD and DEL of bridge + host-local + portmap for ${count} pod sandboxes, one at a time (ms)`);
printTable(
  [
    'plugins, operation',
    'tskube spawn p50',
    'tskube spawn p99',
    'tskube exec p50',
    'tskube exec p99',
    'containerd p50',
    'containerd p99',
    'spawn/containerd p50 %',
    'exec/containerd p50 %',
  ],
  rows,
);
console.log(
  "\ntskube: wall time of the library's add()/del() of the list in this process; spawn: plugins started by Node's child_process\n" +
    '  (eth1), exec: by the tskube-cni-exec helper (eth2), the first of the two alternating per sandbox.\n' +
    "containerd: its own timer around go-cni's Setup/Remove of the same list on eth0 (network_plugin_operations_duration_seconds),\n" +
    '  which also runs its loopback network (at once on ADD, before the list on DEL). Same plugins, CNI_ARGS and cache folder.',
);
