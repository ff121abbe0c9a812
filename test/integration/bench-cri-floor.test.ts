import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { removeFloorPods, startFloorPods } from '../../bench/lib/cri-floor.js';
import { CriClient } from '../../src/cri-client/index.js';
import { removeCgroupTree } from '../support/cgroups.js';
import { type PrivateContainerd, privateContainerd } from '../support/private-containerd.js';

// bench/pod-startup's floor on a containerd of the test's own (no kubelet lock): the pods
// start, and everything they made goes again, also when some could not start.
const image = 'localhost/tskube/busybox:latest';
const ipamDir = '/var/lib/cni/networks/tskube-bridge';

function pods(namespace: string, count: number, secondImage?: string): V1Pod[] {
  return Array.from({ length: count }, (_, i) => ({
    metadata: { name: `p${i}`, namespace },
    spec: {
      containers: [
        { name: 'sleep', image, command: ['sleep', '3600'], resources: { requests: { cpu: '1m', memory: '4Mi' } } },
        ...(secondImage ? [{ name: 'missing', image: secondImage, command: ['sleep', '3600'] }] : []),
      ],
    },
  }));
}

/** The IPAM files of host-local naming one of these sandboxes. */
function addressesOf(ids: Set<string>): string[] {
  if (!existsSync(ipamDir)) return [];
  return readdirSync(ipamDir).filter((f) => {
    try {
      return ids.has(readFileSync(join(ipamDir, f), 'utf8').split('\n')[0]?.trim() ?? '');
    } catch {
      return false;
    }
  });
}

describe("bench/pod-startup's floor (pods straight through CRI)", () => {
  let ctd: PrivateContainerd;
  let cri: CriClient;
  const cgroupRoot = `/tskube-test-floor-${process.pid}`;
  beforeAll(async () => {
    ctd = privateContainerd({ cri: true, pods: true });
    await ctd.start();
    ctd.importImages(['registry.k8s.io/pause:3.10', image]);
    cri = new CriClient({ endpoint: ctd.endpoint, timeoutMs: 60_000 });
  }, 120_000);
  afterAll(async () => {
    cri?.close();
    await ctd?.destroy();
    await removeCgroupTree(cgroupRoot);
  });

  const sandboxesIn = async (namespace: string) =>
    (await cri.runtime.call('ListPodSandbox', { filter: { labelSelector: { 'io.kubernetes.pod.namespace': namespace } } })).items;

  /** The clean-up frees nothing by hand (the runtime tore all down), and no sandbox, address or folder is left. */
  async function expectRemoved(namespace: string, dir: string, ids: Set<string>): Promise<void> {
    expect(await removeFloorPods(ctd.endpoint, namespace, dir)).toEqual([]);
    expect(await sandboxesIn(namespace)).toEqual([]);
    expect(addressesOf(ids)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  }

  it('starts every pod, times each, and removes their sandboxes and addresses', async () => {
    const namespace = `floor-ok-${process.pid}`;
    const dir = mkdtempSync(join(tmpdir(), 'tskube-test-floor-'));
    onTestFinished(() => removeFloorPods(ctd.endpoint, namespace, dir).then(() => undefined));
    const result = await startFloorPods({
      endpoint: ctd.endpoint,
      pods: pods(namespace, 3),
      dir,
      cgroupRoot,
      clusterDNS: ['10.96.0.10'],
      clusterDomain: 'cluster.local',
    });
    expect(result.latencies).toHaveLength(3);
    expect(result.allStartedMs).toBe(Math.max(...result.latencies));
    const running = await cri.runtime.call('ListContainers', { filter: { state: { state: 'CONTAINER_RUNNING' } } });
    const sandboxes = await sandboxesIn(namespace);
    expect(sandboxes).toHaveLength(3);
    expect(running.containers.filter((c) => sandboxes.some((s) => s.id === c.podSandboxId))).toHaveLength(3);
    const ids = new Set(sandboxes.map((s) => s.id));
    expect(addressesOf(ids)).toHaveLength(3);

    await expectRemoved(namespace, dir, ids);
  }, 120_000);

  it('says how many pods failed, and the clean-up still removes what the others made', async () => {
    const namespace = `floor-failed-${process.pid}`;
    const dir = mkdtempSync(join(tmpdir(), 'tskube-test-floor-'));
    onTestFinished(() => removeFloorPods(ctd.endpoint, namespace, dir).then(() => undefined));
    const start = startFloorPods({
      endpoint: ctd.endpoint,
      pods: pods(namespace, 3, 'localhost/tskube/not-there:1'),
      dir,
      cgroupRoot,
      clusterDNS: ['10.96.0.10'],
      clusterDomain: 'cluster.local',
    });
    await expect(start).rejects.toThrow(/^3 of 3 pods did not start; the first: .*not-there/);
    // Each sandbox ran before its second container failed.
    const ids = new Set((await sandboxesIn(namespace)).map((s) => s.id));
    expect(ids.size).toBe(3);
    expect(addressesOf(ids)).toHaveLength(3);

    await expectRemoved(namespace, dir, ids);
  }, 120_000);
});
