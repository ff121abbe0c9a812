// crictl's lifecycle and image subcommands against the real containerd, through runCrictl.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CriClient } from '../../src/cri-client/index.js';
import { newClient, runCrictl, testImage, testLabel, uniqueName } from '../support/runtime.js';

const fixtures = join(import.meta.dirname, '../fixtures/crictl');
const fullId = /^[0-9a-f]{64}$/;
// Other test files may run pods with the shared test label at the same time; this one removes only its own.
const ownLabels = { ...testLabel, 'tskube.test/run': uniqueName('crictl-lifecycle') };

let client: CriClient;
let dir = '';

beforeAll(async () => {
  client = newClient();
  dir = await mkdtemp(join(tmpdir(), 'tskube-crictl-lifecycle-'));
});

async function removeOwnPods(): Promise<void> {
  const { items } = await client.runtime.call('ListPodSandbox', { filter: { labelSelector: ownLabels } });
  for (const p of items) {
    await client.runtime.call('StopPodSandbox', { podSandboxId: p.id }).catch(() => undefined);
    await client.runtime.call('RemovePodSandbox', { podSandboxId: p.id }).catch(() => undefined);
  }
}

afterEach(async () => {
  await removeOwnPods();
});

afterAll(async () => {
  await removeOwnPods();
  client.close();
  await rm(dir, { recursive: true, force: true });
});

/** The example config files, renamed and labelled for this test, written to the temp dir. */
async function writeConfigs(options: { image?: string } = {}): Promise<{ pod: string; container: string; name: string }> {
  const name = uniqueName('lifecycle');
  const pod = JSON.parse(await readFile(join(fixtures, 'pod-config.json'), 'utf8')) as Record<string, unknown>;
  pod['metadata'] = { name, namespace: 'tskube-test', attempt: 0 };
  pod['hostname'] = name;
  pod['log_directory'] = join(dir, name);
  pod['labels'] = { ...ownLabels };
  const container = JSON.parse(await readFile(join(fixtures, 'container-config.json'), 'utf8')) as Record<string, unknown>;
  container['labels'] = { ...ownLabels };
  container['image'] = { image: options.image ?? testImage };
  const paths = { pod: join(dir, `${name}-pod.json`), container: join(dir, `${name}-container.json`), name };
  await writeFile(paths.pod, JSON.stringify(pod));
  await writeFile(paths.container, JSON.stringify(container));
  return paths;
}

async function containerState(id: string): Promise<string> {
  const { status } = await client.runtime.call('ContainerStatus', { containerId: id });
  return status?.state ?? 'none';
}

async function containerIds(): Promise<string[]> {
  return (await client.runtime.call('ListContainers', {})).containers.map((c) => c.id);
}

async function podIds(): Promise<string[]> {
  return (await client.runtime.call('ListPodSandbox', {})).items.map((p) => p.id);
}

async function podsNamed(name: string): Promise<string[]> {
  return (await client.runtime.call('ListPodSandbox', { filter: { labelSelector: ownLabels } })).items
    .filter((p) => p.metadata?.name === name)
    .map((p) => p.id);
}

/** Runs crictl and expects it to succeed, so a failure shows its stderr. */
async function ok(args: string[]): Promise<string> {
  const r = await runCrictl(args);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

describe('crictl lifecycle against containerd', () => {
  it('runp, create, start, update, stop, rm, stopp, rmp, accepting ID prefixes', async () => {
    const files = await writeConfigs();

    const podId = (await ok(['runp', files.pod])).trim();
    expect(podId).toMatch(fullId);
    const pod = await client.runtime.call('PodSandboxStatus', { podSandboxId: podId });
    expect(pod.status?.state).toBe('SANDBOX_READY');
    expect(pod.status?.metadata?.name).toBe(files.name);
    expect(pod.status?.labels).toMatchObject(ownLabels);

    const id = (await ok(['create', podId.slice(0, 12), files.container, files.pod])).trim();
    expect(id).toMatch(fullId);
    expect(await containerState(id)).toBe('CONTAINER_CREATED');

    expect(await ok(['start', id.slice(0, 8)])).toBe(`${id}\n`);
    expect(await containerState(id)).toBe('CONTAINER_RUNNING');

    expect(await ok(['update', '--memory', '67108864', '--cpu-period', '100000', '--cpu-quota', '20000', id.slice(0, 10)])).toBe(`${id}\n`);
    const { status } = await client.runtime.call('ContainerStatus', { containerId: id });
    expect(status?.resources?.linux).toMatchObject({ memoryLimitInBytes: '67108864', cpuPeriod: '100000', cpuQuota: '20000' });
    // cgroup v1 with the cgroupfs driver, as the setup configures containerd.
    const memoryLimit = `/sys/fs/cgroup/memory/k8s.io/${id}/memory.limit_in_bytes`;
    if (existsSync(memoryLimit)) expect((await readFile(memoryLimit, 'utf8')).trim()).toBe('67108864');

    expect(await ok(['stop', '-t', '1', id])).toBe(`${id}\n`);
    expect(await containerState(id)).toBe('CONTAINER_EXITED');

    const logFile = join(dir, files.name, 'busybox.0.log');
    expect(existsSync(logFile)).toBe(true);
    expect(await ok(['rm', id])).toBe(`${id}\n`);
    expect(await containerIds()).not.toContain(id);
    // As crictl: rm deletes the container's log unless --keep-logs.
    expect(existsSync(logFile)).toBe(false);

    expect(await ok(['stopp', podId.slice(0, 12)])).toBe(`Stopped sandbox ${podId}\n`);
    expect((await client.runtime.call('PodSandboxStatus', { podSandboxId: podId })).status?.state).toBe('SANDBOX_NOTREADY');

    expect(await ok(['rmp', podId])).toBe(`Removed sandbox ${podId}\n`);
    expect(await podIds()).not.toContain(podId);
  });

  it('run starts pod and container in one step; rm -f removes the running container; rmp -f the ready pod', async () => {
    const files = await writeConfigs();
    const id = (await ok(['run', '--no-pull', files.container, files.pod])).trim();
    expect(id).toMatch(fullId);
    expect(await containerState(id)).toBe('CONTAINER_RUNNING');
    const { containers } = await client.runtime.call('ListContainers', { filter: { id } });
    const podId = containers[0]?.podSandboxId ?? '';
    expect((await client.runtime.call('PodSandboxStatus', { podSandboxId: podId })).status?.metadata?.name).toBe(files.name);

    const refused = await runCrictl(['rm', id]);
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toBe(`tskube crictl rm: failed-precondition: container "${id}" is running: stop it first, or use rm -f\n`);
    expect(await containerState(id)).toBe('CONTAINER_RUNNING');

    expect(await ok(['rm', '-fk', id.slice(0, 12)])).toBe(`${id}\n`);
    expect(await containerIds()).not.toContain(id);
    expect(existsSync(join(dir, files.name, 'busybox.0.log'))).toBe(true);

    const podRefused = await runCrictl(['rmp', podId]);
    expect(podRefused.code).toBe(1);
    expect(podRefused.stderr).toContain(`pod sandbox "${podId}" is running`);
    expect(await ok(['rmp', '-f', podId])).toBe(`Removed sandbox ${podId}\n`);
    expect(await podIds()).not.toContain(podId);
  });

  it('run removes the pod it made when the container cannot be created', async () => {
    const files = await writeConfigs({ image: 'localhost/tskube/does-not-exist:never' });
    const r = await runCrictl(['run', '--no-pull', files.container, files.pod]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^tskube crictl run: \S+: running container: .*removed the pod sandbox [0-9a-f]{64} made for it\)\n$/);
    expect(await podsNamed(files.name)).toEqual([]);
  });

  it('names an ID that matches nothing, and still handles the good ones', async () => {
    const files = await writeConfigs();
    const id = (await ok(['run', '--no-pull', files.container, files.pod])).trim();
    const r = await runCrictl(['stop', 'ffffnotanid', id]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`${id}\n`);
    expect(r.stderr).toBe('tskube crictl stop: not-found: no container with ID or ID prefix "ffffnotanid"\n');
    expect(await containerState(id)).toBe('CONTAINER_EXITED');
  });

  it('rejects a malformed config file with one line naming the field, before creating anything', async () => {
    const files = await writeConfigs();
    await writeFile(files.pod, JSON.stringify({ metadata: { name: files.name, namespace: 'tskube-test', attempt: 'first' }, labels: ownLabels }));
    const r = await runCrictl(['runp', files.pod]);
    expect(r).toEqual({ code: 1, stdout: '', stderr: `tskube crictl runp: invalid-argument: ${files.pod}: metadata.attempt: want an integer, got "first"\n` });
    expect(await podsNamed(files.name)).toEqual([]);
  });
});

describe('crictl image commands against containerd', () => {
  it('rmi of an unknown image fails with one line naming it', async () => {
    const r = await runCrictl(['rmi', 'localhost/tskube/no-such-image:never']);
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'tskube crictl rmi: not-found: no such image "localhost/tskube/no-such-image:never"\n' });
  });

  it('pull of an unreachable image fails with one line naming the image', async () => {
    const r = await runCrictl(['pull', 'localhost:1/none:x']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('"localhost:1/none:x"');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^tskube crictl pull: /);
  });

  it('create --with-pull of an unreachable image fails naming it, and creates no container', async () => {
    const files = await writeConfigs({ image: 'localhost:1/none:x' });
    const podId = (await ok(['runp', files.pod])).trim();
    const r = await runCrictl(['create', '--with-pull', podId, files.container, files.pod]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('"localhost:1/none:x"');
    const { containers } = await client.runtime.call('ListContainers', { filter: { podSandboxId: podId } });
    expect(containers).toEqual([]);
  });
});
