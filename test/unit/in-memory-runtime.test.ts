import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InMemoryRuntime } from '../support/in-memory-runtime.js';

const image = 'localhost/tskube/busybox:latest';

describe('the in-memory runtime', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tskube-imr-'));
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
  });

  async function sandbox(rt: InMemoryRuntime, name = 'web', attempt = 0) {
    const config = { metadata: { name, namespace: 'default', uid: `uid-${name}`, attempt }, logDirectory: join(dir, name), labels: { app: name } };
    mkdirSync(join(dir, name, 'c'), { recursive: true });
    const { podSandboxId } = await rt.runtime.call('RunPodSandbox', { config });
    return { podSandboxId, config };
  }

  async function container(rt: InMemoryRuntime, sb: Awaited<ReturnType<typeof sandbox>>, name = 'c', attempt = 0) {
    const { containerId } = await rt.runtime.call('CreateContainer', {
      podSandboxId: sb.podSandboxId,
      config: { metadata: { name, attempt }, image: { image }, logPath: `c/${attempt}.log`, labels: { 'io.kubernetes.container.name': name } },
      sandboxConfig: sb.config,
    });
    return containerId;
  }

  it('moves a container through created, running and exited as containerd reports it', async () => {
    const rt = new InMemoryRuntime({ images: [{ ref: image }] });
    rt.program('c', { stdout: 'hello\nworld\n', exitAfterMs: 1500, exitCode: 3 });
    const sb = await sandbox(rt);
    const id = await container(rt, sb);
    const created = (await rt.runtime.call('ContainerStatus', { containerId: id })).status;
    expect(created).toMatchObject({
      state: 'CONTAINER_CREATED',
      startedAt: '0',
      finishedAt: '0',
      exitCode: 0,
      reason: '',
      imageRef: expect.stringMatching(/^sha256:/),
    });
    expect(created?.createdAt).toMatch(/^1767225600000\d{6}$/);
    await rt.runtime.call('StartContainer', { containerId: id });
    expect((await rt.runtime.call('ContainerStatus', { containerId: id })).status).toMatchObject({ state: 'CONTAINER_RUNNING', image: { image } });
    await vi.advanceTimersByTimeAsync(1500);
    const exited = (await rt.runtime.call('ContainerStatus', { containerId: id })).status;
    expect(exited).toMatchObject({ state: 'CONTAINER_EXITED', exitCode: 3, reason: 'Error' });
    expect(BigInt(exited!.finishedAt) - BigInt(exited!.startedAt)).toBe(1_500_000_000n);
    expect(readFileSync(join(dir, 'web/c/0.log'), 'utf8')).toMatch(/^2026-01-01T00:00:00\.\d{9}Z stdout F hello\n.* stdout F world\n$/);
    expect(rt.dump()).toBe(`image ${image}\nsandbox default/web attempt=0 SANDBOX_READY 10.88.0.2\n  container c attempt=0 CONTAINER_EXITED exit=3 Error\n`);
  });

  it('stops with SIGTERM (143), or SIGKILL after the grace period (137) for a process that ignores it', async () => {
    const rt = new InMemoryRuntime({ images: [{ ref: image }] });
    rt.program('stubborn', { ignoresSigterm: true });
    const sb = await sandbox(rt);
    const polite = await container(rt, sb, 'polite');
    const stubborn = await container(rt, sb, 'stubborn');
    await rt.runtime.call('StartContainer', { containerId: polite });
    await rt.runtime.call('StartContainer', { containerId: stubborn });
    await rt.runtime.call('StopContainer', { containerId: polite, timeout: 30 });
    expect((await rt.runtime.call('ContainerStatus', { containerId: polite })).status?.exitCode).toBe(143);
    let stopped = false;
    const stopping = rt.runtime.call('StopContainer', { containerId: stubborn, timeout: 5 }).then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(4900);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    await stopping;
    expect((await rt.runtime.call('ContainerStatus', { containerId: stubborn })).status).toMatchObject({ state: 'CONTAINER_EXITED', exitCode: 137 });
  });

  it('fails a start as containerd does: EXITED 128 StartError with the error as message', async () => {
    const rt = new InMemoryRuntime({ images: [{ ref: image }] });
    rt.program('c', { startError: 'failed to create containerd task: exec: "nope": executable file not found in $PATH: unknown' });
    const id = await container(rt, await sandbox(rt));
    await expect(rt.runtime.call('StartContainer', { containerId: id })).rejects.toThrow(
      /^unknown: StartContainer container ".*": failed to create containerd task: exec: "nope"/,
    );
    expect((await rt.runtime.call('ContainerStatus', { containerId: id })).status).toMatchObject({
      state: 'CONTAINER_EXITED',
      exitCode: 128,
      reason: 'StartError',
      message: expect.stringContaining('executable file not found'),
    });
  });

  it('refuses a second container with the same name and attempt in a sandbox, and one in a stopped sandbox', async () => {
    const rt = new InMemoryRuntime({ images: [{ ref: image }] });
    const sb = await sandbox(rt);
    await container(rt, sb);
    await expect(container(rt, sb)).rejects.toThrow(/failed to reserve container name "c_web_default_uid-web_0"/);
    await rt.runtime.call('StopPodSandbox', { podSandboxId: sb.podSandboxId });
    await expect(container(rt, sb, 'd')).rejects.toThrow(/^not-found: CreateContainer pod sandbox .*: failed to get sandbox container task/);
  });

  it('injects failures: a status per call, and a hang that ends at the deadline with the client error', async () => {
    const rt = new InMemoryRuntime({ images: [{ ref: image }], endpoint: 'unix:///run/fake.sock' });
    rt.inject('ListContainers', { code: 'UNAVAILABLE', message: 'connection refused' });
    await expect(rt.runtime.call('ListContainers', {})).rejects.toThrow(
      'unavailable: ListContainers: cannot reach the container runtime at unix:///run/fake.sock: connection refused (is it running?)',
    );
    await expect(rt.runtime.call('ListContainers', {})).resolves.toEqual({ containers: [] });
    rt.inject('Version', 'hang');
    const hung = rt.runtime.call('Version', { version: 'v1' }, { timeoutMs: 2000 });
    const failed = expect(hung).rejects.toThrow('deadline-exceeded: Version: the runtime at unix:///run/fake.sock did not answer within 2000 ms');
    await vi.advanceTimersByTimeAsync(2000);
    await failed;
  });

  it('pulls what its registry has, and fails like containerd for what it does not', async () => {
    const rt = new InMemoryRuntime({ registry: [{ ref: 'nginx' }] });
    expect((await rt.image.call('ImageStatus', { image: { image: 'nginx' } })).image).toBeNull();
    const { imageRef } = await rt.image.call('PullImage', { image: { image: 'nginx' } });
    expect((await rt.image.call('ImageStatus', { image: { image: 'docker.io/library/nginx:latest' } })).image).toMatchObject({
      id: imageRef,
      repoTags: ['docker.io/library/nginx:latest'],
    });
    await expect(rt.image.call('PullImage', { image: { image: 'nope' } })).rejects.toThrow(
      'unknown: PullImage image "nope": failed to pull and unpack image "docker.io/library/nope:latest": failed to resolve reference',
    );
  });
});
