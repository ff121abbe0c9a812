import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { CrictlContext } from '../../src/cli/crictl/context.js';
import { run as images } from '../../src/cli/crictl/cmd/images.js';
import { run as pods } from '../../src/cli/crictl/cmd/pods.js';
import { run as ps } from '../../src/cli/crictl/cmd/ps.js';
import { containerColumns, containerTable, containerVerbose, imageCell } from '../../src/cli/crictl/list/container-table.js';
import { formatG, goMapString, goTimeString, humanSize, rfc3339Nano } from '../../src/cli/crictl/list/go-format.js';
import { imageTable } from '../../src/cli/crictl/list/image-table.js';
import { podTable, podVerbose } from '../../src/cli/crictl/list/pod-table.js';
import { decodeInfo, printStatusDocuments, statusDocument, withoutNulls } from '../../src/cli/crictl/list/proto-json.js';
import { containerStatusJson } from '../../src/cli/crictl/list/status-json.js';
import { containerStatsTable, selectContainerStats } from '../../src/cli/crictl/list/stats-table.js';
import { memoryIo } from '../../src/cli/io.js';
import type { CriClient } from '../../src/cri-client/index.js';
import type { Container__Output } from '../../src/gen/cri/runtime/v1/Container.js';
import type { ContainerStats__Output } from '../../src/gen/cri/runtime/v1/ContainerStats.js';
import type { ContainerStatus__Output } from '../../src/gen/cri/runtime/v1/ContainerStatus.js';
import type { Image__Output } from '../../src/gen/cri/runtime/v1/Image.js';
import type { PodSandbox__Output } from '../../src/gen/cri/runtime/v1/PodSandbox.js';

const hex = (c: string) => c.repeat(64);
const now = new Date('2026-01-01T12:00:00Z');
const nanosAgo = (seconds: number) => String(BigInt(now.getTime() - seconds * 1000) * 1_000_000n);

function container(id: string, over: Partial<Container__Output> = {}): Container__Output {
  return {
    id,
    podSandboxId: hex('b'),
    metadata: { name: 'web', attempt: 2 },
    image: { image: 'localhost/tskube/busybox:latest', annotations: {}, userSpecifiedImage: '', runtimeHandler: '' },
    imageRef: '',
    state: 'CONTAINER_RUNNING',
    createdAt: nanosAgo(90),
    labels: { 'io.kubernetes.pod.name': 'mypod', 'io.kubernetes.pod.namespace': 'ns1' },
    annotations: {},
    imageId: '',
    ...over,
  } as Container__Output;
}

function pod(id: string, over: Partial<PodSandbox__Output> = {}): PodSandbox__Output {
  return {
    id,
    metadata: { name: 'mypod', uid: 'uid-1', namespace: 'ns1', attempt: 0 },
    state: 'SANDBOX_READY',
    createdAt: nanosAgo(7200),
    labels: {},
    annotations: {},
    runtimeHandler: '',
    ...over,
  };
}

function image(id: string, repoTags: string[], repoDigests: string[] = [], size = '1055104'): Image__Output {
  return { id, repoTags, repoDigests, size, uid: null, username: '', spec: null, pinned: false };
}

describe('Go number and time spellings', () => {
  it('formats like %g and go-units', () => {
    expect(formatG(4.271234, 3)).toBe('4.27');
    expect(formatG(305, 3)).toBe('305');
    expect(formatG(999.7, 3)).toBe('1e+03');
    expect(formatG(1.5, 4)).toBe('1.5');
    expect(humanSize('1055104', 3)).toBe('1.06MB');
    expect(humanSize(305000, 3)).toBe('305kB');
    expect(humanSize(6766592)).toBe('6.767MB');
    expect(humanSize(0)).toBe('0B');
    expect(humanSize(512)).toBe('512B');
  });
  it('prints times as RFC 3339 and as Go %v', () => {
    expect(rfc3339Nano('1700000000123456789')).toBe('2023-11-14T22:13:20.123456789Z');
    expect(rfc3339Nano('1700000000500000000')).toBe('2023-11-14T22:13:20.5Z');
    expect(rfc3339Nano('0')).toBe('1970-01-01T00:00:00Z');
    expect(goTimeString('1700000000500000000')).toBe('2023-11-14 22:13:20.5 +0000 UTC');
    expect(goMapString({ b: '2', a: '1' })).toBe('map[a:1 b:2]');
  });
});

describe('ps table', () => {
  it('has crictl headers and truncated IDs', () => {
    const out = containerTable([container(hex('a'))], { now, noTrunc: false });
    const [header, row] = out.split('\n');
    expect(header).toBe(
      'CONTAINER           IMAGE                             CREATED              STATE               NAME                ATTEMPT             POD ID              POD                 NAMESPACE',
    );
    expect(row?.split(/\s{2,}/)).toEqual([
      'aaaaaaaaaaaaa',
      'localhost/tskube/busybox:latest',
      'About a minute ago',
      'Running',
      'web',
      '2',
      'bbbbbbbbbbbbb',
      'mypod',
      'ns1',
    ]);
    expect(containerColumns).toHaveLength(9);
  });
  it('shortens digest images unless --no-trunc', () => {
    expect(imageCell(`sha256:${hex('c')}`, { noTrunc: false })).toBe('ccccccccccccc');
    expect(imageCell(`sha256:${hex('c')}`, { noTrunc: true })).toBe(`sha256:${hex('c')}`);
    expect(containerTable([container(hex('a'))], { now, noTrunc: true })).toContain(hex('a'));
  });
  it('prints verbose blocks with sorted labels', () => {
    const out = containerVerbose([container('abc', { labels: { z: '1', a: '2' } })], {
      now,
      noTrunc: false,
      pods: new Map([[hex('b'), { name: 'p', namespace: 'n' }]]),
    });
    expect(out).toBe(
      `ID: abc\nPodID: ${hex('b')}\nNamespace: n\nName: web\nAttempt: 2\nState: Running\nImage: localhost/tskube/busybox:latest\nCreated: About a minute ago\nLabels:\n\ta -> 2\n\tz -> 1\n\n`,
    );
  });
});

describe('pods and images tables', () => {
  it('pods: crictl headers, (default) runtime, Go time in -v', () => {
    const out = podTable([pod(hex('d'))], { now, noTrunc: false });
    expect(out.split('\n')[0]).toBe(
      'POD ID              CREATED             STATE               NAME                NAMESPACE           ATTEMPT             RUNTIME',
    );
    expect(out.split('\n')[1]?.split(/\s{2,}/)).toEqual(['ddddddddddddd', '2 hours ago', 'Ready', 'mypod', 'ns1', '0', '(default)']);
    expect(podVerbose([pod('p1', { createdAt: '1700000000500000000' })])).toBe(
      'ID: p1\nName: mypod\nUID: uid-1\nNamespace: ns1\nStatus: Ready\nCreated: 2023-11-14 22:13:20.5 +0000 UTC\nRuntime: (default)\n\n',
    );
  });
  it('images: one row per tag, <none> for untagged, optional DIGEST and PINNED', () => {
    const list = [
      image(`sha256:${hex('e')}`, ['registry.k8s.io/pause:3.10', 'registry.k8s.io/pause:latest'], [`registry.k8s.io/pause@sha256:${hex('f')}`]),
      image(`sha256:${hex('0')}`, []),
    ];
    const lines = imageTable(list, { digests: true, pinned: true, noTrunc: false }).trimEnd().split('\n');
    expect(lines[0]?.split(/\s{2,}/)).toEqual(['IMAGE', 'TAG', 'DIGEST', 'IMAGE ID', 'SIZE', 'PINNED']);
    expect(lines[1]?.split(/\s{2,}/)).toEqual(['registry.k8s.io/pause', '3.10', 'fffffffffffff', 'eeeeeeeeeeeee', '1.06MB', 'false']);
    expect(lines[2]?.split(/\s{2,}/)).toEqual(['registry.k8s.io/pause', 'latest', 'fffffffffffff', 'eeeeeeeeeeeee', '1.06MB', 'false']);
    expect(lines[3]?.split(/\s{2,}/)).toEqual(['<none>', '<none>', '<none>', '0000000000000', '1.06MB', 'false']);
  });
});

describe('inspect-style documents', () => {
  it('decodes verbose info: JSON objects parsed, quoted strings unquoted', () => {
    expect(decodeInfo({ info: '{"pid":42}', golang: '"go1.20"' })).toEqual({ info: { pid: 42 }, golang: 'go1.20' });
  });
  it('prints one document bare and several as a list, keys sorted', async () => {
    const one = memoryIo();
    await printStatusDocuments(one.io.stdout, 'json', [statusDocument({ z: 1, a: null }, { info: '{"b":1,"a":2}' })]);
    expect(one.stdout()).toBe('{\n  "info": {\n    "a": 2,\n    "b": 1\n  },\n  "status": {\n    "a": null,\n    "z": 1\n  }\n}\n');
    const two = memoryIo();
    await printStatusDocuments(two.io.stdout, 'json', [statusDocument({ id: 'x' }), statusDocument({ id: 'y' })]);
    expect(JSON.parse(two.stdout())).toEqual([{ status: { id: 'x' } }, { status: { id: 'y' } }]);
  });
  it('prints container times as RFC 3339, zero time for what did not happen', () => {
    const cs = {
      id: 'c',
      state: 'CONTAINER_CREATED',
      createdAt: '1700000000000000000',
      startedAt: '0',
      finishedAt: '0',
      resources: null,
    } as unknown as ContainerStatus__Output;
    expect(containerStatusJson(cs)).toMatchObject({
      createdAt: '2023-11-14T22:13:20Z',
      startedAt: '0001-01-01T00:00:00Z',
      finishedAt: '0001-01-01T00:00:00Z',
      resources: null,
    });
  });
  it('leaves unset messages out of list replies and prints bytes as base64', () => {
    expect(withoutNulls({ a: null, b: [{ c: null, d: 1 }], e: Buffer.from('hi') })).toEqual({ b: [{ d: 1 }], e: 'aGk=' });
  });
});

describe('stats', () => {
  const sample = (id: string, cpu: string, ts: string, mem = '1048576'): ContainerStats__Output =>
    ({
      attributes: { id, metadata: { name: `n-${id}`, attempt: 0 }, labels: {}, annotations: {} },
      cpu: { timestamp: ts, usageCoreNanoSeconds: { value: cpu }, usageNanoCores: null, psi: null },
      memory: { timestamp: ts, workingSetBytes: { value: mem } },
      writableLayer: { timestamp: ts, fsId: null, usedBytes: { value: '4096' }, inodesUsed: { value: '7' } },
      swap: null,
      io: null,
    }) as unknown as ContainerStats__Output;

  it('computes CPU % over the sample and skips containers new in the second one', () => {
    const before = [sample('a', '1000000000', '10000000000')];
    const after = [sample('a', '1500000000', '11000000000'), sample('b', '5', '11000000000')];
    const lines = containerStatsTable(before, after).trimEnd().split('\n');
    expect(lines[0]?.split(/\s{2,}/)).toEqual(['CONTAINER', 'NAME', 'CPU %', 'MEM', 'DISK', 'INODES', 'SWAP']);
    expect(lines[1]?.split(/\s{2,}/)).toEqual(['a', 'n-a', '50.00', '1.049MB', '4.096kB', '7', '0B']);
    expect(lines).toHaveLength(2);
  });
  it('keeps idle containers only with -a, in every format', () => {
    const list = [sample('b', '0', '1', '0'), sample('a', '9', '1')];
    expect(selectContainerStats(list, false).map((s) => s.attributes?.id)).toEqual(['a']);
    expect(selectContainerStats(list, true).map((s) => s.attributes?.id)).toEqual(['a', 'b']);
  });
});

/** A context whose client answers from fixed lists, so commands run with no runtime. */
function fakeContext(data: { containers?: Container__Output[]; pods?: PodSandbox__Output[]; images?: Image__Output[] }) {
  const mem = memoryIo();
  const calls: string[] = [];
  const client = {
    runtime: {
      call: async (name: string) => {
        calls.push(name);
        if (name === 'ListContainers') return { containers: data.containers ?? [] };
        if (name === 'ListPodSandbox') return { items: data.pods ?? [] };
        throw new Error(`unexpected ${name}`);
      },
    },
    image: {
      call: async (name: string) => {
        calls.push(name);
        if (name === 'ListImages') return { images: data.images ?? [] };
        throw new Error(`unexpected ${name}`);
      },
    },
  };
  const ctx: CrictlContext = {
    io: mem.io,
    settings: {
      configPath: '/etc/crictl.yaml',
      runtimeEndpoints: ['unix:///fake.sock'],
      runtimeEndpointSource: 'test',
      timeoutMs: 1000,
      debug: false,
      pullImageOnCreate: false,
      disablePullOnRun: false,
    },
    client: async () => client as unknown as CriClient,
    debug: () => undefined,
    close: () => undefined,
  };
  return { ctx, stdout: mem.stdout, calls };
}

describe('every filter applies to every output format', () => {
  const containers = [
    container(hex('1'), { metadata: { name: 'web', attempt: 0 } }),
    container(hex('2'), { metadata: { name: 'db', attempt: 0 }, createdAt: nanosAgo(10) }),
  ];

  it('ps --name: table, -q, json and yaml list the same containers', async () => {
    const ids = async (args: string[]) => {
      const f = fakeContext({ containers });
      expect(await ps(args, f.ctx)).toBe(0);
      return f.stdout();
    };
    const q = (await ids(['--name', 'web', '-q'])).trim().split('\n');
    const json = (JSON.parse(await ids(['--name', 'web', '-o', 'json'])) as { containers: { id: string }[] }).containers.map((c) => c.id);
    const yaml = (parseYaml(await ids(['--name', 'web', '-o', 'yaml'])) as { containers: { id: string }[] }).containers.map((c) => c.id);
    const table = (await ids(['--name', 'web', '--no-trunc']))
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(/\s+/)[0]);
    expect(q).toEqual([hex('1')]);
    expect(json).toEqual(q);
    expect(yaml).toEqual(q);
    expect(table).toEqual(q);
  });
  it('ps --last and -o json agree on order (newest first)', async () => {
    const f = fakeContext({ containers });
    await ps(['-n', '1', '-o', 'json'], f.ctx);
    expect((JSON.parse(f.stdout()) as { containers: { id: string }[] }).containers.map((c) => c.id)).toEqual([hex('2')]);
  });
  it('pods --namespace and images NAME filter json output too', async () => {
    const p = fakeContext({ pods: [pod('p1'), pod('p2', { metadata: { name: 'x', uid: 'u', namespace: 'other', attempt: 0 } })] });
    await pods(['--namespace', 'other', '-o', 'json'], p.ctx);
    expect((JSON.parse(p.stdout()) as { items: { id: string }[] }).items.map((i) => i.id)).toEqual(['p2']);
    const i = fakeContext({ images: [image('sha256:1', ['a/b:1']), image('sha256:2', ['c/d:1'])] });
    await images(['c/d', '-o', 'yaml'], i.ctx);
    expect((parseYaml(i.stdout()) as { images: { id: string }[] }).images.map((x) => x.id)).toEqual(['sha256:2']);
  });
  it('rejects stray arguments and bad output formats with one line', async () => {
    await expect(ps(['extra'], fakeContext({}).ctx)).rejects.toThrow(/ps takes no arguments, got "extra"/);
    await expect(ps(['-o', 'xml'], fakeContext({}).ctx)).rejects.toThrow(/unsupported output format "xml"/);
    await expect(ps(['--bogus'], fakeContext({}).ctx)).rejects.toThrow(/flag provided but not defined: --bogus/);
  });
});
