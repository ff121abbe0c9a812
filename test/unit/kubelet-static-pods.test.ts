import { readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FileSource } from '../../src/kubelet/pods/sources/file-source.js';
import { parseStaticPod, staticPodName } from '../../src/kubelet/pods/sources/static-pod.js';

const fixtures = join(import.meta.dirname, '../fixtures/static-pods');
const fixture = (name: string) => readFileSync(join(fixtures, name), 'utf8');

function ok(content: string, file = '/etc/kubernetes/manifests/web.yaml', node = 'Node-1'): V1Pod {
  const r = parseStaticPod(content, file, node);
  if (!r.ok) throw new Error(r.error);
  return r.pod;
}
function error(content: string): string {
  const r = parseStaticPod(content, '/m/bad.yaml', 'node-1');
  if (r.ok) throw new Error('expected an error');
  return r.error;
}

describe('static pod manifests', () => {
  it('names the pod <name>-<node> (lower-cased), defaults the namespace and binds it to the node', () => {
    const pod = ok(fixture('web.yaml'));
    expect(pod.metadata?.name).toBe('web-node-1');
    expect(pod.metadata?.namespace).toBe('default');
    expect(pod.spec?.nodeName).toBe('Node-1');
    expect(pod.status?.phase).toBe('Pending');
    expect(pod.metadata?.labels).toEqual({ app: 'web' });
    expect(pod.spec?.containers[0]?.ports?.[0]?.containerPort).toBe(8080);
    expect(staticPodName('etcd', 'CP-1')).toBe('etcd-cp-1');
  });

  it('keeps a namespace the file gives; reads JSON too', () => {
    const pod = ok(fixture('job.json'), '/m/job.json');
    expect(pod.metadata?.namespace).toBe('kube-system');
    expect(pod.spec?.restartPolicy).toBe('Never');
  });

  it('gives the UID upstream gives: a hash of the decoded pod, the node and the path', () => {
    // Printed by upstream's own file source (test/testbed/go/cmd/static-pod-uid) for this file at this path;
    // test/integration/static-pod-uid-parity.test.ts compares many more manifests with it.
    expect(ok(fixture('web.yaml'), '/tmp/pin/etc/kubernetes/manifests/web.yaml', 'node-1').metadata?.uid).toBe('a0924d33f9794ca89ce1b188af190c4b');
    const uid = ok(fixture('web.yaml')).metadata?.uid ?? '';
    expect(uid).toMatch(/^[0-9a-f]{32}$/);
    expect(ok(fixture('web.yaml')).metadata?.uid).toBe(uid);
    // Comments and layout are not the pod; a default spelled out is the same pod.
    expect(ok(`# edited\n${fixture('web.yaml')}`).metadata?.uid).toBe(uid);
    expect(ok(fixture('web.yaml').replace('  containers:', '  restartPolicy: Always\n  containers:')).metadata?.uid).toBe(uid);
    expect(ok(fixture('web.yaml').replace('app: web', 'app: web2')).metadata?.uid).not.toBe(uid);
    expect(ok(fixture('web.yaml'), '/elsewhere/web.yaml').metadata?.uid).not.toBe(uid);
    expect(ok(fixture('web.yaml'), undefined, 'node-2').metadata?.uid).not.toBe(uid);
  });

  it('applies the API defaults upstream applies, so the pod run is the one upstream would run', () => {
    const pod = ok(fixture('web.yaml'));
    expect(pod.spec).toMatchObject({ restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', terminationGracePeriodSeconds: 30, enableServiceLinks: true });
    expect(pod.spec?.containers[0]).toMatchObject({
      imagePullPolicy: 'IfNotPresent',
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
      ports: [{ containerPort: 8080, protocol: 'TCP' }],
    });
  });

  it('sets config.source=file and config.hash=<uid>, and tolerates NoExecute taints', () => {
    const pod = ok(fixture('web.yaml'));
    expect(pod.metadata?.annotations).toMatchObject({
      'kubernetes.io/config.source': 'file',
      'kubernetes.io/config.hash': pod.metadata?.uid,
    });
    expect(pod.spec?.tolerations).toContainEqual(expect.objectContaining({ operator: 'Exists', effect: 'NoExecute' }));
  });

  it('rejects bad manifests naming the field', () => {
    expect(error(fixture('no-image.yaml'))).toBe('spec.containers[0].image: required');
    expect(error('apiVersion: v1\nkind: Pod\nmetadata: {}\nspec: {containers: [{name: c, image: i}]}')).toBe('metadata.name: required');
    expect(error('apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {}')).toBe('spec.containers: required (at least one container)');
    expect(error('apiVersion: v1\nkind: Deployment\nmetadata: {name: x}\nspec: {containers: [{name: c, image: i}]}')).toBe(
      'kind: must be "Pod", not "Deployment"',
    );
    expect(error('apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\nspec: {containers: [{name: c, image: i}]}')).toMatch(
      /^metadata\.name: "Bad_Name" must be/,
    );
    expect(
      error('apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {restartPolicy: Sometimes, containers: [{name: c, image: i}, {name: c, image: j}]}'),
    ).toBe('spec.containers[1].name: "c" is used by another container; spec.restartPolicy: "Sometimes" must be one of Always, OnFailure, Never');
    expect(error('{ not json')).toMatch(/^not JSON/);
    expect(error('a: [b')).toMatch(/^not YAML or JSON/);
    expect(error('')).toBe('file holds no object');
  });

  it('reads only the first document of a YAML file, as upstream does', () => {
    const pod = ok(`${fixture('web.yaml')}---\n${fixture('web.yaml').replace('name: web\n', 'name: other\n')}`);
    expect(pod.metadata?.name).toBe('web-node-1');
  });
});

describe('file source', () => {
  const quiet = pino({ level: 'silent' });

  async function withDir(fn: (dir: string, snapshots: V1Pod[][], source: FileSource) => Promise<void>, logger = quiet) {
    const dir = await mkdtemp(join(tmpdir(), 'tskube-static-'));
    const snapshots: V1Pod[][] = [];
    const source = new FileSource({ path: dir, nodeName: 'n1', onPods: (p) => snapshots.push(p), checkIntervalMs: 60_000, logger });
    try {
      await fn(dir, snapshots, source);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const names = (pods: V1Pod[] | undefined) => (pods ?? []).map((p) => p.metadata?.name).sort();

  it('reads every file but hidden ones and folders, as upstream (skipping what is no pod), and reports only changes', async () => {
    await withDir(async (dir, snapshots, source) => {
      await cp(join(fixtures, 'web.yaml'), join(dir, 'web.yaml'));
      await cp(join(fixtures, 'job.json'), join(dir, 'job.json'));
      await writeFile(join(dir, 'etcd.manifest'), fixture('web.yaml').replace('name: web\n', 'name: etcd\n'));
      await writeFile(join(dir, 'notes.txt'), 'not a pod');
      await cp(join(fixtures, 'web.yaml'), join(dir, '.web.yaml.swp'));
      await mkdir(join(dir, 'sub.yaml'));
      await source.scan();
      await source.ready;
      expect(names(snapshots.at(-1))).toEqual(['etcd-n1', 'job-n1', 'web-n1']);
      await source.scan();
      expect(snapshots).toHaveLength(1);
      await unlink(join(dir, 'job.json'));
      await source.scan();
      expect(names(snapshots.at(-1))).toEqual(['etcd-n1', 'web-n1']);
      // An unchanged file is not parsed again: the same pod object as before.
      const web = (pods: V1Pod[] | undefined) => pods?.find((p) => p.metadata?.name === 'web-n1');
      expect(web(snapshots.at(-1))).toBe(web(snapshots.at(-2)));
    });
  });

  it('skips an invalid file, logging it once with the file and the field; other pods are unaffected', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    await withDir(async (dir, snapshots, source) => {
      await cp(join(fixtures, 'web.yaml'), join(dir, 'web.yaml'));
      await cp(join(fixtures, 'no-image.yaml'), join(dir, 'broken.yaml'));
      await source.scan();
      await source.scan();
      expect(names(snapshots.at(-1))).toEqual(['web-n1']);
      const errors = lines.filter((l) => l.includes('invalid static pod manifest'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(join(dir, 'broken.yaml'));
      expect(errors[0]).toContain('spec.containers[0].image: required');
      // Fixed: it joins the set.
      await writeFile(join(dir, 'broken.yaml'), fixture('no-image.yaml').replace('- name: c', '- name: c\n      image: busybox'));
      await source.scan();
      expect(names(snapshots.at(-1))).toEqual(['broken-n1', 'web-n1']);
    }, logger);
  });

  it('picks up a change through fs.watch without waiting for the poll', async () => {
    await withDir(async (dir, snapshots, source) => {
      const stop = new AbortController();
      const running = source.run(stop.signal);
      try {
        await source.ready;
        expect(snapshots.at(-1)).toEqual([]);
        await cp(join(fixtures, 'web.yaml'), join(dir, 'web.yaml'));
        const deadline = Date.now() + 5000;
        while (names(snapshots.at(-1)).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        expect(names(snapshots.at(-1))).toEqual(['web-n1']);
      } finally {
        stop.abort();
        await running;
      }
    });
  });

  it('treats a missing path as no static pods', async () => {
    const snapshots: V1Pod[][] = [];
    const source = new FileSource({ path: join(tmpdir(), 'tskube-no-such-dir-xyz'), nodeName: 'n1', onPods: (p) => snapshots.push(p), logger: quiet });
    await source.scan();
    expect(snapshots).toEqual([[]]);
  });
});
