// Volumes on the tskube kubelet, joined to the real control plane on the real containerd,
// read from inside the containers (ExecSync) and from the node's mount table: every
// volume type, live updates, the projected service-account token (TokenReview accepts it,
// the kubelet renews it), tmpfs for memory and secrets, fsGroup and runAsUser, subPath
// escapes refused, bad input as FailedMount events, teardown, a kubelet restart, and an
// API server outage that does not stop a crash-looping container from restarting.
//
// The kubelet reaches the API server through a TCP relay the outage test cuts.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuthenticationV1Api, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { mountsUnder, parseMountInfo } from '../../src/kubelet/volumes/mount-info.js';
import { startTestKubelet, type TestKubelet } from '../support/kubelet.js';
import { newClient, testImage } from '../support/runtime.js';
import { type TcpProxy, tcpProxy } from '../support/tcp-proxy.js';
import { eventually } from '../testbed/eventually.js';
import { deleteNamespaceAndWait } from '../support/namespaces.js';

const tb = inject('testbed');
const suffix = randomBytes(3).toString('hex');
const nodeName = `tskube-vol-${suffix}`;
const namespace = `volumes-${suffix}`;
const hostDir = `/tmp/tskube-vol-e2e-${suffix}`;

const kc = new KubeConfig();
kc.loadFromFile(tb.adminKubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const authn = kc.makeApiClient(AuthenticationV1Api);
const cri = newClient();

const sleeper = { name: 'main', image: testImage, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] };
function pod(name: string, spec: Partial<NonNullable<V1Pod['spec']>>): V1Pod {
  return {
    metadata: { name, namespace, labels: { app: name, tier: 'e2e' } },
    spec: { nodeName, terminationGracePeriodSeconds: 1, containers: [sleeper], ...spec },
  };
}
const readPod = (name: string) => core.readNamespacedPod({ name, namespace });
const create = async (p: V1Pod) => (await core.createNamespacedPod({ namespace, body: p })).metadata?.uid ?? '';
const running = (name: string) => eventually(`${name} Running`, async () => ((await readPod(name)).status?.phase === 'Running' ? true : undefined), 90_000);
const eventsOf = async (name: string) =>
  (await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` })).items.map((e) => `${e.reason}: ${e.message}`);
const mountTable = () => parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'));

/** Runs a command in the pod's running container (the first, or the one named). */
async function exec(uid: string, cmd: string[], container?: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const { containers } = await cri.runtime.call('ListContainers', {
    filter: {
      labelSelector: { 'io.kubernetes.pod.uid': uid, ...(container ? { 'io.kubernetes.container.name': container } : {}) },
      state: { state: 'CONTAINER_RUNNING' },
    },
  });
  const id = containers[0]?.id;
  if (!id) throw new Error(`no running container in pod ${uid}`);
  const r = await cri.runtime.call('ExecSync', { containerId: id, cmd, timeout: 10 });
  return { exitCode: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}
const cat = async (uid: string, path: string) => {
  const r = await exec(uid, ['cat', path]);
  if (r.exitCode !== 0) throw new Error(`cat ${path}: ${r.stderr}`);
  return r.stdout;
};

/** The pod's token authenticates as its service account, bound to the pod, for the audiences asked. */
async function review(token: string, audiences?: string[]) {
  const r = await authn.createTokenReview({ body: { spec: { token, ...(audiences ? { audiences } : {}) } } });
  return {
    authenticated: r.status?.authenticated,
    user: r.status?.user?.username,
    pod: r.status?.user?.extra?.['authentication.kubernetes.io/pod-name'],
    error: r.status?.error,
  };
}

describe('kubelet volumes', () => {
  let kubelet: TestKubelet;
  let proxy: TcpProxy;
  let podsDir: string;
  beforeAll(async () => {
    mkdirSync(hostDir, { recursive: true });
    const server = new URL(tb.apiserverUrl);
    proxy = await tcpProxy({ host: server.hostname, port: Number(server.port) });
    const bootstrap = parse(readFileSync(tb.bootstrapKubeconfig, 'utf8')) as { clusters: { cluster: { server: string } }[] };
    for (const c of bootstrap.clusters) c.cluster.server = `https://127.0.0.1:${proxy.port}`;
    const bootstrapPath = join(hostDir, 'bootstrap.kubeconfig');
    writeFileSync(bootstrapPath, stringify(bootstrap));
    kubelet = await startTestKubelet({
      nodeName,
      namespaces: [namespace],
      // Tokens of 600 s renewed after 6 s: a renewal within the test.
      tokenRefreshFraction: 0.01,
      args: ['--bootstrap-kubeconfig', bootstrapPath, '--kubeconfig', join('/tmp', `tskube-vol-${suffix}.kubeconfig`)],
    });
    podsDir = join(kubelet.dir, 'root', 'pods');
    await eventually(`node ${nodeName} Ready`, async () => {
      const ready = (await core.readNode({ name: nodeName }).catch(() => undefined))?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
      return ready === 'True' ? true : undefined;
    });
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    // The ServiceAccount admission plugin needs the namespace's default ServiceAccount.
    await eventually('the default service account', () => core.readNamespacedServiceAccount({ name: 'default', namespace }).then(() => true));
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'app' }, data: { 'app.conf': 'color=blue\n', extra: 'x' } } });
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'db' }, stringData: { password: 's3cret', user: 'admin' } } });
  }, 180_000);

  afterAll(async () => {
    proxy?.restore();
    await deleteNamespaceAndWait(core, namespace, 90_000);
    try {
      await kubelet?.destroy();
    } finally {
      // Even when the kubelet's teardown fails (the runtime gone), the rest goes.
      await core.deleteNode({ name: nodeName }).catch(() => undefined);
      await proxy?.close();
      cri.close();
      rmSync(hostDir, { recursive: true, force: true });
    }
  }, 180_000);

  let allUid = '';
  it('gives a pod every volume type, readable from inside, with the layout, modes and mounts upstream gives', async () => {
    allUid = await create(
      pod('all', {
        hostname: 'web-0',
        subdomain: 'web',
        hostAliases: [{ ip: '10.1.2.3', hostnames: ['db.local', 'db'] }],
        containers: [
          {
            ...sleeper,
            resources: { limits: { memory: '256Mi' } },
            // No divisor given: the API server writes "0", which means 1.
            env: [{ name: 'MEM_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.memory' } } }],
            volumeMounts: [
              { name: 'cache', mountPath: '/cache' },
              { name: 'scratch', mountPath: '/scratch' },
              { name: 'host', mountPath: '/host' },
              { name: 'config', mountPath: '/etc/app' },
              { name: 'creds', mountPath: '/etc/creds' },
              { name: 'info', mountPath: '/etc/podinfo' },
              { name: 'bundle', mountPath: '/etc/bundle' },
              { name: 'config', mountPath: '/etc/single.conf', subPath: 'app.conf' },
            ],
          },
        ],
        volumes: [
          { name: 'cache', emptyDir: {} },
          { name: 'scratch', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } },
          { name: 'host', hostPath: { path: join(hostDir, 'made'), type: 'DirectoryOrCreate' } },
          { name: 'config', configMap: { name: 'app', items: [{ key: 'app.conf', path: 'app.conf', mode: 0o600 }] } },
          { name: 'creds', secret: { secretName: 'db', defaultMode: 0o400 } },
          {
            name: 'info',
            downwardAPI: {
              items: [
                { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
                { path: 'mem_limit_mi', resourceFieldRef: { containerName: 'main', resource: 'limits.memory', divisor: '1Mi' } },
                { path: 'cpu_limit', resourceFieldRef: { containerName: 'main', resource: 'limits.cpu' } },
              ],
            },
          },
          {
            name: 'bundle',
            projected: {
              sources: [
                { configMap: { name: 'app', items: [{ key: 'extra', path: 'extra' }] } },
                { secret: { name: 'db', items: [{ key: 'user', path: 'user' }] } },
                { downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
                { serviceAccountToken: { path: 'vault-token', audience: 'vault', expirationSeconds: 600 } },
              ],
            },
          },
        ],
      }),
    );
    await running('all');
    expect(await cat(allUid, '/etc/app/app.conf')).toBe('color=blue\n');
    expect(await cat(allUid, '/etc/single.conf')).toBe('color=blue\n');
    expect(await cat(allUid, '/etc/creds/password')).toBe('s3cret');
    expect(await cat(allUid, '/etc/podinfo/labels')).toBe('app="all"\ntier="e2e"');
    expect(await cat(allUid, '/etc/podinfo/mem_limit_mi')).toBe('256');
    // No cpu limit: the node's allocatable cores, rounded up (the API server wrote divisor "0").
    expect(Number(await cat(allUid, '/etc/podinfo/cpu_limit'))).toBeGreaterThanOrEqual(1);
    expect((await exec(allUid, ['sh', '-c', 'echo $MEM_LIMIT'])).stdout).toBe(`${256 * 2 ** 20}\n`);
    expect(await cat(allUid, '/etc/bundle/extra')).toBe('x');
    expect(await cat(allUid, '/etc/bundle/user')).toBe('admin');
    expect(await cat(allUid, '/etc/bundle/name')).toBe('all');
    expect(await cat(allUid, '/var/run/secrets/kubernetes.io/serviceaccount/namespace')).toBe(namespace);
    expect(await cat(allUid, '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt')).toContain('BEGIN CERTIFICATE');
    expect((await exec(allUid, ['stat', '-L', '-c', '%a', '/etc/creds/password', '/etc/app/app.conf'])).stdout).toBe('400\n600\n');
    expect((await exec(allUid, ['ls', '-a', '/etc/app'])).stdout.split('\n')).toEqual(expect.arrayContaining(['..data', 'app.conf']));
    // The kubelet's /etc/hosts: the pod's IP with its FQDN, then the aliases.
    const hosts = await cat(allUid, '/etc/hosts');
    expect(hosts).toMatch(/^# Kubernetes-managed hosts file\.\n127\.0\.0\.1\tlocalhost\n/);
    expect(hosts).toMatch(new RegExp(`\\n10\\.88\\.0\\.\\d+\\tweb-0\\.web\\.${namespace}\\.svc\\.cluster\\.local\\tweb-0\\n`));
    expect(hosts.endsWith('\n# Entries added by HostAliases.\n10.1.2.3\tdb.local\tdb\n')).toBe(true);
    // Written from inside, seen on the node where upstream keeps it.
    await exec(allUid, ['sh', '-c', 'echo from-pod > /host/hello && echo cached > /cache/c']);
    expect(readFileSync(join(hostDir, 'made', 'hello'), 'utf8')).toBe('from-pod\n');
    expect(readFileSync(join(podsDir, allUid, 'volumes/kubernetes.io~empty-dir/cache/c'), 'utf8')).toBe('cached\n');
  });

  it('puts memory-backed volumes and secrets on tmpfs (never on disk), sized, and a full tmpfs refuses more', async () => {
    const inside = (await exec(allUid, ['cat', '/proc/mounts'])).stdout.split('\n');
    const at = (path: string) => inside.find((l) => l.split(' ')[1] === path) ?? '';
    expect(at('/scratch')).toMatch(/^tmpfs \/scratch tmpfs rw,.*size=8192k/);
    expect(at('/etc/creds')).toMatch(/^tmpfs \/etc\/creds tmpfs ro,/);
    expect(at('/etc/bundle')).toMatch(/^tmpfs \/etc\/bundle tmpfs ro,/);
    const node = mountTable();
    const vol = (plugin: string, name: string) => node.find((m) => m.mountPoint === join(podsDir, allUid, 'volumes', `kubernetes.io~${plugin}`, name));
    expect(vol('secret', 'creds')?.fsType).toBe('tmpfs');
    expect(vol('empty-dir', 'scratch')?.fsType).toBe('tmpfs');
    expect(vol('configmap', 'config')).toBeUndefined();
    const full = await exec(allUid, ['dd', 'if=/dev/zero', 'of=/scratch/big', 'bs=1M', 'count=16']);
    expect(full.exitCode).not.toBe(0);
    expect(full.stderr).toContain('No space left on device');
    // Read-only where the kubelet writes.
    expect((await exec(allUid, ['sh', '-c', 'echo x > /etc/creds/new'])).stderr).toContain('Read-only file system');
  });

  it('brings a ConfigMap change into the running pod, atomically, within the sync period', async () => {
    const before = (await exec(allUid, ['readlink', '/etc/app/..data'])).stdout;
    await core.patchNamespacedConfigMap({ name: 'app', namespace, body: [{ op: 'replace', path: '/data/app.conf', value: 'color=green\n' }] });
    await eventually('the new content in the pod', async () => ((await cat(allUid, '/etc/app/app.conf')) === 'color=green\n' ? true : undefined), 60_000);
    expect((await exec(allUid, ['readlink', '/etc/app/..data'])).stdout).not.toBe(before);
    // subPath mounts keep what they had, as upstream's do.
    expect(await cat(allUid, '/etc/single.conf')).toBe('color=blue\n');
  });

  it('projects a service-account token that TokenReview accepts for the pod, and renews it', async () => {
    const token = await cat(allUid, '/var/run/secrets/kubernetes.io/serviceaccount/token');
    expect(token.split('.')).toHaveLength(3);
    expect(await review(token)).toMatchObject({ authenticated: true, user: `system:serviceaccount:${namespace}:default`, pod: ['all'] });
    const vault = await cat(allUid, '/etc/bundle/vault-token');
    expect(await review(vault, ['vault'])).toMatchObject({ authenticated: true, pod: ['all'] });
    // Bound to its audience: the API server's own audience does not take it.
    const wrongAudience = await review(vault);
    expect([wrongAudience.authenticated ?? false, wrongAudience.error]).toEqual([false, expect.stringContaining('audience')]);
    // 600 s tokens are renewed after 6 s here (80 % of their life upstream).
    const renewed = await eventually(
      'a renewed token',
      async () => {
        const now = await cat(allUid, '/etc/bundle/vault-token');
        return now !== vault ? now : undefined;
      },
      60_000,
    );
    expect(await review(renewed, ['vault'])).toMatchObject({ authenticated: true, pod: ['all'] });
  });

  it('gives the fsGroup read access to secrets and the single runAsUser the token; without a group, a 0400 secret stays root’s', async () => {
    const secure = { runAsUser: 1000, runAsGroup: 3000 };
    const withGroup = await create(
      pod('owned', {
        securityContext: { ...secure, fsGroup: 2000 },
        containers: [{ ...sleeper, volumeMounts: [{ name: 'creds', mountPath: '/etc/creds' }] }],
        volumes: [{ name: 'creds', secret: { secretName: 'db', defaultMode: 0o400 } }],
      }),
    );
    const noGroup = await create(
      pod('not-owned', {
        securityContext: secure,
        containers: [{ ...sleeper, volumeMounts: [{ name: 'creds', mountPath: '/etc/creds' }] }],
        volumes: [{ name: 'creds', secret: { secretName: 'db', defaultMode: 0o400 } }],
      }),
    );
    await running('owned');
    await running('not-owned');
    expect((await exec(withGroup, ['id', '-G'])).stdout.split(' ').map((g) => g.trim())).toContain('2000');
    expect(await cat(withGroup, '/etc/creds/password')).toBe('s3cret');
    expect((await exec(withGroup, ['stat', '-L', '-c', '%u %g %a', '/var/run/secrets/kubernetes.io/serviceaccount/token'])).stdout).toBe('1000 2000 640\n');
    const denied = await exec(noGroup, ['cat', '/etc/creds/password']);
    expect([denied.exitCode, denied.stderr]).toEqual([1, expect.stringContaining('Permission denied')]);
    expect(await cat(noGroup, '/var/run/secrets/kubernetes.io/serviceaccount/namespace')).toBe(namespace);
    expect((await exec(noGroup, ['stat', '-L', '-c', '%u %a', '/var/run/secrets/kubernetes.io/serviceaccount/token'])).stdout).toBe('1000 600\n');
  });

  it('holds a pod back with FailedMount while its Secret is missing, and starts it when the Secret appears', async () => {
    await create(
      pod('late', {
        containers: [{ ...sleeper, volumeMounts: [{ name: 'creds', mountPath: '/etc/creds' }] }],
        volumes: [{ name: 'creds', secret: { secretName: 'later' } }],
      }),
    );
    await eventually('a FailedMount event', async () =>
      (await eventsOf('late')).includes('FailedMount: MountVolume.SetUp failed for volume "creds" : secret "later" not found') ? true : undefined,
    );
    const waiting = (await readPod('late')).status?.containerStatuses?.[0]?.state?.waiting?.reason;
    expect(waiting).toBe('ContainerCreating');
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'later' }, stringData: { key: 'arrived' } } });
    await running('late');
    expect(await cat((await readPod('late')).metadata?.uid ?? '', '/etc/creds/key')).toBe('arrived');
  });

  it('reports bad input as FailedMount events naming the volume: a missing key, a hostPath of the wrong type, an image volume', async () => {
    await create(
      pod('bad-key', {
        containers: [{ ...sleeper, volumeMounts: [{ name: 'config', mountPath: '/etc/app' }] }],
        volumes: [{ name: 'config', configMap: { name: 'app', items: [{ key: 'nope', path: 'nope' }] } }],
      }),
    );
    await create(
      pod('bad-host', {
        containers: [{ ...sleeper, volumeMounts: [{ name: 'host', mountPath: '/host' }] }],
        volumes: [{ name: 'host', hostPath: { path: '/etc/hostname', type: 'Directory' } }],
      }),
    );
    await create(
      pod('image-vol', {
        containers: [{ ...sleeper, volumeMounts: [{ name: 'img', mountPath: '/img' }] }],
        volumes: [{ name: 'img', image: { reference: testImage, pullPolicy: 'IfNotPresent' } }],
      }),
    );
    const saw = (name: string, message: string) =>
      eventually(`${name}: ${message}`, async () => ((await eventsOf(name)).some((e) => e.startsWith(`FailedMount: ${message}`)) ? true : undefined));
    await saw('bad-key', 'MountVolume.SetUp failed for volume "config" : configmap references non-existent config key: nope');
    await saw('bad-host', 'MountVolume.SetUp failed for volume "host" : hostPath type check failed: /etc/hostname is not a directory');
    await saw(
      'image-vol',
      'MountVolume.SetUp failed for volume "img" : image volumes are not supported: containerd 1.6 does not implement the CRI image mount',
    );
    for (const name of ['bad-key', 'bad-host', 'image-vol'])
      expect((await readPod(name)).status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('ContainerCreating');
    // Other pods go on.
    expect(await cat(allUid, '/etc/creds/password')).toBe('s3cret');
  });

  it('starts a pod whose optional references are missing, fills them in when they appear, and follows label and annotation changes', async () => {
    const uid = await create(
      pod('optional', {
        securityContext: { fsGroup: 4000, fsGroupChangePolicy: 'OnRootMismatch' },
        containers: [
          {
            ...sleeper,
            env: [{ name: 'LATER', valueFrom: { configMapKeyRef: { name: 'opt-later', key: 'k', optional: true } } }],
            volumeMounts: [
              { name: 'later', mountPath: '/etc/later' },
              { name: 'some', mountPath: '/etc/some' },
              { name: 'mixed', mountPath: '/etc/mixed' },
              { name: 'meta', mountPath: '/etc/meta' },
              { name: 'work', mountPath: '/work' },
            ],
          },
        ],
        volumes: [
          { name: 'later', configMap: { name: 'opt-later', optional: true } },
          // A key the Secret lacks is left out when optional.
          {
            name: 'some',
            secret: {
              secretName: 'db',
              optional: true,
              items: [
                { key: 'user', path: 'user' },
                { key: 'absent', path: 'absent' },
              ],
            },
          },
          {
            name: 'mixed',
            projected: { sources: [{ configMap: { name: 'opt-never', optional: true } }, { secret: { name: 'db', items: [{ key: 'user', path: 'u' }] } }] },
          },
          {
            name: 'meta',
            downwardAPI: {
              items: [
                { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
                { path: 'note', fieldRef: { fieldPath: "metadata.annotations['note']" } },
              ],
            },
          },
          { name: 'work', emptyDir: {} },
        ],
      }),
    );
    await running('optional');
    expect((await exec(uid, ['ls', '/etc/later'])).stdout).toBe('');
    expect((await exec(uid, ['ls', '/etc/some'])).stdout).toBe('user\n');
    expect((await exec(uid, ['ls', '/etc/mixed'])).stdout).toBe('u\n');
    expect((await exec(uid, ['env'])).stdout).not.toContain('LATER=');
    // OnRootMismatch still gives a new volume the group: its top directory did not fit.
    expect((await exec(uid, ['stat', '-c', '%g %a', '/work'])).stdout).toBe('4000 2777\n');
    expect((await exec(uid, ['stat', '-L', '-c', '%g', '/etc/some/user'])).stdout).toBe('4000\n');
    // The optional ConfigMap appears: the running pod's volume gets it (the env, set at start, does not).
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'opt-later' }, data: { k: 'arrived' } } });
    await eventually('the late ConfigMap in the pod', async () => ((await exec(uid, ['cat', '/etc/later/k'])).stdout === 'arrived' ? true : undefined), 60_000);
    await core.patchNamespacedPod(
      { name: 'optional', namespace, body: { metadata: { labels: { app: 'optional', tier: 'changed' }, annotations: { note: 'hello' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await eventually(
      'the new labels in the pod',
      async () => ((await cat(uid, '/etc/meta/labels')) === 'app="optional"\ntier="changed"' ? true : undefined),
      60_000,
    );
    expect(await cat(uid, '/etc/meta/note')).toBe('hello');
  });

  it('reads as the node, which the Node authorizer limits to what its pods name: the pods get their Secrets, nothing else is readable', async () => {
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'unrelated' }, stringData: { k: 'v' } } });
    const uid = await create(
      pod('authz', {
        containers: [{ ...sleeper, env: [{ name: 'PW', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }] }],
      }),
    );
    await running('authz');
    expect((await exec(uid, ['sh', '-c', 'echo $PW'])).stdout).toBe('s3cret\n');
    // The kubelet's own credentials: system:node:<name>, in system:nodes.
    const node = new KubeConfig();
    node.loadFromFile(join('/tmp', `tskube-vol-${suffix}.kubeconfig`));
    const asNode = node.makeApiClient(CoreV1Api);
    expect((await asNode.readNamespacedSecret({ name: 'db', namespace })).data?.['password']).toBe(Buffer.from('s3cret').toString('base64'));
    const refused = await asNode.readNamespacedSecret({ name: 'unrelated', namespace }).catch((err: unknown) => err);
    expect(refused).toMatchObject({ code: 403 });
    expect(String((refused as { body?: unknown }).body)).toContain(`no relationship found between node '${nodeName}' and this object`);
    const listed = await asNode.listNamespacedSecret({ namespace }).catch((err: unknown) => err);
    expect(listed).toMatchObject({ code: 403 });
  });

  it('refuses subPaths that leave the volume: a symlink pointing out, and a subPathExpr that expands to ..', async () => {
    await create(
      pod('escape-link', {
        initContainers: [{ ...sleeper, name: 'plant', command: ['ln', '-s', '/etc', '/data/escape'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
        containers: [{ ...sleeper, volumeMounts: [{ name: 'data', mountPath: '/host-etc', subPath: 'escape' }] }],
        volumes: [{ name: 'data', emptyDir: {} }],
      }),
    );
    await create(
      pod('escape-expr', {
        containers: [
          {
            ...sleeper,
            env: [{ name: 'UP', value: '../../..' }],
            volumeMounts: [{ name: 'data', mountPath: '/up', subPathExpr: '$(UP)' }],
          },
        ],
        volumes: [{ name: 'data', emptyDir: {} }],
      }),
    );
    const waitingOf = async (name: string) => (await readPod(name)).status?.containerStatuses?.[0]?.state?.waiting;
    const link = await eventually('escape-link refused', async () => {
      const w = await waitingOf('escape-link');
      return w?.reason === 'CreateContainerConfigError' ? w : undefined;
    });
    expect(link.message).toBe('failed to prepare subPath for volumeMount "data" of container "main"');
    const expr = await eventually('escape-expr refused', async () => {
      const w = await waitingOf('escape-expr');
      return w?.reason === 'CreateContainerConfigError' ? w : undefined;
    });
    expect(expr.message).toBe("unable to provision SubPath `../../..`: must not contain '..'");
    const uid = (await readPod('escape-link')).metadata?.uid ?? '';
    expect(mountsUnder(mountTable(), join(podsDir, uid, 'volume-subpaths'))).toEqual([]);
  });

  it('propagates a mount the node makes under a HostToContainer volume into the running container', async () => {
    const uid = await create(
      pod('propagation', {
        containers: [{ ...sleeper, volumeMounts: [{ name: 'data', mountPath: '/data', mountPropagation: 'HostToContainer' }] }],
        volumes: [{ name: 'data', emptyDir: {} }],
      }),
    );
    await running('propagation');
    const vol = join(podsDir, uid, 'volumes/kubernetes.io~empty-dir/data');
    mkdirSync(join(vol, 'late'));
    // Unmounted with the pod's volumes (or by the kubelet's destroy when the test fails).
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tskube-late', join(vol, 'late')]);
    await eventually('the mount inside the container', async () =>
      (await exec(uid, ['cat', '/proc/mounts'])).stdout.includes('tskube-late /data/late tmpfs') ? true : undefined,
    );
  });

  it('gives a host-network pod the node’s /etc/hosts under the kubelet’s header, with its aliases', async () => {
    const uid = await create(pod('hostnet', { hostNetwork: true, hostAliases: [{ ip: '10.9.9.9', hostnames: ['alias.local'] }] }));
    await running('hostnet');
    expect(await cat(uid, '/etc/hosts')).toBe(
      `# Kubernetes-managed hosts file (host network).\n${readFileSync('/etc/hosts', 'utf8')}\n# Entries added by HostAliases.\n10.9.9.9\talias.local\n`,
    );
  });

  it('keeps a running pod’s volumes and contents across a kubelet restart, and keeps them up to date after', async () => {
    const podDir = join(podsDir, allUid);
    const before = mountTable().filter((m) => m.mountPoint.startsWith(`${podDir}/`));
    expect(before.length).toBeGreaterThanOrEqual(4);
    await kubelet.stop();
    kubelet.start();
    await core.patchNamespacedConfigMap({ name: 'app', namespace, body: [{ op: 'replace', path: '/data/app.conf', value: 'color=red\n' }] });
    // The restarted kubelet has synced the pod once the change is in.
    await eventually('the change after the restart', async () => ((await cat(allUid, '/etc/app/app.conf')) === 'color=red\n' ? true : undefined), 90_000);
    const after = mountTable().filter((m) => m.mountPoint.startsWith(`${podDir}/`));
    expect(after.map((m) => m.mountPoint).sort()).toEqual(before.map((m) => m.mountPoint).sort());
    expect(await cat(allUid, '/etc/creds/password')).toBe('s3cret');
    expect((await readPod('all')).status?.containerStatuses?.[0]?.restartCount).toBe(0);
  });

  it('restarts a crash-looping container with env from a ConfigMap while the API server is unreachable', async () => {
    const uid = await create(
      pod('crashy', {
        containers: [
          {
            ...sleeper,
            command: ['sh', '-c', 'echo $COLOR; sleep 1; exit 3'],
            env: [{ name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'app', key: 'app.conf' } } }],
            volumeMounts: [{ name: 'config', mountPath: '/etc/app' }],
          },
        ],
        volumes: [{ name: 'config', configMap: { name: 'app' } }],
      }),
    );
    const attempts = async () => {
      const { containers } = await cri.runtime.call('ListContainers', { filter: { labelSelector: { 'io.kubernetes.pod.uid': uid } } });
      return Math.max(-1, ...containers.map((c) => c.metadata?.attempt ?? 0));
    };
    await eventually('a first restart', async () => ((await attempts()) >= 1 ? true : undefined), 60_000);
    proxy.cut();
    try {
      const cutAt = await attempts();
      await eventually('a restart during the outage', async () => ((await attempts()) > cutAt ? true : undefined), 90_000);
    } finally {
      proxy.restore();
    }
  });

  it('leaves nothing mounted and no directory once a pod is deleted', async () => {
    const podDir = join(podsDir, allUid);
    expect(mountsUnder(mountTable(), podDir).length).toBeGreaterThan(0);
    await core.deleteNamespacedPod({ name: 'all', namespace });
    await eventually('the pod gone from the API', async () => ((await readPod('all').catch(() => undefined)) === undefined ? true : undefined), 60_000);
    await eventually('the pod directory gone', () => (existsSync(podDir) ? undefined : true), 30_000);
    expect(mountsUnder(mountTable(), podDir)).toEqual([]);
  });
});
