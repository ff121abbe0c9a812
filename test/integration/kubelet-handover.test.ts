// A node handed from the upstream kubelet (built from the test control plane's Go module,
// `test/testbed/build.sh peers`) to tskube and back, on one private containerd and one
// root dir, as an operator switching kubelets does: the static pods the first kubelet
// started keep running in the same containers, because both compute the same pod UID
// and container hash. Private runtime: no kubelet lock needed.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { standaloneKubelet, type StandaloneKubelet } from '../../bench/lib/standalone.js';
import { containerSpecHash } from '../../src/kubelet/cri-requests/container-hash.js';
import { parseStaticPod } from '../../src/kubelet/pods/sources/static-pod.js';
import { type PrivateContainerd, privateContainerd } from '../support/private-containerd.js';
import { testImage } from '../support/runtime.js';
import { BUILD_SCRIPT } from '../testbed/paths.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const nodeName = 'handover-node';
const namespace = 'kube-system';
const pauseImage = 'registry.k8s.io/pause:3.10';

/** A control-plane-like static pod: a sleeping container, a probe and a hostPath volume, on the host's network or the pods'. */
function manifest(name: string, hostNetwork = true): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { component: name, tier: 'control-plane' } },
    spec: {
      hostNetwork,
      priorityClassName: 'system-node-critical',
      containers: [
        {
          name: 'main',
          image: testImage,
          imagePullPolicy: 'Never',
          command: ['sleep', '3600'],
          resources: { requests: { cpu: '10m', memory: '16Mi' } },
          livenessProbe: { exec: { command: ['true'] }, periodSeconds: 5 },
          volumeMounts: [{ name: 'etc', mountPath: '/host-etc', readOnly: true }],
        },
      ],
      volumes: [{ name: 'etc', hostPath: { path: '/etc', type: 'Directory' } }],
    },
  };
}

interface Seen {
  /** Every sandbox of the pod, in any state: a kubelet that did not recognise the pod would add one. */
  sandboxes: { id: string; uid: string; state: string }[];
  containers: { id: string; name: string; hash: string; attempt: number; state: string }[];
}

describe('handing a node from the upstream kubelet to tskube and back', () => {
  let ctd: PrivateContainerd;
  let node: StandaloneKubelet;

  async function seen(podName: string): Promise<Seen | undefined> {
    const { items } = await node.cri.runtime.call('ListPodSandbox', { filter: { labelSelector: { 'io.kubernetes.pod.name': `${podName}-${nodeName}` } } });
    if (items.length === 0) return undefined;
    const ids = new Set(items.map((s) => s.id));
    const { containers } = await node.cri.runtime.call('ListContainers', {});
    return {
      sandboxes: items.map((s) => ({ id: s.id, uid: s.labels['io.kubernetes.pod.uid'] ?? '', state: String(s.state) })),
      containers: containers
        .filter((c) => ids.has(c.podSandboxId))
        .map((c) => ({
          id: c.id,
          name: c.metadata?.name ?? '',
          hash: c.annotations['io.kubernetes.container.hash'] ?? '',
          attempt: c.metadata?.attempt ?? -1,
          state: String(c.state),
        })),
    };
  }

  const running = (podName: string) => async () => (await seen(podName))?.containers.some((c) => c.state === 'CONTAINER_RUNNING') ?? false;

  function write(podName: string, hostNetwork = true): string {
    const file = join(node.manifests, `${podName}.yaml`);
    writeFileSync(file, stringify(manifest(podName, hostNetwork)));
    return file;
  }

  beforeAll(async () => {
    // Cached; cold, it compiles what the kubelet needs beyond the control plane (a few minutes).
    const peers = execFileSync(BUILD_SCRIPT, ['peers'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    ctd = privateContainerd({ cri: true, pods: true });
    await ctd.start();
    ctd.importImages([pauseImage, testImage]);
    node = await standaloneKubelet({
      kind: 'upstream',
      bench: 'handover',
      endpoint: ctd.endpoint,
      namespace,
      root: repoRoot,
      upstreamKubelet: join(peers, 'kubelet'),
      nodeIP: '127.0.0.1',
      nodeName,
    });
  }, 3_600_000);

  afterAll(async () => {
    await node?.stop();
    await ctd?.destroy();
  });

  /** What the upstream kubelet started: etcd on the host's network, web on the pods'. */
  const first = new Map<string, Seen>();
  let startedByTskube: Seen | undefined;
  const unchanged = async () => {
    for (const [podName, was] of first)
      expect(await seen(podName), podName).toEqual({ ...was, containers: was.containers.map((c) => ({ ...c, state: 'CONTAINER_RUNNING' })) });
  };

  it('the upstream kubelet starts static pods with the UID and container hash tskube computes', async () => {
    const files = { etcd: write('etcd'), web: write('web', false) };
    node.start('upstream');
    for (const [podName, file] of Object.entries(files)) {
      await node.until(`the upstream kubelet runs ${podName}`, running(podName), 120_000);
      const theirs = (await seen(podName))!;
      first.set(podName, theirs);
      const ours = parseStaticPod(readFileSync(file, 'utf8'), file, nodeName);
      if (!ours.ok) throw new Error(ours.error);
      expect(theirs.sandboxes.map((s) => s.uid)).toEqual([ours.pod.metadata?.uid]);
      expect(theirs.containers.map((c) => c.hash)).toEqual([containerSpecHash(ours.pod.spec!.containers[0]!)]);
    }
  });

  it('tskube, started in its place, adopts the pods: same sandboxes, same containers, no restart', async () => {
    await node.kill();
    node.start('tskube');
    // The positive sign that tskube has gone through the node's pods: one written after it started runs.
    write('after-tskube');
    await node.until('tskube runs a pod written after it started', running('after-tskube'), 120_000);
    await unchanged();
    startedByTskube = await seen('after-tskube');
  });

  it('the upstream kubelet, started again, adopts them too', async () => {
    await node.kill();
    node.start('upstream');
    write('after-upstream');
    await node.until('the upstream kubelet runs a pod written after it started', running('after-upstream'), 120_000);
    await unchanged();
    // And the pod tskube started is the upstream kubelet's too.
    expect(startedByTskube?.containers.map((c) => [c.state, c.attempt])).toEqual([['CONTAINER_RUNNING', 0]]);
    expect(await seen('after-tskube')).toEqual(startedByTskube);
  });
});
