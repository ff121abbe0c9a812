// Kubelet-managed pod networking (--network-plugin=cni) with the real pieces: a private
// containerd whose only CNI network is tskube-cni-shim (the C binary), the standalone
// kubelet answering the shim on its socket, and the CNI plugins v1.10 run by the kubelet
// inside a test host namespace (bridge, veths, leases and netfilter rules land there).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CriClient } from '../../src/cri-client/index.js';
import { inNetns, ip, pluginSets } from '../support/cni.js';
import { cgroupRootName, startTestKubelet, type TestKubelet, testKubeletConfig } from '../support/kubelet.js';
import { removeCgroupTree } from '../support/cgroups.js';
import { freePorts } from '../testbed/ports.js';
import {
  bundleCli,
  type CniRig,
  cniRig,
  KubeletProcess,
  leftovers,
  nodePluginSource,
  readText,
  runShim,
  sandboxNetns,
  shimStdin,
} from '../support/kubelet-cni.js';
import { testImage, uniqueName } from '../support/runtime.js';
import { eventually } from '../testbed/eventually.js';

const set = pluginSets[1] as (typeof pluginSets)[number];
const octet = 211;
const network = 'tskube-pods';

function staticPod(name: string, spec: object, annotations: Record<string, string> = {}) {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', annotations }, spec };
}

/** Node is the HTTP client every test machine has (busybox's wget crashes: static glibc). */
function httpGet(netns: string, url: string): string {
  const get = `require('node:http').get(${JSON.stringify(url)}, { timeout: 2000 }, (r) => r.pipe(process.stdout)).on('error', () => process.exit(1))`;
  return inNetns(netns, [process.execPath, '-e', get]);
}

describe('kubelet-managed pod networking (standalone kubelet, private containerd)', () => {
  let rig: CniRig;
  let kubelet: TestKubelet;
  let cri: CriClient;
  const node = uniqueName('cninode');

  beforeAll(async () => {
    rig = await cniRig(set);
    rig.writeChain(network, octet);
    cri = new CriClient({ endpoint: rig.runtime.endpoint, timeoutMs: 30_000 });
    kubelet = await startTestKubelet({ nodeName: node, runtimeEndpoint: rig.runtime.endpoint, args: rig.kubeletArgs, cni: { exec: rig.exec } });
  }, 120_000);

  afterAll(async () => {
    // The kubelet first: with it gone the runtime can no longer tear down pod networks, but the rig's namespace takes them all.
    await kubelet?.destroy();
    cri?.close();
    await rig?.destroy();
  }, 120_000);

  async function readySandbox(podName: string) {
    return eventually(
      `a ready sandbox with a running container for ${podName}`,
      async () => {
        const { items } = await cri.runtime.call('ListPodSandbox', {
          filter: { labelSelector: { 'io.kubernetes.pod.name': `${podName}-${node}` }, state: { state: 'SANDBOX_READY' } },
        });
        const sandbox = items[0];
        if (!sandbox) return undefined;
        const { containers } = await cri.runtime.call('ListContainers', { filter: { podSandboxId: sandbox.id, state: { state: 'CONTAINER_RUNNING' } } });
        if (!containers.length) return undefined;
        const { status } = await cri.runtime.call('PodSandboxStatus', { podSandboxId: sandbox.id });
        return { id: sandbox.id, ip: status?.network?.ip ?? '', netns: await sandboxNetns(cri, sandbox.id) };
      },
      60_000,
    );
  }

  it("writes the shim's config into the runtime's folder, which the runtime loads", async () => {
    const conf = join(rig.runtimeConfDir, '00-tskube.conflist');
    await eventually('00-tskube.conflist', () => (existsSync(conf) ? true : undefined), 20_000);
    expect(JSON.parse(readFileSync(conf, 'utf8'))).toMatchObject({
      name: 'tskube',
      plugins: [{ type: 'tskube-cni-shim', socket: join(kubelet.dir, 'root', 'cni', 'cni.sock') }],
    });
    await eventually(
      "the runtime's NetworkReady",
      async () => ((await cri.runtime.call('Status', {})).status?.conditions.find((c) => c.type === 'NetworkReady')?.status ? true : undefined),
      20_000,
    );
  });

  it('gives pods addresses from the chain, and they reach each other by IP; a hostPort reaches a pod from another namespace', async () => {
    const serve = (text: string) => ['sh', '-c', `echo ${text} > /tmp/index.html; exec httpd -f -p 8080 -h /tmp`];
    kubelet.writeManifest(
      'a.yaml',
      staticPod('web-a', {
        terminationGracePeriodSeconds: 1,
        containers: [
          { name: 'web', image: testImage, imagePullPolicy: 'IfNotPresent', command: serve('from-a'), ports: [{ containerPort: 8080, hostPort: 18081 }] },
        ],
      }),
    );
    kubelet.writeManifest(
      'b.yaml',
      staticPod('web-b', {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'web', image: testImage, imagePullPolicy: 'IfNotPresent', command: serve('from-b') }],
      }),
    );
    const a = await readySandbox('web-a');
    const b = await readySandbox('web-b');
    for (const p of [a, b]) expect(p.ip).toMatch(new RegExp(`^10\\.88\\.${octet}\\.\\d+$`));
    expect(a.ip).not.toBe(b.ip);
    // Each address is held by host-local in the test host's lease folder, for this sandbox.
    expect(rig.host.leases(network).sort()).toEqual([a.ip, b.ip].sort());
    expect(readFileSync(join(rig.host.dataDir, network, a.ip), 'utf8')).toContain(a.id);

    expect(await eventually('b from a', () => httpGet(a.netns, `http://${b.ip}:8080/`), 20_000, 300)).toBe('from-b\n');
    expect(await eventually('a from b', () => httpGet(b.netns, `http://${a.ip}:8080/`), 20_000, 300)).toBe('from-a\n');

    // A client namespace wired to the test host by a veth pair of its own (10.88.212.0/30).
    const client = rig.host.podNs('client');
    const hostSide = `tkc${rig.host.id}c`;
    ip('link', 'add', hostSide, 'netns', rig.host.hostNs, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client.name);
    ip('-n', rig.host.hostNs, 'addr', 'add', '10.88.212.1/30', 'dev', hostSide);
    ip('-n', rig.host.hostNs, 'link', 'set', hostSide, 'up');
    ip('-n', client.name, 'addr', 'add', '10.88.212.2/30', 'dev', 'eth0');
    ip('-n', client.name, 'link', 'set', 'eth0', 'up');
    ip('-n', client.name, 'route', 'add', 'default', 'via', '10.88.212.1');
    expect(await eventually('the hostPort from the client namespace', () => httpGet(client.name, 'http://10.88.212.1:18081/'), 20_000, 300)).toBe('from-a\n');
    ip('-n', rig.host.hostNs, 'link', 'del', hostSide);
  });

  it('shapes a pod with the bandwidth annotations (a tbf qdisc on its host veth)', async () => {
    kubelet.writeManifest(
      'slow.yaml',
      staticPod(
        'slow',
        { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: testImage, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] },
        { 'kubernetes.io/ingress-bandwidth': '1M', 'kubernetes.io/egress-bandwidth': '2M' },
      ),
    );
    const slow = await readySandbox('slow');
    // The pod's eth0 is one end of a veth pair; its peer in the test host carries the ingress shaping.
    const peerIndex = inNetns(slow.netns, ['cat', '/sys/class/net/eth0/iflink']).trim();
    const hostVeth = ip('-n', rig.host.hostNs, '-o', 'link', 'show')
      .split('\n')
      .find((l) => l.startsWith(`${peerIndex}:`))
      ?.split(/:\s+/)[1]
      ?.split('@')[0];
    expect(hostVeth).toBeTruthy();
    const qdiscs = inNetns(rig.host.hostNs, ['tc', 'qdisc', 'show', 'dev', hostVeth as string]);
    expect(qdiscs).toMatch(/qdisc tbf .* rate 1Mbit/);
    kubelet.removeManifest('slow.yaml');
    await eventually('the slow pod gone', async () =>
      (await cri.runtime.call('ListPodSandbox', { filter: { labelSelector: { 'io.kubernetes.pod.name': `slow-${node}` } } })).items.length ? undefined : true,
    );
  });

  it('GC at start DELs the attachment of a sandbox the runtime does not have, and keeps those of ready pods', async () => {
    // An attachment made through the shim, as a runtime would, for a sandbox the runtime never had.
    const vanished = rig.host.podNs('vanished');
    const containerId = `vanished${rig.host.id}`;
    const add = await runShim(
      join(rig.runtimeBinDir, 'tskube-cni-shim'),
      {
        CNI_COMMAND: 'ADD',
        CNI_CONTAINERID: containerId,
        CNI_NETNS: vanished.path,
        CNI_IFNAME: 'eth0',
        CNI_PATH: rig.runtimeBinDir,
        CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=ghost;K8S_POD_INFRA_CONTAINER_ID=${containerId};K8S_POD_UID=ghost`,
      },
      shimStdin(rig),
    );
    expect(add.exitCode).toBe(0);
    const ghostIp = (JSON.parse(add.stdout) as { ips: { address: string }[] }).ips[0]?.address.split('/')[0] as string;
    const root = join(kubelet.dir, 'root');
    const before = leftovers(rig, network, root);
    expect(before.leases).toContain(ghostIp);
    expect(before.cache).toContain(`${network}-${containerId}-eth0`);
    expect(before.records).toContain(`${containerId}-eth0`);

    await kubelet.stop();
    kubelet.start();
    await eventually(
      'the GC to DEL the vanished attachment',
      () => (leftovers(rig, network, root).records.includes(`${containerId}-eth0`) ? undefined : true),
      30_000,
    );
    const after = leftovers(rig, network, root);
    expect(after.leases.sort()).toEqual(before.leases.filter((l) => l !== ghostIp).sort());
    expect(after.cache).toEqual(before.cache.filter((c) => !c.includes(containerId)));
    expect(after.veths.length).toBe(before.veths.length - 1);
    // The ready pods kept theirs: still serving on their addresses.
    const b = await readySandbox('web-b');
    const a = await readySandbox('web-a');
    expect(await eventually('b from a', () => httpGet(a.netns, `http://${b.ip}:8080/`), 20_000, 300)).toBe('from-b\n');
  });

  it('removing the pods DELs their attachments: no veth, lease, cache entry or record stays', async () => {
    kubelet.removeManifest('a.yaml');
    kubelet.removeManifest('b.yaml');
    await eventually('the sandboxes gone', async () => ((await cri.runtime.call('ListPodSandbox', {})).items.length === 0 ? true : undefined), 60_000);
    expect(leftovers(rig, network, join(kubelet.dir, 'root'))).toEqual({ veths: [], leases: [], cache: [], records: [] });
    expect(inNetns(rig.host.hostNs, ['iptables-save', '-t', 'nat'])).not.toContain('18081');
  });
});

describe('kubelet-managed pod networking when the kubelet is killed during an ADD', () => {
  let rig: CniRig;
  let cri: CriClient;
  let kubelet: KubeletProcess | undefined;
  const node = uniqueName('cnikill');
  const dir = mkdtempSync(join(tmpdir(), 'tskube-kubelet-'));

  beforeAll(async () => {
    rig = await cniRig(set);
    cri = new CriClient({ endpoint: rig.runtime.endpoint, timeoutMs: 30_000 });
  }, 120_000);

  afterAll(async () => {
    await kubelet?.kill('SIGTERM');
    cri?.close();
    await rig?.destroy();
    await removeCgroupTree(`/${cgroupRootName(node)}`);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('leaks nothing after a restart: no veth, no lease, no cache entry, no record', async () => {
    // The chain's last plugin holds its ADD (after bridge made the veth and took a lease) until told to go on.
    const held = join(rig.host.dir, 'HELD');
    const release = join(rig.host.dir, 'RELEASE');
    const holdJs = join(rig.host.dir, 'hold.cjs');
    writeFileSync(
      holdJs,
      nodePluginSource(`if (cmd !== 'ADD') process.exit(0);
       if (!fs.existsSync(${JSON.stringify(release)})) { fs.writeFileSync(${JSON.stringify(held)}, String(process.pid)); setTimeout(() => {}, 120000); }
       else console.log(JSON.stringify(conf.prevResult));`),
    );
    rig.host.fakePlugin('hold', `exec ${process.execPath} ${holdJs}`);
    rig.writeChain(network, 213, [{ type: 'hold' }]);

    mkdirSync(join(dir, 'manifests'));
    const configPath = join(dir, 'config.yaml');
    const [apiPort = 0] = await freePorts(1);
    writeFileSync(
      configPath,
      stringify(testKubeletConfig({ dir, manifests: join(dir, 'manifests'), endpoint: rig.runtime.endpoint, apiPort, nodeName: node })),
    );
    const entry = await bundleCli(dir);
    kubelet = new KubeletProcess({ dir, entry, configPath, nodeName: node, hostNs: rig.host.hostNs, args: rig.kubeletArgs });
    kubelet.start();
    writeFileSync(
      join(kubelet.manifests, 'p.yaml'),
      stringify(staticPod('held', { containers: [{ name: 'c', image: testImage, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] })),
    );
    const pluginPid = Number(await eventually('the ADD to reach the holding plugin', () => readText(held) || undefined, 60_000));
    const during = leftovers(rig, network, kubelet.root);
    expect(during.veths.length).toBe(1);
    expect(during.leases.length).toBe(1);
    expect(during.records.length).toBe(1);
    expect(during.cache).toEqual([]);

    await kubelet.kill('SIGKILL');
    process.kill(pluginPid, 'SIGKILL');
    rmSync(join(kubelet.manifests, 'p.yaml'));
    writeFileSync(release, '');
    kubelet.start();
    await eventually(
      'nothing left of the attachment',
      () => {
        const now = leftovers(rig, network, (kubelet as KubeletProcess).root);
        return now.veths.length + now.leases.length + now.cache.length + now.records.length === 0 ? now : undefined;
      },
      60_000,
    ).catch((err: unknown) => {
      throw new Error(
        `${err instanceof Error ? err.message : String(err)}; leftovers ${JSON.stringify(leftovers(rig, network, (kubelet as KubeletProcess).root))}\n${kubelet?.log().slice(-4000)}`,
      );
    });
    await eventually('no sandbox left', async () => ((await cri.runtime.call('ListPodSandbox', {})).items.length === 0 ? true : undefined), 60_000);
  });
});

describe('kubelet-managed pod networking when a DEL fails', () => {
  let rig: CniRig;
  let kubelet: TestKubelet;
  let cri: CriClient;
  const node = uniqueName('cnidel');

  beforeAll(async () => {
    rig = await cniRig(set);
    cri = new CriClient({ endpoint: rig.runtime.endpoint, timeoutMs: 30_000 });
  }, 120_000);

  afterAll(async () => {
    await kubelet?.destroy();
    cri?.close();
    await rig?.destroy();
  }, 120_000);

  it('keeps the sandbox while DEL fails, and DELs again, idempotently, until it passes: then nothing is left', async () => {
    // The chain's last plugin (the first to DEL) fails DEL while FAIL exists, counting each try in TRIES.
    const fail = join(rig.host.dir, 'FAIL');
    const tries = join(rig.host.dir, 'TRIES');
    const flakyJs = join(rig.host.dir, 'flaky-del.cjs');
    writeFileSync(
      flakyJs,
      nodePluginSource(`if (cmd === 'DEL' && fs.existsSync(${JSON.stringify(fail)})) {
         fs.appendFileSync(${JSON.stringify(tries)}, 'x');
         console.log(JSON.stringify({ cniVersion: conf.cniVersion, code: 11, msg: 'the fabric is busy' }));
         process.exit(1);
       }
       if (cmd === 'ADD') console.log(JSON.stringify(conf.prevResult));`),
    );
    rig.host.fakePlugin('flaky-del', `exec ${process.execPath} ${flakyJs}`);
    rig.writeChain(network, 214, [{ type: 'flaky-del' }]);
    kubelet = await startTestKubelet({ nodeName: node, runtimeEndpoint: rig.runtime.endpoint, args: rig.kubeletArgs, cni: { exec: rig.exec } });
    kubelet.writeManifest(
      'p.yaml',
      staticPod('flaky', {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'c', image: testImage, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }],
      }),
    );
    const sandbox = await eventually(
      'a ready sandbox with an address',
      async () => {
        const { items } = await cri.runtime.call('ListPodSandbox', { filter: { state: { state: 'SANDBOX_READY' } } });
        const id = items[0]?.id;
        if (!id) return undefined;
        const { status } = await cri.runtime.call('PodSandboxStatus', { podSandboxId: id });
        return status?.network?.ip ? { id, ip: status.network.ip } : undefined;
      },
      60_000,
    );
    const root = join(kubelet.dir, 'root');
    const cacheFile = join(rig.host.cacheDir, 'results', `${network}-${sandbox.id}-eth0`);
    expect(existsSync(cacheFile)).toBe(true);
    expect(rig.host.leases(network)).toEqual([sandbox.ip]);

    writeFileSync(fail, '');
    kubelet.removeManifest('p.yaml');
    // Two failed DELs: the kubelet retried; the attachment is all still there (nothing half undone).
    await eventually('a second DEL try', () => (readText(tries).length >= 2 ? true : undefined), 90_000);
    const during = leftovers(rig, network, root);
    expect(during.veths.length).toBe(1);
    expect(during.leases).toEqual([sandbox.ip]);
    expect(during.records.length).toBe(1);
    expect(existsSync(cacheFile)).toBe(true);
    expect((await cri.runtime.call('ListPodSandbox', {})).items.map((s) => s.id)).toContain(sandbox.id);

    rmSync(fail);
    await eventually('the sandbox gone', async () => ((await cri.runtime.call('ListPodSandbox', {})).items.length === 0 ? true : undefined), 90_000);
    expect(leftovers(rig, network, root)).toEqual({ veths: [], leases: [], cache: [], records: [] });
    expect(existsSync(cacheFile)).toBe(false);
  }, 240_000);
});
