import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { mirrorPodFor, planMirrorPods } from '../../src/kubelet/pods/mirror-pods.js';
import { isMirrorPod, isStaticPod } from '../../src/kubelet/pods/pod-source.js';
import { PodSourceMerger } from '../../src/kubelet/pods/sources/pod-source-merger.js';

const staticPod = (name: string, hash: string): V1Pod => ({
  metadata: {
    name,
    namespace: 'default',
    uid: hash,
    annotations: { 'kubernetes.io/config.source': 'file', 'kubernetes.io/config.hash': hash },
    labels: { app: name },
  },
  spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i' }] },
  status: { phase: 'Pending' },
});
const mirror = (name: string, hash: string, extra: Partial<NonNullable<V1Pod['metadata']>> = {}): V1Pod => ({
  metadata: { name, namespace: 'default', uid: `api-${name}`, resourceVersion: '5', annotations: { 'kubernetes.io/config.mirror': hash }, ...extra },
  spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i' }] },
});
const apiPod = (name: string, rv = '1'): V1Pod => ({
  metadata: { name, namespace: 'default', uid: `api-${name}`, resourceVersion: rv },
  spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i' }] },
});
const describeActions = (actions: ReturnType<typeof planMirrorPods>) =>
  actions.map((a) => (a.type === 'create' ? `create ${a.staticPod.metadata?.name}` : `delete ${a.mirrorPod.metadata?.name} (${a.reason})`));

describe('planMirrorPods', () => {
  it('creates a missing mirror, keeps a current one', () => {
    expect(describeActions(planMirrorPods([staticPod('a-n1', 'h1'), staticPod('b-n1', 'h2')], [mirror('b-n1', 'h2')]))).toEqual(['create a-n1']);
  });

  it('replaces a mirror whose hash differs: delete then create', () => {
    expect(describeActions(planMirrorPods([staticPod('a-n1', 'new')], [mirror('a-n1', 'old')]))).toEqual(['delete a-n1 (outdated)', 'create a-n1']);
  });

  it('hurries a mirror that is being deleted and creates it again only once it is gone', () => {
    const terminating = mirror('a-n1', 'h1', { deletionTimestamp: new Date() });
    expect(describeActions(planMirrorPods([staticPod('a-n1', 'h1')], [terminating]))).toEqual(['delete a-n1 (terminating)']);
  });

  it('deletes mirrors whose static pod is gone', () => {
    expect(describeActions(planMirrorPods([], [mirror('a-n1', 'h1')]))).toEqual(['delete a-n1 (orphaned)']);
  });

  it('matches by name and namespace', () => {
    const other = { ...mirror('a-n1', 'h1'), metadata: { ...mirror('a-n1', 'h1').metadata, namespace: 'kube-system' } };
    expect(describeActions(planMirrorPods([staticPod('a-n1', 'h1')], [other]))).toEqual(['create a-n1', 'delete a-n1 (orphaned)']);
  });
});

describe('mirrorPodFor', () => {
  it('copies the spec, adds config.mirror = hash and an owner reference to the Node, and drops uid and status', () => {
    const m = mirrorPodFor(staticPod('a-n1', 'h1'), { name: 'n1', uid: 'node-uid' });
    expect(m.metadata?.annotations).toEqual({
      'kubernetes.io/config.source': 'file',
      'kubernetes.io/config.hash': 'h1',
      'kubernetes.io/config.mirror': 'h1',
    });
    expect(m.metadata?.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'node-uid', controller: true }]);
    expect(m.metadata?.uid).toBeUndefined();
    expect(m.status).toBeUndefined();
    expect(m.spec).toEqual(staticPod('a-n1', 'h1').spec);
    expect(m.metadata?.labels).toEqual({ app: 'a-n1' });
  });
});

describe('PodSourceMerger', () => {
  const now = () => new Date('2026-01-01T00:00:00.000Z');

  it('hands on each source set, stamps config.source and config.seen, and keeps mirror pods apart', () => {
    const config = new PodSourceMerger({ now });
    const seen: [string, string[]][] = [];
    config.subscribe((source, pods) => seen.push([source, pods.map((p) => p.metadata?.name ?? '')]));
    config.set('api', [apiPod('web'), mirror('a-n1', 'h1')]);
    config.set('file', [staticPod('a-n1', 'h1')]);
    expect(seen).toEqual([
      ['api', ['web']],
      ['file', ['a-n1']],
    ]);
    const web = config.pods('api')[0]!;
    expect(web.metadata?.annotations).toEqual({ 'kubernetes.io/config.source': 'api', 'kubernetes.io/config.seen': '2026-01-01T00:00:00.000Z' });
    expect(config.mirrorPods().map((p) => p.metadata?.name)).toEqual(['a-n1']);
    expect(config.staticPods().map((p) => p.metadata?.name)).toEqual(['a-n1']);
    expect(config.hasSeen('api') && config.hasSeen('file')).toBe(true);
    expect(isMirrorPod(mirror('x', 'h'))).toBe(true);
    expect(isStaticPod(web)).toBe(false);
  });

  it('does not change the objects the source handed in (the reflector store shares them)', () => {
    const config = new PodSourceMerger({ now });
    const pod = apiPod('web');
    config.set('api', [pod]);
    expect(pod.metadata?.annotations).toBeUndefined();
  });

  it('stays quiet when a set did not change; a mirror-only change reaches onChange but not the workers', () => {
    const config = new PodSourceMerger({ now });
    let sets = 0;
    let changes = 0;
    config.subscribe(() => sets++);
    config.onChange(() => changes++);
    config.set('api', [apiPod('web')]);
    config.set('api', [apiPod('web')]);
    expect([sets, changes]).toEqual([1, 1]);
    config.set('api', [apiPod('web'), mirror('a-n1', 'h1')]);
    expect([sets, changes]).toEqual([1, 2]);
    config.set('api', [apiPod('web', '2'), mirror('a-n1', 'h1')]);
    expect([sets, changes]).toEqual([2, 3]);
  });

  it('keeps the first-seen time of a pod across updates', () => {
    let t = 0;
    const config = new PodSourceMerger({ now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, t++)) });
    config.set('api', [apiPod('web', '1')]);
    config.set('api', [apiPod('web', '2')]);
    expect(config.pods('api')[0]?.metadata?.annotations?.['kubernetes.io/config.seen']).toBe('2026-01-01T00:00:00.000Z');
  });
});
