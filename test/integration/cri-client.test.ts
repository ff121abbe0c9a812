import { Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { TskubeError } from '../../src/common/errors.js';
import { CriClient } from '../../src/cri-client/index.js';
import { criDefinitions } from '../../src/cri-client/descriptor.js';
import { privateContainerd, type PrivateContainerd } from '../support/private-containerd.js';
import { newClient, podConfig, removeTestLogDir, removeTestPods, testImage, testLabel, uniqueName } from '../support/runtime.js';

async function failure(p: Promise<unknown>): Promise<TskubeError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(TskubeError);
    return err as TskubeError;
  }
  throw new Error('expected the call to fail');
}

describe('CRI client against the real containerd', () => {
  const client = newClient();
  afterEach(() => removeTestPods(client));
  afterAll(() => client.close());

  it('speaks runtime.v1', async () => {
    const v = await client.version();
    expect(v.runtimeName).toBe('containerd');
    expect(v.runtimeApiVersion).toBe('v1');
  });

  it('runs a sandbox and a container through their whole life', async () => {
    const name = uniqueName('cri');
    const config = podConfig(name);
    // The test removes the sandbox itself, so afterEach finds nothing; its log directory goes here.
    onTestFinished(() => removeTestLogDir(config.logDirectory ?? ''));
    const { podSandboxId } = await client.runtime.call('RunPodSandbox', { config });
    const pod = await client.runtime.call('PodSandboxStatus', { podSandboxId });
    expect(pod.status?.state).toBe('SANDBOX_READY');
    expect(pod.status?.network?.ip).toMatch(/^10\.88\.0\.\d+$/);

    const { containerId } = await client.runtime.call('CreateContainer', {
      podSandboxId,
      sandboxConfig: config,
      config: {
        metadata: { name: 'main' },
        image: { image: testImage },
        command: ['sh', '-c', 'echo ready; exec sleep 300'],
        labels: testLabel,
        logPath: 'main.log',
      },
    });
    await client.runtime.call('StartContainer', { containerId });
    const running = await client.runtime.call('ContainerStatus', { containerId });
    expect(running.status?.state).toBe('CONTAINER_RUNNING');
    // int64 nanoseconds arrive as exact decimal strings, equal wherever they are reported.
    expect(running.status?.startedAt).toMatch(/^\d{19}$/);
    const listed = await client.runtime.call('ListContainers', { filter: { id: containerId } });
    expect(listed.containers.map((c) => c.createdAt)).toEqual([running.status?.createdAt]);

    const exec = await client.runtime.call('ExecSync', { containerId, cmd: ['sh', '-c', 'echo out; echo err >&2; exit 4'], timeout: '10' });
    expect(exec.stdout.toString()).toBe('out\n');
    expect(exec.stderr.toString()).toBe('err\n');
    expect(exec.exitCode).toBe(4);

    await client.runtime.call('StopContainer', { containerId, timeout: '1' });
    const stopped = await client.runtime.call('ContainerStatus', { containerId });
    expect(stopped.status?.state).toBe('CONTAINER_EXITED');
    expect(BigInt(stopped.status?.finishedAt ?? '0')).toBeGreaterThan(BigInt(stopped.status?.startedAt ?? '0'));

    await client.runtime.call('RemoveContainer', { containerId });
    const gone = await failure(client.runtime.call('ContainerStatus', { containerId }));
    expect(gone.code).toBe('not-found');
    expect(gone.message).toContain(`container "${containerId}"`);

    await client.runtime.call('StopPodSandbox', { podSandboxId });
    await client.runtime.call('RemovePodSandbox', { podSandboxId });
    const { items } = await client.runtime.call('ListPodSandbox', { filter: { id: podSandboxId } });
    expect(items).toEqual([]);
  });

  it('lists the locally built images through the image service', async () => {
    const { images } = await client.image.call('ListImages', {});
    const tags = images.flatMap((i) => i.repoTags);
    expect(tags).toContain(testImage);
    expect(tags).toContain('registry.k8s.io/pause:3.10');
  });

  it('streams nothing it was not asked for: an aborted call is canceled', async () => {
    const controller = new AbortController();
    const call = client.runtime.call('ListContainers', {}, { signal: controller.signal });
    controller.abort();
    const err = await failure(call);
    expect(err.code).toBe('canceled');
  });
});

describe('CRI client when the runtime is missing, wrong or slow', () => {
  let dir: string;
  let hanging: Server;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tskube-cri-'));
    // A gRPC server that accepts Version and never answers: the deadline must fire.
    hanging = new Server();
    hanging.addService(criDefinitions().runtime as unknown as ServiceDefinition, { Version: () => undefined });
    await new Promise<void>((resolve, reject) =>
      hanging.bindAsync(`unix://${join(dir, 'hang.sock')}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
    );
  });
  afterAll(() => {
    hanging.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('says in one line that nothing listens on the socket', async () => {
    const c = new CriClient({ endpoint: `unix://${join(dir, 'none.sock')}`, timeoutMs: 2000 });
    try {
      const err = await failure(c.version());
      expect(err.code).toBe('unavailable');
      expect(err.message).toMatch(/^unavailable: Version: cannot reach the container runtime at unix:\/\/.*none\.sock: .*ENOENT.* \(is it running\?\)$/);
      expect(err.message).not.toContain('\n');
    } finally {
      c.close();
    }
  });

  it('names the deadline that passed, and an abort cancels a hung call', async () => {
    const c = new CriClient({ endpoint: `unix://${join(dir, 'hang.sock')}`, timeoutMs: 300 });
    try {
      const err = await failure(c.version());
      expect(err.code).toBe('deadline-exceeded');
      expect(err.message).toContain('did not answer within 300 ms');
      const controller = new AbortController();
      const pending = c.version({ timeoutMs: 10_000, signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      expect((await failure(pending)).code).toBe('canceled');
    } finally {
      c.close();
    }
  });

  describe('with a private containerd', () => {
    let noCri: PrivateContainerd;
    let withCri: PrivateContainerd;
    beforeAll(async () => {
      noCri = privateContainerd({ cri: false });
      withCri = privateContainerd({ cri: true });
      await Promise.all([noCri.start(), withCri.start()]);
    });
    afterAll(async () => {
      await Promise.all([noCri?.destroy(), withCri?.destroy()]);
    });

    it('explains a runtime that does not serve runtime.v1', async () => {
      const c = new CriClient({ endpoint: noCri.endpoint, timeoutMs: 5000 });
      try {
        const err = await failure(c.version());
        expect(err.code).toBe('unimplemented');
        expect(err.message).toContain('does not serve CRI runtime.v1 (it may speak only v1alpha2)');
      } finally {
        c.close();
      }
    });

    it('reconnects by itself after the runtime restarts', async () => {
      const c = new CriClient({ endpoint: withCri.endpoint, timeoutMs: 2000 });
      try {
        await expect
          .poll(
            () =>
              c.version().then(
                (v) => v.runtimeApiVersion,
                () => 'down',
              ),
            { timeout: 10_000 },
          )
          .toBe('v1');
        await withCri.stop();
        expect((await failure(c.version())).code).toBe('unavailable');
        await withCri.start();
        // Same client, no new dial: the channel's short reconnect backoff finds it.
        await expect
          .poll(
            () =>
              c.version().then(
                (v) => v.runtimeApiVersion,
                () => 'down',
              ),
            { timeout: 5_000, interval: 200 },
          )
          .toBe('v1');
      } finally {
        c.close();
      }
    });
  });
});
