// The in-memory runtime is only worth its unit tests if it behaves as containerd does: the
// same short scenario, run by the kubelet's pod machinery on each, must end in the same pod
// status (times, IDs and addresses aside).
import type { V1ContainerStatus, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import type { CriRuntime } from '../../src/kubelet/runtime/cri-runtime.js';
import { eventually } from '../testbed/eventually.js';
import { InMemoryRuntime } from '../support/in-memory-runtime.js';
import { container, type PodHarness, pauseImage, startPodHarness, testImage, testPod } from '../support/pod-lifecycle-harness.js';
import { newClient, uniqueName } from '../support/runtime.js';

function scenario(): V1Pod {
  return testPod(uniqueName('agree'), {
    restartPolicy: 'Never',
    terminationGracePeriodSeconds: 2,
    initContainers: [container('init', { command: ['sh', '-c', 'exit 0'] })],
    containers: [
      container('app', { command: ['sh', '-c', 'echo bye > /dev/termination-log; exit 3'] }),
      container('side', { command: ['sh', '-c', 'echo hi; sleep 1'], terminationMessagePolicy: 'FallbackToLogsOnError' }),
    ],
  });
}

/** What the in-memory runtime's containers do, as the commands above do on containerd. */
function programs(rt: InMemoryRuntime): void {
  rt.program('init', { exitAfterMs: 10 });
  rt.program('app', { exitAfterMs: 10, exitCode: 3, writes: { '/dev/termination-log': 'bye\n' } });
  rt.program('side', { stdout: 'hi\n', exitAfterMs: 1000 });
}

const normalizeContainer = (c: V1ContainerStatus) => ({
  ...c,
  containerID: c.containerID?.replace(/^containerd:\/\/[0-9a-f]{64}$/, 'containerd://ID'),
  state: normalizeState(c.state),
  lastState: normalizeState(c.lastState),
});

function normalizeState<T extends V1ContainerStatus['state']>(s: T): T {
  if (!s?.terminated) return s;
  const t = s.terminated;
  return { ...s, terminated: { ...t, startedAt: t.startedAt && 'T', finishedAt: t.finishedAt && 'T', containerID: t.containerID && 'containerd://ID' } } as T;
}

function normalize(s: V1PodStatus | undefined, pod: V1Pod) {
  return {
    ...s,
    startTime: s?.startTime && 'T',
    podIP: s?.podIP && 'POD-IP',
    podIPs: s?.podIPs?.map(() => ({ ip: 'POD-IP' })),
    conditions: s?.conditions?.map((c) => ({ ...c, lastTransitionTime: c.lastTransitionTime && 'T' })),
    containerStatuses: s?.containerStatuses?.map(normalizeContainer),
    initContainerStatuses: s?.initContainerStatuses?.map(normalizeContainer),
    // The pod's name is unique per run.
    ...(s?.message ? { message: s.message.replaceAll(pod.metadata?.name ?? '', 'POD') } : {}),
  };
}

async function run(runtime: CriRuntime): Promise<ReturnType<typeof normalize>> {
  // No source ever says it has listed the 'file' source: this kubelet must leave alone
  // whatever else runs on the shared containerd.
  const h: PodHarness = startPodHarness({ runtime, sources: ['api', 'file'] });
  const pod = scenario();
  try {
    h.setPods([pod]);
    await eventually('the pod to fail', () => (h.status(pod)?.phase === 'Failed' ? true : undefined), 60_000, 200);
    return normalize(h.status(pod), pod);
  } finally {
    h.setPods([]);
    await eventually('the pod removed', () => (h.lifecycle.workers.phase(pod.metadata?.uid ?? '') === undefined ? true : undefined), 60_000, 200).catch(
      () => undefined,
    );
    await h.destroy();
  }
}

describe('the in-memory runtime and containerd', () => {
  const client = newClient();
  afterAll(() => client.close());

  it('end the same scenario in the same pod status', async () => {
    const real = await run(client);
    // The same images, by the same IDs.
    const seed = async (ref: string) => {
      const { image } = await client.image.call('ImageStatus', { image: { image: ref } });
      return { ref, ...(image ? { id: image.id, repoDigests: image.repoDigests } : {}) };
    };
    const memory = new InMemoryRuntime({ images: [await seed(testImage), await seed(pauseImage)] });
    programs(memory);
    const modelled = await run(memory);
    expect(modelled).toEqual(real);
    expect(real.phase).toBe('Failed');
  }, 120_000);
});
