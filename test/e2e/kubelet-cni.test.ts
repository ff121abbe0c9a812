// Kubelet-managed pod networking on a joined node: the Node's podCIDR (from the controller
// manager) reaches the IPAM range, the network's state reaches the Node's Ready condition
// (a config that does not load, STATUS failing), and every bad input or failing plugin is a
// FailedCreatePodSandBox event naming plugin and file, retried with back-off, with nothing
// left behind. A private containerd whose only CNI network is tskube-cni-shim; the kubelet
// runs the real plugins v1.10 inside a test host namespace.
import { CoreV1Api, KubeConfig, type V1NodeCondition, type V1Pod } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pluginSets } from '../support/cni.js';
import { startTestKubelet, type TestKubelet } from '../support/kubelet.js';
import { type CniRig, cniRig, leftovers } from '../support/kubelet-cni.js';
import { testImage } from '../support/runtime.js';
import { eventually } from '../testbed/eventually.js';

const tb = inject('testbed');
const set = pluginSets[1] as (typeof pluginSets)[number];
const suffix = randomBytes(3).toString('hex');
const nodeName = `tskube-cni-${suffix}`;
const namespace = `cni-${suffix}`;
const network = 'tskube-pods';

const kc = new KubeConfig();
kc.loadFromFile(tb.adminKubeconfig);
const core = kc.makeApiClient(CoreV1Api);

const readyCondition = async (): Promise<V1NodeCondition | undefined> =>
  (await core.readNode({ name: nodeName }).catch(() => undefined))?.status?.conditions?.find((c) => c.type === 'Ready');

function pod(name: string): V1Pod {
  return {
    metadata: { name, namespace },
    spec: {
      nodeName,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'c', image: testImage, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }],
    },
  };
}

/** The pod's FailedCreatePodSandBox event once it has been seen `times` times (the kubelet retried). */
async function sandboxFailure(name: string, times: number): Promise<string> {
  return eventually(
    `FailedCreatePodSandBox on ${name}, ${times} times`,
    async () => {
      const { items } = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
      const failed = items.filter((e) => e.reason === 'FailedCreatePodSandBox');
      const count = failed.reduce((n, e) => n + (e.count ?? 1), 0);
      return count >= times ? (failed.at(-1)?.message ?? '') : undefined;
    },
    60_000,
  );
}

async function deletePod(name: string): Promise<void> {
  await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
  await eventually(`pod ${name} gone`, async () => ((await core.readNamespacedPod({ name, namespace }).catch(() => undefined)) ? undefined : true), 60_000);
}

describe('kubelet-managed pod networking on a joined node', () => {
  let rig: CniRig;
  let kubelet: TestKubelet;
  let fakeJs: string;
  let fail: string;

  beforeAll(async () => {
    // The testbed's pod CIDR (10.244.0.0/16) goes nowhere from the test host.
    rig = await cniRig(set, { blackholes: [tb.podCIDR] });
    fail = join(rig.host.dir, 'STATUS-FAILS');
    fakeJs = join(rig.host.dir, 'fake.cjs');
    // One script behind several fake plugins (its name says which): passes ADD's prevResult
    // through, fails STATUS while a file exists, or misbehaves as its name says.
    writeFileSync(
      fakeJs,
      `const fs = require('node:fs');
       const type = process.argv[2];
       const conf = JSON.parse(fs.readFileSync(0, 'utf8'));
       const out = (v) => process.stdout.write(JSON.stringify(v));
       switch (process.env.CNI_COMMAND) {
         case 'VERSION': out({ cniVersion: '1.1.0', supportedVersions: ['0.4.0', '1.0.0', '1.1.0'] }); break;
         case 'STATUS':
           if (type === 'status-check' && fs.existsSync(${JSON.stringify(fail)})) { out({ code: 50, msg: 'the fabric is down', details: 'link to the spine lost' }); process.exit(1); }
           break;
         case 'ADD':
           if (type === 'fail-add') { out({ cniVersion: conf.cniVersion, code: 7, msg: 'vlan 5000 is out of range' }); process.exit(1); }
           if (type === 'garbage') { process.stdout.write('this is not json'); break; }
           if (type === 'hang') setInterval(() => {}, 1000);
           else out(conf.prevResult);
           break;
       }`,
    );
    for (const type of ['status-check', 'fail-add', 'garbage', 'hang']) rig.host.fakePlugin(type, `exec ${process.execPath} ${fakeJs} ${type}`);
    // To begin with, the only config does not load.
    writeFileSync(join(rig.host.confDir, '10-broken.conflist'), '{\n  "cniVersion": "1.0.0",\n  "name": "broken",\n  "plugins": [\n');
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    kubelet = await startTestKubelet({
      nodeName,
      namespaces: [namespace],
      runtimeEndpoint: rig.runtime.endpoint,
      args: ['--bootstrap-kubeconfig', tb.bootstrapKubeconfig, '--kubeconfig', join('/tmp', `tskube-cni-${suffix}.kubeconfig`), ...rig.kubeletArgs],
      // A hanging plugin is killed after 3 s instead of a minute.
      cni: { exec: rig.exec, timeouts: { defaultMs: 3000 } },
    });
  }, 180_000);

  afterAll(async () => {
    for (const name of ['first', 'unknown-type', 'error-object', 'garbage', 'hang'])
      await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
    await eventually('the pods gone', async () => ((await core.listNamespacedPod({ namespace })).items.length === 0 ? true : undefined), 60_000).catch(
      () => undefined,
    );
    await kubelet?.destroy();
    await rig?.destroy();
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    await core.deleteNode({ name: nodeName }).catch(() => undefined);
  }, 120_000);

  const chain = (extra: unknown[] = []) => rig.writeChain(network, 214, [{ type: 'status-check' }, ...extra], { ipRanges: true });

  it('a config that does not load: the Node is NotReady naming the file, and a pod gets FailedCreatePodSandBox, retried', async () => {
    const broken = join(rig.host.confDir, '10-broken.conflist');
    const notReady = await eventually(
      'Ready=False naming the config',
      async () => {
        const c = await readyCondition();
        return c?.status === 'False' && c.message?.includes('not valid JSON') ? c : undefined;
      },
      90_000,
    );
    expect(notReady.message).toContain(
      `container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error:`,
    );
    expect(notReady.message).toContain(`${broken}: not valid JSON at line 5`);

    await core.createNamespacedPod({ namespace, body: pod('first') });
    const message = await sandboxFailure('first', 2);
    expect(message).toContain(broken);
    expect(message).toContain('not valid JSON');
    expect(leftovers(rig, network, join(kubelet.dir, 'root'))).toEqual({ veths: [], leases: [], cache: [], records: [] });
  });

  it('once the config is fixed, the Node is Ready and the waiting pod runs with an address from the Node’s podCIDR', async () => {
    rmSync(join(rig.host.confDir, '10-broken.conflist'));
    chain();
    await eventually('Ready=True', async () => ((await readyCondition())?.status === 'True' ? true : undefined), 60_000);
    const running = await eventually(
      'pod first Running',
      async () => {
        const p = await core.readNamespacedPod({ name: 'first', namespace });
        return p.status?.phase === 'Running' ? p : undefined;
      },
      60_000,
    );
    const node = await core.readNode({ name: nodeName });
    const cidr = node.spec?.podCIDR ?? '';
    expect(cidr).toMatch(/^10\.244\.\d+\.0\/24$/);
    const podIP = running.status?.podIP ?? '';
    expect(podIP.split('.').slice(0, 3).join('.')).toBe(cidr.split('.').slice(0, 3).join('.'));
    expect(running.status?.podIPs).toEqual([{ ip: podIP }]);
    expect(rig.host.leases(network)).toEqual([podIP]);
  });

  it("STATUS failing makes the Node NotReady with the plugin's reason, and Ready again once it passes", async () => {
    writeFileSync(fail, '');
    const notReady = await eventually(
      'Ready=False from STATUS',
      async () => {
        const c = await readyCondition();
        return c?.status === 'False' ? c : undefined;
      },
      60_000,
    );
    expect(notReady.message).toContain('reason:NetworkPluginNotReady');
    expect(notReady.message).toContain(`STATUS plugin "status-check" (${join(rig.host.fakePluginDir, 'status-check')}) of network "${network}"`);
    expect(notReady.message).toContain('CNI error 50 (plugin not available): the fabric is down; link to the spine lost');
    rmSync(fail);
    await eventually('Ready=True again', async () => ((await readyCondition())?.status === 'True' ? true : undefined), 60_000);
  });

  for (const [name, plugin, expected] of [
    ['unknown-type', { type: 'no-such-plugin' }, 'no plugin binary "no-such-plugin" in CNI_PATH'],
    ['error-object', { type: 'fail-add' }, 'CNI error 7 (invalid network config): vlan 5000 is out of range'],
    ['garbage', { type: 'garbage' }, 'printed something that is not a CNI result: "this is not json"'],
    ['hang', { type: 'hang' }, 'no answer within 3000 ms; killed it and what it started'],
  ] as const) {
    it(`a plugin that fails (${name}): FailedCreatePodSandBox naming plugin and file, retried, nothing left behind`, async () => {
      const before = leftovers(rig, network, join(kubelet.dir, 'root'));
      const file = chain([plugin]);
      await core.createNamespacedPod({ namespace, body: pod(name) });
      const message = await sandboxFailure(name, 2);
      expect(message).toContain(`plugin "${plugin.type}"`);
      expect(message).toContain(`of network "${network}" from ${file} plugins[4]`);
      expect(message).toContain(expected);
      await deletePod(name);
      chain();
      // Only the running pod's attachment remains: no veth, lease, cache entry or record of the failed attempts.
      await eventually(
        'no leftovers of the failed attempts',
        () => {
          const now = leftovers(rig, network, join(kubelet.dir, 'root'));
          return JSON.stringify(now) === JSON.stringify(before) ? true : undefined;
        },
        30_000,
      );
    });
  }
});
