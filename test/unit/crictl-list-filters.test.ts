import { describe, expect, it } from 'vitest';
import { buildContainerQuery, containerPod, runtimeContainerFilter, selectContainers } from '../../src/cli/crictl/list/container-filter.js';
import { applyImageFilters, matchesReference, sortImages, splitRepoTag } from '../../src/cli/crictl/list/image-filter.js';
import { parseLabelSelector } from '../../src/cli/crictl/list/label-selector.js';
import { buildPodQuery, runtimePodFilter, selectPods } from '../../src/cli/crictl/list/pod-filter.js';
import type { Container__Output } from '../../src/gen/cri/runtime/v1/Container.js';
import type { Image__Output } from '../../src/gen/cri/runtime/v1/Image.js';
import type { PodSandbox__Output } from '../../src/gen/cri/runtime/v1/PodSandbox.js';

function container(id: string, over: Partial<Container__Output> = {}): Container__Output {
  return {
    id,
    podSandboxId: 'pod-a-0000',
    metadata: { name: `ctr-${id}`, attempt: 0 },
    image: { image: 'localhost/tskube/busybox:latest', annotations: {}, userSpecifiedImage: '', runtimeHandler: '' },
    imageRef: '',
    state: 'CONTAINER_RUNNING',
    createdAt: '1000',
    labels: {},
    annotations: {},
    imageId: '',
    ...over,
  } as Container__Output;
}

function pod(id: string, over: Partial<PodSandbox__Output> = {}): PodSandbox__Output {
  return {
    id,
    metadata: { name: `pod-${id}`, uid: 'u', namespace: 'default', attempt: 0 },
    state: 'SANDBOX_READY',
    createdAt: '1000',
    labels: {},
    annotations: {},
    runtimeHandler: '',
    ...over,
  };
}

function image(id: string, repoTags: string[], repoDigests: string[] = []): Image__Output {
  return { id, repoTags, repoDigests, size: '1000', uid: null, username: '', spec: null, pinned: false };
}

const ids = (items: { id: string }[]) => items.map((i) => i.id);

describe('label selectors', () => {
  it('parses repeated key=value flags', () => {
    expect(parseLabelSelector(['a=1', 'b=two'])).toEqual({ a: '1', b: 'two' });
    expect(parseLabelSelector(undefined)).toEqual({});
  });
  it('names the bad label', () => {
    expect(() => parseLabelSelector(['a'])).toThrow(/--label: incorrectly specified label "a"/);
    expect(() => parseLabelSelector(['a=1=2'])).toThrow(/"a=1=2"/);
    expect(() => parseLabelSelector(['=1'])).toThrow(/"=1"/);
  });
});

describe('container query', () => {
  it('lists running containers by default, every state with -a', () => {
    expect(buildContainerQuery({}).state).toBe('CONTAINER_RUNNING');
    expect(buildContainerQuery({ all: true }).state).toBeUndefined();
    expect(buildContainerQuery({ state: 'Exited' }).state).toBe('CONTAINER_EXITED');
  });
  it('looks at every state for --latest and --last, as crictl', () => {
    expect(buildContainerQuery({ latest: true })).toMatchObject({ limit: 1 });
    expect(buildContainerQuery({ latest: true }).state).toBeUndefined();
    expect(buildContainerQuery({ last: '3', state: 'running' }).state).toBeUndefined();
    expect(buildContainerQuery({ last: '0' }).limit).toBeUndefined();
  });
  it('rejects bad values naming the flag', () => {
    expect(() => buildContainerQuery({ state: 'sleeping' })).toThrow(/--state: invalid value "sleeping"/);
    expect(() => buildContainerQuery({ last: 'x' })).toThrow(/--last: invalid value "x"/);
    expect(() => buildContainerQuery({ name: '(' })).toThrow(/--name: invalid regular expression "\("/);
  });
  it('sends the state and labels to the runtime', () => {
    expect(runtimeContainerFilter(buildContainerQuery({ label: ['a=b'] }))).toEqual({ labelSelector: { a: 'b' }, state: { state: 'CONTAINER_RUNNING' } });
    expect(runtimeContainerFilter(buildContainerQuery({ all: true }))).toEqual({ labelSelector: {} });
  });
});

describe('selectContainers', () => {
  const list = [
    container('aaa111', { createdAt: '3000', labels: { app: 'web', 'io.kubernetes.pod.namespace': 'prod' }, metadata: { name: 'web', attempt: 0 } }),
    container('aaa222', { createdAt: '1000', state: 'CONTAINER_EXITED', podSandboxId: 'pod-b-1111', metadata: { name: 'web-sidecar', attempt: 1 } }),
    container('bbb333', { createdAt: '2000', labels: { app: 'db' }, metadata: { name: 'db', attempt: 0 }, imageRef: 'sha256:db' }),
  ];
  const pods = new Map([
    ['pod-a-0000', { name: 'pa', namespace: 'staging' }],
    ['pod-b-1111', { name: 'pb', namespace: 'prod' }],
  ]);

  it('sorts newest first and keeps running ones by default', () => {
    expect(ids(selectContainers(list, buildContainerQuery({})))).toEqual(['aaa111', 'bbb333']);
    expect(ids(selectContainers(list, buildContainerQuery({ all: true })))).toEqual(['aaa111', 'bbb333', 'aaa222']);
  });
  it('filters by name regex, id prefix, pod prefix, labels and state', () => {
    const all = { all: true };
    expect(ids(selectContainers(list, buildContainerQuery({ ...all, name: '^web' })))).toEqual(['aaa111', 'aaa222']);
    expect(ids(selectContainers(list, buildContainerQuery({ ...all, name: 'side' })))).toEqual(['aaa222']);
    expect(ids(selectContainers(list, buildContainerQuery({ ...all, id: 'aaa' })))).toEqual(['aaa111', 'aaa222']);
    expect(ids(selectContainers(list, buildContainerQuery({ ...all, pod: 'pod-b' })))).toEqual(['aaa222']);
    expect(ids(selectContainers(list, buildContainerQuery({ ...all, label: ['app=db'] })))).toEqual(['bbb333']);
    expect(ids(selectContainers(list, buildContainerQuery({ state: 'exited' })))).toEqual(['aaa222']);
  });
  it('takes the namespace from the kubelet label, else from the pod sandbox', () => {
    const q = buildContainerQuery({ all: true, namespace: '^prod$' });
    expect(ids(selectContainers(list, q, { pods }))).toEqual(['aaa111', 'aaa222']);
    expect(containerPod(list[2] as Container__Output, pods)).toEqual({ name: 'pa', namespace: 'staging' });
    expect(containerPod(list[2] as Container__Output)).toEqual({ name: 'unknown', namespace: 'unknown' });
  });
  it('matches --image by image ID, resolved or reported by the runtime', () => {
    const q = buildContainerQuery({ all: true, image: 'db:latest' });
    expect(ids(selectContainers(list, q, { imageId: 'sha256:db' }))).toEqual(['bbb333']);
    const viaRef = selectContainers(list, q, { imageId: 'sha256:bb', imageIdOf: new Map([['localhost/tskube/busybox:latest', 'sha256:bb']]) });
    expect(ids(viaRef)).toEqual(['aaa111', 'aaa222']);
    expect(selectContainers(list, q, { imageId: null })).toEqual([]);
  });
  it('keeps the newest N for --latest / --last after filtering', () => {
    expect(ids(selectContainers(list, buildContainerQuery({ latest: true, name: 'web' })))).toEqual(['aaa111']);
    expect(ids(selectContainers(list, buildContainerQuery({ last: '2' })))).toEqual(['aaa111', 'bbb333']);
  });
});

describe('pod query', () => {
  const list = [
    pod('p1', { createdAt: '10', labels: { tier: 'front' } }),
    pod('p2', { createdAt: '30', state: 'SANDBOX_NOTREADY', metadata: { name: 'batch', uid: 'u', namespace: 'jobs', attempt: 0 } }),
    pod('q3', { createdAt: '20' }),
  ];
  it('filters and sorts newest first', () => {
    expect(ids(selectPods(list, buildPodQuery({})))).toEqual(['p2', 'q3', 'p1']);
    expect(ids(selectPods(list, buildPodQuery({ state: 'ready' })))).toEqual(['q3', 'p1']);
    expect(ids(selectPods(list, buildPodQuery({ state: 'NotReady' })))).toEqual(['p2']);
    expect(ids(selectPods(list, buildPodQuery({ id: 'p' })))).toEqual(['p2', 'p1']);
    expect(ids(selectPods(list, buildPodQuery({ name: 'bat' })))).toEqual(['p2']);
    expect(ids(selectPods(list, buildPodQuery({ namespace: '^default$' })))).toEqual(['q3', 'p1']);
    expect(ids(selectPods(list, buildPodQuery({ label: ['tier=front'] })))).toEqual(['p1']);
    expect(ids(selectPods(list, buildPodQuery({ latest: true })))).toEqual(['p2']);
    expect(ids(selectPods(list, buildPodQuery({ last: '2' })))).toEqual(['p2', 'q3']);
  });
  it('rejects a bad state and passes state and labels to the runtime', () => {
    expect(() => buildPodQuery({ state: 'running' })).toThrow(/--state: invalid value "running" \(want ready or notready\)/);
    expect(runtimePodFilter(buildPodQuery({ state: 'ready', label: ['a=b'] }))).toEqual({ labelSelector: { a: 'b' }, state: { state: 'SANDBOX_READY' } });
  });
});

describe('image filters', () => {
  const busybox = image('sha256:bb', ['localhost/tskube/busybox:latest']);
  const pause = image('sha256:pp', ['registry.k8s.io/pause:3.10', 'registry.k8s.io/pause:latest'], ['registry.k8s.io/pause@sha256:dd']);
  const hub = image('sha256:hh', ['docker.io/library/nginx:1.27']);
  const dangling = image('sha256:00', []);

  it('splits repository and tag past a registry port', () => {
    expect(splitRepoTag('localhost:5000/x:1')).toEqual({ repo: 'localhost:5000/x', tag: '1' });
    expect(splitRepoTag('localhost:5000/x')).toEqual({ repo: 'localhost:5000/x' });
  });
  it('matches REPOSITORY[:TAG] and short Docker Hub names', () => {
    expect(matchesReference(busybox, 'localhost/tskube/busybox')).toBe(true);
    expect(matchesReference(busybox, 'localhost/tskube/busybox:latest')).toBe(true);
    expect(matchesReference(busybox, 'localhost/tskube/busybox:1.0')).toBe(false);
    expect(matchesReference(busybox, 'busybox')).toBe(false);
    expect(matchesReference(hub, 'nginx')).toBe(true);
    expect(matchesReference(hub, 'library/nginx:1.27')).toBe(true);
    expect(matchesReference(pause, 'registry.k8s.io/pause@sha256:dd')).toBe(true);
  });
  it('sorts by first tag, as crictl', () => {
    expect(ids(sortImages([pause, busybox, hub]))).toEqual(['sha256:hh', 'sha256:bb', 'sha256:pp']);
  });
  it('applies --filter conditions', () => {
    const all = sortImages([pause, busybox, hub, dangling]);
    expect(ids(applyImageFilters(all, ['dangling=true']))).toEqual(['sha256:00']);
    expect(ids(applyImageFilters(all, ['dangling=false', 'reference=pause']))).toEqual(['sha256:pp']);
    expect(ids(applyImageFilters([hub, busybox, pause], ['since=localhost/tskube/busybox:latest']))).toEqual(['sha256:hh']);
    expect(ids(applyImageFilters([hub, busybox, pause], ['before=bb']))).toEqual(['sha256:pp']);
    expect(() => applyImageFilters(all, ['size=1'])).toThrow(/unknown filter "size=1"/);
    expect(() => applyImageFilters(all, ['dangling=maybe'])).toThrow(/dangling wants true or false/);
  });
});
