import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InMemoryRuntime } from '../support/in-memory-runtime.js';
import { container, type PodHarness, startPodHarness, testImage, testPod, tick, tickUntil, useFakeClock } from '../support/pod-lifecycle-harness.js';

const waitingOf = (h: PodHarness, pod: Parameters<PodHarness['status']>[0], name: string) =>
  [...(h.status(pod)?.initContainerStatuses ?? []), ...(h.status(pod)?.containerStatuses ?? [])].find((c) => c.name === name)?.state?.waiting;

describe('PodSyncer on the in-memory runtime', () => {
  let rt: InMemoryRuntime;
  let h: PodHarness;
  beforeEach(() => {
    useFakeClock();
    rt = new InMemoryRuntime({ images: [{ ref: testImage }] });
    h = startPodHarness({ runtime: rt });
  });
  afterEach(async () => {
    await h.destroy();
    vi.useRealTimers();
  });

  it('runs init containers first, then the main container, and reports Running with the pod IP', async () => {
    rt.program('init', { exitAfterMs: 200 });
    const pod = testPod('web', { initContainers: [container('init')], containers: [container('app')] });
    h.setPods([pod]);
    await tickUntil(() => h.status(pod)?.phase === 'Running');
    expect(rt.dump()).toBe(
      [
        `image ${testImage}`,
        'sandbox default/web attempt=0 SANDBOX_READY 10.88.0.2',
        '  container init attempt=0 CONTAINER_EXITED exit=0 Completed',
        '  container app attempt=0 CONTAINER_RUNNING',
        '',
      ].join('\n'),
    );
    expect(h.status(pod)?.podIP).toBe('10.88.0.2');
    expect(h.eventsOf(pod)).toEqual([
      `Pulled: Container image "${testImage}" already present on machine`,
      'Created: Created container: init',
      'Started: Started container init',
      `Pulled: Container image "${testImage}" already present on machine`,
      'Created: Created container: app',
      'Started: Started container app',
    ]);
    // The runtime writes the log; the kubelet made its folder and the /var/log/containers link.
    const [app] = rt.containersOf('web', 'app');
    const podLogDir = join(h.podLogsRoot, `default_web_${pod.metadata?.uid}`);
    expect(existsSync(join(podLogDir, 'app/0.log'))).toBe(true);
    expect(existsSync(join(h.linksDir, `web_default_app-${app?.id}.log`))).toBe(true);
  });

  it('makes the same CRI calls, in the same order, as a sync always has', async () => {
    const pod = testPod('web', { containers: [container('app')] });
    h.setPods([pod]);
    await tickUntil(() => h.status(pod)?.phase === 'Running');
    expect(rt.callLog((m) => !['ListPodSandbox', 'ListContainers', 'ContainerStatus', 'Version', 'Status'].includes(m))).toEqual([
      'RunPodSandbox web',
      'PodSandboxStatus web',
      `ImageStatus ${testImage}`,
      'CreateContainer web/app',
      'StartContainer web/app',
      // The relist after the sync takes the new sandbox's status from the sync's own PodSandboxStatus, without asking again.
    ]);
  });

  it('waits with ErrImagePull, then ImagePullBackOff without pulling, and pulls again when the back-off ends', async () => {
    const pod = testPod('web', { containers: [container('app', { image: 'example.com/missing:1' })] });
    h.setPods([pod]);
    await tickUntil(() => waitingOf(h, pod, 'app')?.reason === 'ImagePullBackOff');
    expect(h.waitingReasons(pod, 'app')).toEqual(['ErrImagePull', 'ImagePullBackOff']);
    expect(rt.callLog((m) => m === 'PullImage')).toEqual(['PullImage example.com/missing:1']);
    expect(h.eventsOf(pod)).toEqual([
      'Pulling: Pulling image "example.com/missing:1"',
      expect.stringMatching(
        /^Failed: Failed to pull image "example.com\/missing:1": PullImage image "example.com\/missing:1": failed to pull and unpack image/,
      ),
      'BackOff: Back-off pulling image "example.com/missing:1"',
    ]);
    // The registry gets the image; the pull when the 10 s back-off ends fetches it.
    rt.publish({ ref: 'example.com/missing:1' });
    const tookMs = await tickUntil(() => h.status(pod)?.phase === 'Running', 15_000);
    expect(tookMs).toBeGreaterThanOrEqual(9_800);
    expect(rt.callLog((m) => m === 'PullImage')).toEqual(['PullImage example.com/missing:1', 'PullImage example.com/missing:1']);
  });

  it('waits with CreateContainerConfigError for a missing ConfigMap, and creates nothing', async () => {
    const env = [{ name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'settings', key: 'greeting' } } }];
    const pod = testPod('web', { containers: [container('app', { env })] });
    h.setPods([pod]);
    await tickUntil(() => waitingOf(h, pod, 'app') !== undefined);
    expect(waitingOf(h, pod, 'app')).toEqual({ reason: 'CreateContainerConfigError', message: 'configmap "settings" not found' });
    expect(h.eventsOf(pod)).toContain('Failed: Error: configmap "settings" not found');
    expect(rt.containersOf('web')).toEqual([]);
  });

  it('replaces a sandbox that died: SandboxChanged, a new sandbox (attempt 1) and the container again', async () => {
    const pod = testPod('web', { containers: [container('app')] });
    h.setPods([pod]);
    await tickUntil(() => h.status(pod)?.phase === 'Running');
    const [first] = rt.sandboxesOf('web');
    rt.killSandbox(first!.id);
    await tickUntil(() => rt.sandboxesOf('web').length === 2 && rt.containersOf('web', 'app').at(-1)?.state === 'CONTAINER_RUNNING');
    expect(h.eventsOf(pod)).toContain('SandboxChanged: Pod sandbox changed, it will be killed and re-created.');
    expect(rt.sandboxesOf('web').map((s) => [s.attempt, s.state])).toEqual([
      [0, 'SANDBOX_NOTREADY'],
      [1, 'SANDBOX_READY'],
    ]);
    expect(rt.containersOf('web', 'app').map((c) => [c.attempt, c.state])).toEqual([
      [0, 'CONTAINER_EXITED'],
      [1, 'CONTAINER_RUNNING'],
    ]);
  });

  it('finishes a restartPolicy Never pod Succeeded and stops its sandbox without calling it a sandbox change', async () => {
    rt.program('job', { exitAfterMs: 500 });
    const pod = testPod('job', { restartPolicy: 'Never', containers: [container('job')] });
    h.setPods([pod]);
    await tickUntil(() => h.status(pod)?.phase === 'Succeeded');
    await tickUntil(() => rt.sandboxesOf('job')[0]?.state === 'SANDBOX_NOTREADY');
    expect(h.eventsOf(pod).filter((e) => e.startsWith('SandboxChanged'))).toEqual([]);
    expect(rt.containersOf('job').map((c) => c.state)).toEqual(['CONTAINER_EXITED']);
  });

  it('kills a container whose postStart hook fails, with the hook error as event and waiting reason', async () => {
    rt.program('app', { exec: (cmd) => ({ exitCode: cmd[0] === 'false' ? 1 : 0, stdout: 'no luck' }) });
    const lifecycle = { postStart: { exec: { command: ['false'] } } };
    const pod = testPod('web', { containers: [container('app', { lifecycle })] });
    h.setPods([pod]);
    await tickUntil(() => h.waitingReasons(pod, 'app').includes('PostStartHookError'));
    const message = `Exec lifecycle hook (["false"]) for Container in Pod failed - error: command 'false' exited with 1: no luck`;
    const reported = h.history(pod).map((s) => s.containerStatuses?.[0]?.state?.waiting);
    expect(reported.find((w) => w?.reason === 'PostStartHookError')?.message).toBe(message);
    expect(h.eventsOf(pod)).toContain(`FailedPostStartHook: ${message}`);
    expect(rt.containersOf('web', 'app')[0]).toMatchObject({ state: 'CONTAINER_EXITED', exitCode: 137 });
  });

  it('stops main containers (after their preStop hooks), then sidecars in reverse order, then the sandbox', async () => {
    const preStop = { preStop: { exec: { command: ['sh', '-c', 'sleep 1'] } } };
    rt.program('web', { exec: () => ({ exitCode: 0, durationMs: 1000 }) });
    const pod = testPod('web', {
      initContainers: [container('log', { restartPolicy: 'Always' }), container('proxy', { restartPolicy: 'Always' })],
      containers: [container('web', { lifecycle: preStop }), container('worker')],
    });
    h.setPods([pod]);
    await tickUntil(() => rt.containersOf('web').filter((c) => c.state === 'CONTAINER_RUNNING').length === 4);
    const before = rt.calls.length;
    h.lifecycle.workers.terminate(pod, 30);
    await tickUntil(() => h.lifecycle.workers.phase(pod.metadata?.uid ?? '') === 'terminated');
    const stopping = rt.calls.slice(before).filter((c) => ['ExecSync', 'StopContainer', 'StopPodSandbox'].includes(c.method));
    const log = rt.callLog((m) => ['ExecSync', 'StopContainer', 'StopPodSandbox'].includes(m)).slice(-stopping.length);
    expect(log.slice(0, 3).sort()).toEqual(['ExecSync web/web', 'StopContainer web/worker', 'StopContainer web/web'].sort());
    expect(log.indexOf('StopContainer web/web')).toBeGreaterThan(log.indexOf('ExecSync web/web'));
    expect(log.slice(3, 6)).toEqual(['StopContainer web/proxy', 'StopContainer web/log', 'StopPodSandbox web']);
    // The runtime changed while the pod terminated, so the worker ran termination once more: only the (idempotent) sandbox stop was left.
    expect(new Set(log.slice(6))).toEqual(new Set(log.length > 6 ? ['StopPodSandbox web'] : []));
    expect(h.eventsOf(pod).filter((e) => e.startsWith('Killing'))).toEqual([
      'Killing: Stopping container web',
      'Killing: Stopping container worker',
      'Killing: Stopping container proxy',
      'Killing: Stopping container log',
    ]);
    expect(h.status(pod)?.containerStatuses?.map((c) => [c.name, c.state?.terminated?.exitCode])).toEqual([
      ['web', 143],
      ['worker', 143],
    ]);
  });

  it('writes the termination message the container left in its file', async () => {
    rt.program('app', { exitAfterMs: 300, exitCode: 2, writes: { '/dev/termination-log': 'bye\n' } });
    const pod = testPod('web', { restartPolicy: 'Never', containers: [container('app')] });
    h.setPods([pod]);
    await tickUntil(() => h.status(pod)?.phase === 'Failed');
    expect(h.status(pod)?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 2, reason: 'Error', message: 'bye\n' });
    await tick(100);
    const file = join(h.rootDir, 'pods', pod.metadata?.uid ?? '', 'containers/app/termination-log-0');
    expect(readFileSync(file, 'utf8')).toBe('bye\n');
  });

  it('stops a container whose postStart failed under its own deadline, and logs a stop that does not come', async () => {
    rt.program('app', { exec: () => ({ exitCode: 1 }) });
    rt.inject('StopContainer', 'hang');
    const pod = testPod('web', { containers: [container('app', { lifecycle: { postStart: { exec: { command: ['false'] } } } })] });
    h.setPods([pod]);
    const failedStop = () => h.logs.find((l) => l.msg === 'stopping a container whose postStart hook failed failed');
    const took = await tickUntil(() => failedStop() !== undefined, 40_000);
    expect(took).toBeGreaterThanOrEqual(30_000);
    expect(failedStop()).toMatchObject({
      err: expect.stringMatching(/^deadline-exceeded: StopContainer container ".*": the runtime at .* did not answer within 30000 ms$/),
    });
    // The sync went on: it reported the hook's failure.
    expect(h.eventsOf(pod)).toContain(
      `FailedPostStartHook: Exec lifecycle hook (["false"]) for Container in Pod failed - error: command 'false' exited with 1: `,
    );
  });

  it('reports a pod whose init container failed under restartPolicy Never as terminal: it terminates at once', async () => {
    rt.program('init', { exitAfterMs: 100, exitCode: 1 });
    const pod = testPod('web', { restartPolicy: 'Never', initContainers: [container('init')], containers: [container('app')] });
    h.setPods([pod]);
    await tickUntil(() => h.lifecycle.workers.phase(pod.metadata?.uid ?? '') === 'terminated', 5_000);
    expect(h.status(pod)?.phase).toBe('Failed');
    expect(h.logs.map((l) => l.msg)).toContain('init container init failed (exit code 1, Error) and restartPolicy is Never');
    expect(rt.containersOf('web', 'app')).toEqual([]);
  });

  it('logs a sandbox stop that fails while a pod is removed, and removes the sandbox all the same', async () => {
    const pod = testPod('web', { containers: [container('app')] });
    h.setPods([pod]);
    await tickUntil(() => h.status(pod)?.phase === 'Running');
    await h.stop();
    rt.inject('StopPodSandbox', { code: 'UNKNOWN', message: 'failed to destroy network for sandbox: plugin type="bridge" failed' });
    await h.lifecycle.syncer.removeFromRuntime(pod.metadata?.uid ?? '');
    expect(rt.sandboxesOf('web')).toEqual([]);
    expect(h.logs.filter((l) => l.msg === 'stopping the sandbox of a removed pod failed').map((l) => l['err'])).toEqual([
      expect.stringContaining('failed to destroy network for sandbox: plugin type="bridge" failed'),
    ]);
  });

  it('waits out a preStop sleep handler before stopping the container', async () => {
    const pod = testPod('web', { containers: [container('app', { lifecycle: { preStop: { sleep: { seconds: 5 } } } })] });
    h.setPods([pod]);
    await tickUntil(() => h.status(pod)?.phase === 'Running');
    h.lifecycle.workers.terminate(pod, 30);
    const took = await tickUntil(() => rt.containersOf('web', 'app')[0]?.state === 'CONTAINER_EXITED');
    expect(took).toBeGreaterThanOrEqual(5000);
    expect(took).toBeLessThan(6000);
    expect(rt.calls.find((c) => c.method === 'StopContainer')?.request).toMatchObject({ timeout: '25' });
  });
});
