import { mkdirSync, mkdtempSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { criRequestBuilders } from '../../src/kubelet/cri-request-builders.js';
import { startContainer } from '../../src/kubelet/runtime/container-start.js';
import type { ExecutorDeps } from '../../src/kubelet/runtime/executor-deps.js';
import { ImagePuller } from '../../src/kubelet/runtime/image-puller.js';
import { runSandbox } from '../../src/kubelet/runtime/sandbox-run.js';
import { InMemoryRuntime } from '../support/in-memory-runtime.js';
import { container, testImage, testNode, testPod } from '../support/pod-lifecycle-harness.js';

describe('startContainer on the in-memory runtime', () => {
  let dir: string;
  let rt: InMemoryRuntime;
  let deps: ExecutorDeps;
  let events: string[];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tskube-start-'));
    for (const d of ['root', 'pod-logs', 'containers']) mkdirSync(join(dir, d));
    rt = new InMemoryRuntime({ images: [{ ref: testImage }] });
    events = [];
    deps = {
      cri: rt,
      rootDir: join(dir, 'root'),
      containerLogLinksDir: join(dir, 'containers'),
      images: new ImagePuller(rt),
      builders: criRequestBuilders(testNode(join(dir, 'root'), join(dir, 'pod-logs')), { configMap: () => undefined, secret: () => undefined }),
      events: { normal: (_p, reason, message) => events.push(`${reason}: ${message}`), warning: (_p, reason, message) => events.push(`${reason}: ${message}`) },
      log: pino({ level: 'silent' }),
    };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('pulls per policy, creates and starts, with the termination-message file and the log link in place', async () => {
    const pod = testPod('web', { containers: [container('app')] });
    const sandbox = await runSandbox(deps, pod, 0);
    const outcome = await startContainer(deps, pod, container('app'), 0, sandbox);
    expect(outcome).toEqual({ ok: true, containerId: rt.containersOf('web', 'app')[0]?.id });
    expect(rt.callLog()).toEqual([
      'RunPodSandbox web',
      'PodSandboxStatus web',
      `ImageStatus ${testImage}`,
      'CreateContainer web/app',
      'StartContainer web/app',
    ]);
    expect(events).toEqual([
      `Pulled: Container image "${testImage}" already present on machine`,
      'Created: Created container: app',
      'Started: Started container app',
    ]);
    const messageFile = join(dir, 'root/pods', pod.metadata?.uid ?? '', 'containers/app/termination-log-0');
    expect(statSync(messageFile).mode & 0o777).toBe(0o666);
    const link = join(dir, 'containers', `web_default_app-${outcome.ok ? outcome.containerId : ''}.log`);
    expect(readlinkSync(link)).toBe(join(dir, 'pod-logs', `default_web_${pod.metadata?.uid}`, 'app/0.log'));
    const created = rt.calls.find((c) => c.method === 'CreateContainer')?.request as { config: { mounts: { containerPath: string; hostPath: string }[] } };
    expect(created.config.mounts).toMatchObject([{ containerPath: '/dev/termination-log', hostPath: messageFile }]);
  });

  it('reports each failure with upstream waiting reason and event, and starts nothing after it', async () => {
    const pod = testPod('web', { containers: [container('app')] });
    const sandbox = await runSandbox(deps, pod, 0);

    expect(await startContainer(deps, pod, container('never', { image: 'example.com/absent:1', imagePullPolicy: 'Never' }), 0, sandbox)).toEqual({
      ok: false,
      reason: 'ErrImageNeverPull',
      message: 'Container image "example.com/absent:1" is not present with pull policy of Never',
    });
    expect(await startContainer(deps, pod, container('empty', { image: ' ' }), 0, sandbox)).toEqual({
      ok: false,
      reason: 'InvalidImageName',
      message: 'image name is empty',
    });

    rt.inject('CreateContainer', { code: 'UNKNOWN', message: 'failed to create containerd container: no space left on device' });
    const create = await startContainer(deps, pod, container('app'), 0, sandbox);
    expect(create).toEqual({
      ok: false,
      reason: 'CreateContainerError',
      message: `CreateContainer pod sandbox "${sandbox.id}": failed to create containerd container: no space left on device`,
    });

    rt.program('app', { startError: 'failed to create containerd task: exec: "nope": executable file not found in $PATH: unknown' });
    const start = await startContainer(deps, pod, container('app'), 0, sandbox);
    expect(start).toMatchObject({ ok: false, reason: 'RunContainerError', message: expect.stringContaining('exec: "nope": executable file not found') });
    expect(rt.containersOf('web', 'app')).toMatchObject([{ state: 'CONTAINER_EXITED', exitCode: 128 }]);
    expect(events.filter((e) => e.startsWith('Failed'))).toEqual([
      'Failed: Container image "example.com/absent:1" is not present with pull policy of Never (ErrImageNeverPull)',
      `Failed: Error: CreateContainer pod sandbox "${sandbox.id}": failed to create containerd container: no space left on device`,
      `Failed: Error: ${start.ok ? '' : start.message}`,
    ]);
  });

  it('fails the sandbox with FailedCreatePodSandBox and an error naming the step', async () => {
    const pod = testPod('web', { containers: [container('app')] });
    rt.inject('RunPodSandbox', { code: 'UNKNOWN', message: 'failed to setup network for sandbox: plugin type="bridge" failed' });
    await expect(runSandbox(deps, pod, 0)).rejects.toThrow(
      'unknown: creating the pod sandbox: RunPodSandbox: failed to setup network for sandbox: plugin type="bridge" failed',
    );
    expect(events).toEqual([
      'FailedCreatePodSandBox: Failed to create pod sandbox: RunPodSandbox: failed to setup network for sandbox: plugin type="bridge" failed',
    ]);
  });
});
