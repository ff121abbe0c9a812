// KubeletConfiguration fields that change what the containers get, read from inside them and
// from the pod's cgroup on the real containerd: cpuCFSQuota off (CPU limits set no CFS quota,
// the shares still follow the requests) and seccompDefault on (RuntimeDefault where the pod names
// no profile, Unconfined kept where it does).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CriClient } from '../../src/cri-client/index.js';
import { type CgroupLayout, detectCgroupLayout } from '../../src/kubelet/cm/cgroup-layout.js';
import { cgroupRootName, startTestKubelet, type TestKubelet } from '../support/kubelet.js';
import { newClient, testImage, uniqueName } from '../support/runtime.js';
import { eventually } from '../testbed/eventually.js';

const sleeper = { image: testImage, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] };

/** The CPU quota of a cgroup, read from the host: "-1" or a number of µs (v2's "max" read as -1). */
function cpuQuota(layout: CgroupLayout, path: string): string {
  if (layout.version === 2) {
    const [quota = ''] = readFileSync(`${layout.root}${path}/cpu.max`, 'utf8').trim().split(' ');
    return quota === 'max' ? '-1' : quota;
  }
  return readFileSync(`${layout.mounts.get('cpu')}${path}/cpu.cfs_quota_us`, 'utf8').trim();
}

describe('kubelet configuration effects', () => {
  let kubelet: TestKubelet;
  let client: CriClient;
  let layout: CgroupLayout;
  const node = uniqueName('node');

  /** The running containers of a static pod, by container name, and the pod's UID. */
  async function runningPod(name: string): Promise<{ uid: string; ids: Map<string, string> } | undefined> {
    const { containers } = await client.runtime.call('ListContainers', {
      filter: { labelSelector: { 'io.kubernetes.pod.name': `${name}-${node}` }, state: { state: 'CONTAINER_RUNNING' } },
    });
    const uid = containers[0]?.labels['io.kubernetes.pod.uid'];
    return uid ? { uid, ids: new Map(containers.map((c) => [c.metadata?.name ?? '', c.id])) } : undefined;
  }
  const exec = async (id: string, cmd: string[]) => (await client.runtime.call('ExecSync', { containerId: id, cmd, timeout: 10 })).stdout.toString();
  const seccompMode = async (id: string) => (await exec(id, ['grep', '^Seccomp:', '/proc/self/status'])).replace(/\s+/g, ' ').trim();

  beforeAll(async () => {
    client = newClient();
    layout = await detectCgroupLayout();
    kubelet = await startTestKubelet({ nodeName: node, extraConfig: { cpuCFSQuota: false, seccompDefault: true } });
  });
  afterAll(async () => {
    await kubelet?.destroy();
    client?.close();
  });

  it('sets no CFS quota for CPU limits with cpuCFSQuota false, in the container and in the pod cgroup; the shares still follow the requests', async () => {
    const limits = { cpu: '250m', memory: '64Mi' };
    kubelet.writeManifest('limited.yaml', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'limited', namespace: 'default' },
      spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', ...sleeper, resources: { requests: limits, limits } }] },
    });
    const running = await eventually('the limited pod running', () => runningPod('limited'), 60_000);
    // Guaranteed: the pod cgroup sits right under kubepods.
    const podCgroup = `/${cgroupRootName(node)}/kubepods/pod${running.uid}`;
    expect(cpuQuota(layout, podCgroup)).toBe('-1');
    const id = running.ids.get('app') ?? '';
    if (layout.version === 1) {
      expect((await exec(id, ['cat', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us'])).trim()).toBe('-1');
      // The limits are applied otherwise: shares from the 250m request, memory limited.
      expect((await exec(id, ['cat', '/sys/fs/cgroup/cpu/cpu.shares'])).trim()).toBe('256');
      expect((await exec(id, ['cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes'])).trim()).toBe(String(64 * 2 ** 20));
    } else {
      expect((await exec(id, ['cat', '/sys/fs/cgroup/cpu.max'])).trim().split(' ')[0]).toBe('max');
      expect((await exec(id, ['cat', '/sys/fs/cgroup/memory.max'])).trim()).toBe(String(64 * 2 ** 20));
    }
  });

  it('runs containers whose pod names no seccomp profile under RuntimeDefault with seccompDefault, and keeps Unconfined where asked', async () => {
    kubelet.writeManifest('seccomp.yaml', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'seccomp', namespace: 'default' },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          { name: 'defaulted', ...sleeper },
          { name: 'unconfined', ...sleeper, securityContext: { seccompProfile: { type: 'Unconfined' } } },
        ],
      },
    });
    const { ids } = await eventually(
      'both seccomp containers running',
      async () => ((await runningPod('seccomp'))?.ids.size === 2 ? runningPod('seccomp') : undefined),
      60_000,
    );
    // 2 is filter mode (the runtime's default profile), 0 none.
    expect(await seccompMode(ids.get('defaulted') ?? '')).toBe('Seccomp: 2');
    expect(await seccompMode(ids.get('unconfined') ?? '')).toBe('Seccomp: 0');
  });
});
