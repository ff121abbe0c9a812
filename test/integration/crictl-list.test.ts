// ps / pods / images / inspect* / info / stats against the real containerd: every filter
// gives the same objects in every output format, and inspect matches the CRI status.
import { mkdirSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { rfc3339Nano } from '../../src/cli/crictl/list/go-format.js';
import type { CriClient } from '../../src/cri-client/index.js';
import type { PodSandboxConfig } from '../../src/gen/cri/runtime/v1/PodSandboxConfig.js';
import { newClient, runCrictl, testImage, testLabel, uniqueName, testLogRoot } from '../support/runtime.js';

// Other test files share this containerd: everything here is selected by this run's label.
const run = randomBytes(4).toString('hex');
const runLabel = { 'tskube.test/run': run };
const byRun = ['--label', `tskube.test/run=${run}`];
const logRoot = `${testLogRoot}/crictl-list-${run}`;
// containerd 1.6 has pod stats only for sandboxes with a cgroup parent (cgroupfs driver here).
const cgroupParent = `/tskube-test-${run}`;

let client: CriClient;
const pods: Record<'a' | 'b' | 'c', { id: string; config: PodSandboxConfig }> = {} as never;
const ctrs: Record<'web' | 'job' | 'done', string> = {} as never;

function sandboxConfig(name: string, namespace: string, tier: string, withCgroup: boolean): PodSandboxConfig {
  return {
    metadata: { name, namespace, uid: randomBytes(8).toString('hex'), attempt: 0 },
    hostname: name.slice(0, 60),
    logDirectory: `${logRoot}/${name}`,
    labels: { ...testLabel, ...runLabel, tier },
    linux: withCgroup ? { cgroupParent } : {},
  };
}

/** The runtime removes the pod's cgroup but not the parent the test named; remove that too. */
function removeCgroupParent(): void {
  for (const controller of readdirSync('/sys/fs/cgroup')) {
    try {
      rmdirSync(`/sys/fs/cgroup/${controller}${cgroupParent}`);
    } catch {
      // not in this hierarchy
    }
  }
}

async function createContainer(pod: { id: string; config: PodSandboxConfig }, name: string, command: string[]): Promise<string> {
  const { containerId } = await client.runtime.call('CreateContainer', {
    podSandboxId: pod.id,
    config: {
      metadata: { name, attempt: 0 },
      image: { image: testImage },
      command,
      labels: { ...testLabel, ...runLabel, role: name },
      logPath: `${name}.log`,
      linux: {},
    },
    sandboxConfig: pod.config,
  });
  return containerId;
}

async function removeRunPods(): Promise<void> {
  const { items } = await client.runtime.call('ListPodSandbox', { filter: { labelSelector: { ...testLabel, ...runLabel } } });
  for (const p of items) {
    await client.runtime.call('StopPodSandbox', { podSandboxId: p.id }).catch(() => undefined);
    await client.runtime.call('RemovePodSandbox', { podSandboxId: p.id }).catch(() => undefined);
  }
}

beforeAll(async () => {
  client = newClient();
  mkdirSync(logRoot, { recursive: true });
  for (const [key, ns, tier] of [
    ['a', 'tskube-test', 'front'],
    ['b', 'tskube-test-b', 'back'],
    ['c', 'tskube-test', 'spare'],
  ] as const) {
    const config = sandboxConfig(uniqueName(`list-${key}`), ns, tier, key === 'a');
    mkdirSync(config.logDirectory as string, { recursive: true });
    const { podSandboxId } = await client.runtime.call('RunPodSandbox', { config });
    pods[key] = { id: podSandboxId, config };
  }
  await client.runtime.call('StopPodSandbox', { podSandboxId: pods.c.id }); // NotReady
  ctrs.web = await createContainer(pods.a, 'web', ['sleep', '3600']);
  await client.runtime.call('StartContainer', { containerId: ctrs.web });
  ctrs.job = await createContainer(pods.b, 'job', ['sleep', '3600']); // stays Created
  ctrs.done = await createContainer(pods.b, 'done', ['sh', '-c', 'exit 3']);
  await client.runtime.call('StartContainer', { containerId: ctrs.done });
  for (let i = 0; i < 100; i++) {
    const { status } = await client.runtime.call('ContainerStatus', { containerId: ctrs.done });
    if (status?.state === 'CONTAINER_EXITED') break;
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(async () => {
  await removeRunPods();
  removeCgroupParent();
  client.close();
  rmSync(logRoot, { recursive: true, force: true });
  // The shared parent goes too once no other test uses it.
  try {
    rmdirSync(testLogRoot);
  } catch {
    // not empty, or already gone
  }
});

async function crictlOk(args: string[]): Promise<string> {
  const r = await runCrictl(args);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

/** The IDs a listing command shows in each output format; they must all agree. */
async function idsInEveryFormat(sub: 'ps' | 'pods', args: string[]): Promise<string[]> {
  const key = sub === 'ps' ? 'containers' : 'items';
  const quiet = (await crictlOk([sub, ...args, '-q'])).split('\n').filter(Boolean);
  const json = (JSON.parse(await crictlOk([sub, ...args, '-o', 'json'])) as Record<string, { id: string }[]>)[key]?.map((c) => c.id);
  const yaml = (parseYaml(await crictlOk([sub, ...args, '-o', 'yaml'])) as Record<string, { id: string }[]>)[key]?.map((c) => c.id);
  const table = (await crictlOk([sub, ...args, '--no-trunc']))
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((l) => l.split(/\s+/)[0]);
  expect(json).toEqual(quiet);
  expect(yaml).toEqual(quiet);
  expect(table).toEqual(quiet);
  return quiet;
}

describe('crictl ps', () => {
  it('shows running containers by default and all with -a, newest first', async () => {
    expect(await idsInEveryFormat('ps', byRun)).toEqual([ctrs.web]);
    expect(await idsInEveryFormat('ps', [...byRun, '-a'])).toEqual([ctrs.done, ctrs.job, ctrs.web]);
  });

  it('applies every filter the same way in table, -q, json and yaml', async () => {
    const cases: [string[], string[]][] = [
      [['--state', 'exited'], [ctrs.done]],
      [['-s', 'created'], [ctrs.job]],
      [['-a', '--name', '^web$'], [ctrs.web]],
      [
        ['-a', '--name', 'o'],
        [ctrs.done, ctrs.job],
      ],
      [['-a', '--label', 'role=job'], [ctrs.job]],
      [
        ['-a', '--pod', pods.b.id.slice(0, 8)],
        [ctrs.done, ctrs.job],
      ],
      [['-a', '-p', pods.a.id], [ctrs.web]],
      [['-a', '--id', ctrs.job.slice(0, 10)], [ctrs.job]],
      [
        ['-a', '--namespace', '^tskube-test-b$'],
        [ctrs.done, ctrs.job],
      ],
      [
        ['-a', '--image', testImage],
        [ctrs.done, ctrs.job, ctrs.web],
      ],
      [['-a', '--image', 'registry.k8s.io/pause:3.10'], []],
      [['--latest'], [ctrs.done]],
      [
        ['-n', '2'],
        [ctrs.done, ctrs.job],
      ],
    ];
    for (const [args, want] of cases) expect(await idsInEveryFormat('ps', [...byRun, ...args]), args.join(' ')).toEqual(want);
  });

  it('prints crictl columns with the pod name and namespace of the sandbox', async () => {
    const lines = (await crictlOk(['ps', ...byRun])).trimEnd().split('\n');
    expect(lines[0]?.split(/\s{2,}/)).toEqual(['CONTAINER', 'IMAGE', 'CREATED', 'STATE', 'NAME', 'ATTEMPT', 'POD ID', 'POD', 'NAMESPACE']);
    const cells = lines[1]?.split(/\s{2,}/);
    expect(cells).toEqual([
      ctrs.web.slice(0, 13),
      testImage,
      expect.stringMatching(/ago$/),
      'Running',
      'web',
      '0',
      pods.a.id.slice(0, 13),
      pods.a.config.metadata?.name,
      'tskube-test',
    ]);
  });

  it('rejects a bad --state in one line, before asking the runtime', async () => {
    const r = await runCrictl(['ps', '--state', 'paused']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('tskube crictl ps: invalid-argument: --state: invalid value "paused" (want one of created, running, exited, unknown)\n');
  });
});

describe('crictl pods', () => {
  it('applies every filter the same way in every format', async () => {
    const cases: [string[], string[]][] = [
      [[], [pods.c.id, pods.b.id, pods.a.id]],
      [
        ['--state', 'ready'],
        [pods.b.id, pods.a.id],
      ],
      [['-s', 'notready'], [pods.c.id]],
      [['--namespace', 'tskube-test-b'], [pods.b.id]],
      [['--name', '^list-a-'], [pods.a.id]],
      [['--label', 'tier=back'], [pods.b.id]],
      [['--id', pods.a.id.slice(0, 12)], [pods.a.id]],
      [['--latest'], [pods.c.id]],
      [
        ['--last', '2'],
        [pods.c.id, pods.b.id],
      ],
    ];
    for (const [args, want] of cases) expect(await idsInEveryFormat('pods', [...byRun, ...args]), args.join(' ')).toEqual(want);
  });

  it('prints crictl columns', async () => {
    const lines = (await crictlOk(['pods', ...byRun, '--name', '^list-a-'])).trimEnd().split('\n');
    expect(lines[0]?.split(/\s{2,}/)).toEqual(['POD ID', 'CREATED', 'STATE', 'NAME', 'NAMESPACE', 'ATTEMPT', 'RUNTIME']);
    expect(lines[1]?.split(/\s{2,}/)).toEqual([
      pods.a.id.slice(0, 13),
      expect.stringMatching(/ago$/),
      'Ready',
      pods.a.config.metadata?.name,
      'tskube-test',
      '0',
      '(default)',
    ]);
  });
});

describe('crictl images', () => {
  it('lists the imported images, and the one a REPOSITORY argument names', async () => {
    const { image } = await client.image.call('ImageStatus', { image: { image: testImage } });
    const all = (JSON.parse(await crictlOk(['images', '-o', 'json'])) as { images: { id: string; repoTags: string[] }[] }).images;
    expect(all.flatMap((i) => i.repoTags)).toEqual(expect.arrayContaining([testImage, 'registry.k8s.io/pause:3.10']));
    const named = (JSON.parse(await crictlOk(['images', 'localhost/tskube/busybox', '-o', 'json'])) as { images: { id: string }[] }).images;
    expect(named.map((i) => i.id)).toEqual([image?.id]);
    expect((await crictlOk(['img', '-q', 'localhost/tskube/busybox:latest'])).trim()).toBe(image?.id);
    const lines = (await crictlOk(['images', 'localhost/tskube/busybox'])).trimEnd().split('\n');
    expect(lines.map((l) => l.split(/\s{2,}/))).toEqual([
      ['IMAGE', 'TAG', 'IMAGE ID', 'SIZE'],
      ['localhost/tskube/busybox', 'latest', image?.id.slice('sha256:'.length, 'sha256:'.length + 13), expect.stringMatching(/^[\d.]+[kMG]?B$/)],
    ]);
  });
});

describe('crictl inspect, inspectp, inspecti', () => {
  it('inspect JSON parses and matches ContainerStatus, by ID prefix', async () => {
    const { status } = await client.runtime.call('ContainerStatus', { containerId: ctrs.web });
    const doc = JSON.parse(await crictlOk(['inspect', ctrs.web.slice(0, 12)])) as { status: Record<string, unknown>; info: { pid?: number } };
    expect(doc.status).toMatchObject({
      id: status?.id,
      state: 'CONTAINER_RUNNING',
      metadata: { name: 'web', attempt: 0 },
      labels: status?.labels,
      imageRef: status?.imageRef,
      logPath: status?.logPath,
      createdAt: rfc3339Nano(status?.createdAt ?? '0'),
      startedAt: rfc3339Nano(status?.startedAt ?? '0'),
      finishedAt: '0001-01-01T00:00:00Z',
    });
    expect(doc.info.pid).toBeGreaterThan(0); // verbose info, decoded from containerd's JSON
    const quiet = JSON.parse(await crictlOk(['inspect', '-q', ctrs.web])) as Record<string, unknown>;
    expect(Object.keys(quiet)).toEqual(['status']);
  });

  it('inspect of an exited container has its exit code; several IDs give a list; filters select IDs', async () => {
    const many = JSON.parse(await crictlOk(['inspect', ctrs.done, ctrs.job])) as {
      status: { id: string; exitCode: number; state: string; finishedAt: string };
    }[];
    expect(many.map((d) => d.status.id)).toEqual([ctrs.done, ctrs.job]);
    expect(many[0]?.status).toMatchObject({ state: 'CONTAINER_EXITED', exitCode: 3 });
    expect(many[0]?.status.finishedAt).not.toBe('0001-01-01T00:00:00Z');
    const filtered = JSON.parse(await crictlOk(['inspect', ...byRun, '--state', 'created'])) as { status: { id: string } };
    expect(filtered.status.id).toBe(ctrs.job);
    const yaml = parseYaml(await crictlOk(['inspect', '-o', 'yaml', ctrs.job])) as { status: { state: string } };
    expect(yaml.status.state).toBe('CONTAINER_CREATED');
    const table = await crictlOk(['inspect', '-o', 'table', ctrs.done]);
    expect(table).toContain(`ID: ${ctrs.done}\nName: done\nState: CONTAINER_EXITED\n`);
    expect(table).toContain('Exit Code: 3\n');
  });

  it('inspect of an unknown ID fails in one line', async () => {
    const r = await runCrictl(['inspect', 'ffffffffffff0000']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('tskube crictl inspect: not-found: no container with ID or ID prefix "ffffffffffff0000"\n');
  });

  it('inspectp matches PodSandboxStatus, with the pod IP from CNI', async () => {
    const { status } = await client.runtime.call('PodSandboxStatus', { podSandboxId: pods.a.id });
    const doc = JSON.parse(await crictlOk(['inspectp', pods.a.id.slice(0, 10)])) as {
      status: Record<string, unknown> & { network: { ip: string } };
      info?: unknown;
    };
    expect(doc.status).toMatchObject({
      id: pods.a.id,
      state: 'SANDBOX_READY',
      metadata: { name: pods.a.config.metadata?.name, namespace: 'tskube-test' },
      createdAt: rfc3339Nano(status?.createdAt ?? '0'),
    });
    expect(doc.status.network.ip).toBe(status?.network?.ip);
    expect(doc.status.network.ip).toMatch(/^10\.88\.0\.\d+$/);
    expect(doc.info).toBeDefined();
    const table = await crictlOk(['inspectp', '-o', 'table', pods.a.id]);
    expect(table).toContain(`Status: SANDBOX_READY\n`);
    expect(table).toContain(`IP Addresses: ${status?.network?.ip}\n`);
  });

  it('inspecti matches ImageStatus', async () => {
    const { image } = await client.image.call('ImageStatus', { image: { image: testImage } });
    const doc = JSON.parse(await crictlOk(['inspecti', testImage])) as {
      status: { id: string; repoTags: string[]; size: string };
      info: { imageSpec?: unknown };
    };
    expect(doc.status).toMatchObject({ id: image?.id, repoTags: image?.repoTags, size: image?.size });
    expect(doc.info.imageSpec).toBeDefined();
    const byPrefix = JSON.parse(await crictlOk(['inspecti', '-q', (image?.id ?? '').slice(7, 19)])) as { status: { id: string } };
    expect(byPrefix.status.id).toBe(image?.id);
  });
});

describe('crictl info, imagefsinfo, stats, statsp', () => {
  it('info shows the runtime conditions and its verbose config', async () => {
    const doc = JSON.parse(await crictlOk(['info'])) as { status: { conditions: { type: string; status: boolean }[] }; config?: unknown };
    expect(doc.status.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'RuntimeReady', status: true })]));
    expect(doc.config).toBeDefined();
    const quiet = parseYaml(await crictlOk(['info', '-q', '-o', 'yaml'])) as Record<string, unknown>;
    expect(Object.keys(quiet)).toEqual(['status']);
  });

  it('imagefsinfo reports the image filesystem', async () => {
    const reply = await client.image.call('ImageFsInfo', {});
    const doc = JSON.parse(await crictlOk(['imagefsinfo'])) as { status: { imageFilesystems: { fsId: { mountpoint: string } }[] } };
    expect(doc.status.imageFilesystems.map((f) => f.fsId.mountpoint)).toEqual(reply.imageFilesystems.map((f) => f.fsId?.mountpoint));
    expect(await crictlOk(['imagefsinfo', '-o', 'table'])).toContain(`Mountpoint[0]: ${reply.imageFilesystems[0]?.fsId?.mountpoint}\n`);
  });

  it('stats lists running containers, all with -a, in every format', async () => {
    const json = JSON.parse(await crictlOk(['stats', ...byRun, '-o', 'json'])) as { stats: { attributes: { id: string } }[] };
    expect(json.stats.map((s) => s.attributes.id)).toEqual([ctrs.web]);
    const all = parseYaml(await crictlOk(['stats', ...byRun, '-a', '-o', 'yaml'])) as { stats: { attributes: { id: string } }[] };
    expect(all.stats.map((s) => s.attributes.id).sort()).toEqual([ctrs.web, ctrs.job, ctrs.done].sort());
    const table = (await crictlOk(['stats', ...byRun, '-s', '1'])).trimEnd().split('\n');
    expect(table[0]?.split(/\s{2,}/)).toEqual(['CONTAINER', 'NAME', 'CPU %', 'MEM', 'DISK', 'INODES', 'SWAP']);
    expect(table.slice(1).map((l) => l.split(/\s{2,}/).slice(0, 2))).toEqual([[ctrs.web.slice(0, 13), 'web']]);
    const one = JSON.parse(await crictlOk(['stats', '-o', 'json', ctrs.web.slice(0, 10)])) as { stats: { attributes: { id: string } }[] };
    expect(one.stats.map((s) => s.attributes.id)).toEqual([ctrs.web]);
  });

  it('statsp lists pod stats for the ready pods', async () => {
    const json = JSON.parse(await crictlOk(['statsp', ...byRun, '--label', 'tier=front', '-o', 'json'])) as { stats: { attributes: { id: string } }[] };
    expect(json.stats.map((s) => s.attributes.id)).toEqual([pods.a.id]);
    const table = (await crictlOk(['statsp', pods.a.id, '-s', '1'])).trimEnd().split('\n');
    expect(table[0]?.split(/\s{2,}/)).toEqual(['POD', 'POD ID', 'CPU %', 'MEM']);
    expect(table.slice(1).map((l) => l.split(/\s{2,}/).slice(0, 2))).toEqual([[pods.a.config.metadata?.name, pods.a.id.slice(0, 13)]]);
  });
});
