// The volume manager against the real kernel: tmpfs mounts with their size, bind mounts
// for subPaths, fsGroup ownership on real files, a restart that remounts nothing, and a
// teardown that leaves nothing in the mount table. Root, no containerd, no kubelet: all
// in a temporary root dir, unmounted and removed even when a test fails.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1ConfigMap, V1Pod, V1Secret } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mountsUnder, parseMountInfo } from '../../src/kubelet/volumes/mount-info.js';
import { systemMounter } from '../../src/kubelet/volumes/mounter.js';
import { ServiceAccountTokens } from '../../src/kubelet/volumes/service-account-tokens.js';
import { safeOpen } from '../../src/kubelet/volumes/subpath.js';
import { VolumeManager } from '../../src/kubelet/volumes/volume-manager.js';
import { unmountUnder } from '../support/mounts.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const mountTable = () => parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'));

describe('volumes on real mounts', () => {
  let dir: string;
  let rootDir: string;
  const configMaps = new Map<string, V1ConfigMap>();
  const secrets = new Map<string, V1Secret>();
  const manager = () =>
    new VolumeManager({
      rootDir,
      mounter: systemMounter,
      objects: { configMap: (_ns, n) => configMaps.get(n), secret: (_ns, n) => secrets.get(n) },
      tokens: new ServiceAccountTokens({ request: async () => ({ token: 'jwt', expiresAt: Date.now() + 3600_000, expirationSeconds: 3600 }) }),
      allocatable: () => ({ cpu: '2', memory: String(2 ** 30) }),
      clusterDomain: 'cluster.local',
      log: pino({ level: 'silent' }),
    });
  const pod = (uid: string, spec: Partial<NonNullable<V1Pod['spec']>>): V1Pod => ({
    metadata: { name: 'web', namespace: 'default', uid },
    spec: { containers: [{ name: 'app' }], ...spec },
  });
  const vol = (uid: string, plugin: string, name: string) => join(rootDir, 'pods', uid, 'volumes', `kubernetes.io~${plugin}`, name);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tskube-volumes-'));
    rootDir = join(dir, 'root');
    configMaps.clear();
    secrets.clear();
    configMaps.set('app', { metadata: { name: 'app' }, data: { 'app.conf': 'x=1\n', 'other.conf': 'y' } });
    secrets.set('db', { metadata: { name: 'db' }, data: { password: b64('s3cret') } });
  });
  afterEach(() => {
    unmountUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it('puts memory-backed volumes and secrets on a tmpfs of the right size, configMaps on disk, and a full tmpfs refuses writes', async () => {
    const p = pod('u-tmpfs', {
      volumes: [
        { name: 'scratch', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
        { name: 'creds', secret: { secretName: 'db' } },
        { name: 'config', configMap: { name: 'app' } },
      ],
    });
    expect(await manager().setUp(p)).toEqual({ ready: true, failures: [] });
    const table = mountTable();
    const at = (path: string) => table.find((m) => m.mountPoint === path);
    expect(at(vol('u-tmpfs', 'empty-dir', 'scratch'))).toMatchObject({ fsType: 'tmpfs', superOptions: expect.stringContaining('size=1024k') });
    expect(at(vol('u-tmpfs', 'secret', 'creds'))).toMatchObject({ fsType: 'tmpfs' });
    expect(at(vol('u-tmpfs', 'configmap', 'config'))).toBeUndefined();
    expect(readFileSync(join(vol('u-tmpfs', 'secret', 'creds'), 'password'), 'utf8')).toBe('s3cret');
    expect(() => writeFileSync(join(vol('u-tmpfs', 'empty-dir', 'scratch'), 'big'), Buffer.alloc(2 * 2 ** 20))).toThrow(/ENOSPC/);
  });

  it('binds a subPath safely: a file of a configMap works, a symlink out of the volume is refused and nothing is mounted', async () => {
    const p = pod('u-sub', {
      volumes: [
        { name: 'config', configMap: { name: 'app' } },
        { name: 'data', emptyDir: {} },
      ],
    });
    const m = manager();
    await m.setUp(p);
    const data = vol('u-sub', 'empty-dir', 'data');
    symlinkSync('/etc', join(data, 'escape'));
    mkdirSync(join(data, 'inside'));
    writeFileSync(join(data, 'inside', 'f'), 'ok');
    symlinkSync('inside', join(data, 'link-in'));
    const mounts = await m.containerMounts(
      p,
      {
        name: 'app',
        volumeMounts: [
          { name: 'config', mountPath: '/etc/app.conf', subPath: 'app.conf' },
          { name: 'data', mountPath: '/in', subPath: 'link-in' },
          { name: 'data', mountPath: '/new', subPath: 'made/by/kubelet' },
        ],
      },
      [],
      ['10.88.0.9'],
    );
    const subpaths = join(rootDir, 'pods', 'u-sub', 'volume-subpaths');
    expect(mounts.map((x) => [x.containerPath, x.hostPath, x.readonly])).toEqual([
      ['/etc/app.conf', join(subpaths, 'config/app/0'), true],
      ['/in', join(subpaths, 'data/app/1'), false],
      ['/new', join(subpaths, 'data/app/2'), false],
      ['/etc/hosts', join(rootDir, 'pods/u-sub/etc-hosts'), false],
    ]);
    expect(readFileSync(join(subpaths, 'config/app/0'), 'utf8')).toBe('x=1\n');
    expect(readFileSync(join(subpaths, 'data/app/1/f'), 'utf8')).toBe('ok');
    // A missing subPath directory is made with the volume's own permissions (0777 for an emptyDir).
    expect(statSync(join(data, 'made/by/kubelet')).mode & 0o777).toBe(0o777);

    const evil = { name: 'evil', volumeMounts: [{ name: 'data', mountPath: '/host-etc', subPath: 'escape' }] };
    await expect(m.containerMounts(p, evil, [], [])).rejects.toThrow('failed to prepare subPath for volumeMount "data" of container "evil"');
    expect(mountsUnder(mountTable(), join(subpaths, 'data/evil'))).toEqual([]);
    // A directory swapped for a symlink after the check (the race a container could try) is found on the second walk.
    mkdirSync(join(data, 'swapped'));
    const resolved = join(data, 'swapped');
    rmSync(resolved, { recursive: true });
    symlinkSync('/etc', resolved);
    await expect(safeOpen(resolved, data)).rejects.toThrow(`unexpected symlink found ${resolved}`);
    // A bind of a subPath is made once: a container restart reuses it.
    await m.containerMounts(p, { name: 'app', volumeMounts: [{ name: 'config', mountPath: '/etc/app.conf', subPath: 'app.conf' }] }, [], []);
    expect(mountsUnder(mountTable(), join(subpaths, 'config'))).toEqual([join(subpaths, 'config/app/0')]);
  });

  it('gives files the fsGroup (read-only volumes get group read), and a single runAsUser owns the token', async () => {
    const p = pod('u-own', {
      securityContext: { runAsUser: 1000, fsGroup: 2000 },
      volumes: [
        { name: 'creds', secret: { secretName: 'db', defaultMode: 0o400 } },
        { name: 'scratch', emptyDir: {} },
        { name: 'api', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } },
      ],
    });
    await manager().setUp(p);
    const password = statSync(join(vol('u-own', 'secret', 'creds'), 'password'));
    expect([password.gid, (password.mode & 0o777).toString(8)]).toEqual([2000, '440']);
    const scratch = statSync(vol('u-own', 'empty-dir', 'scratch'));
    expect([scratch.gid, (scratch.mode & 0o7777).toString(8)]).toEqual([2000, '2777']);
    const token = statSync(join(vol('u-own', 'projected', 'api'), 'token'));
    expect([token.uid, token.gid, (token.mode & 0o777).toString(8)]).toEqual([1000, 2000, '640']);
  });

  it('reads its state back after a restart: nothing mounted again, content kept; teardown leaves no mount and no directory', async () => {
    const p = pod('u-restart', {
      volumes: [
        { name: 'creds', secret: { secretName: 'db' } },
        { name: 'scratch', emptyDir: { medium: 'Memory' } },
      ],
    });
    await manager().setUp(p);
    writeFileSync(join(vol('u-restart', 'empty-dir', 'scratch'), 'state'), 'kept');
    const before = mountsUnder(mountTable(), join(rootDir, 'pods', 'u-restart'));
    expect(before).toHaveLength(2);

    const restarted = manager();
    expect(await restarted.setUp(p)).toEqual({ ready: true, failures: [] });
    expect(mountsUnder(mountTable(), join(rootDir, 'pods', 'u-restart'))).toEqual(before);
    expect(readFileSync(join(vol('u-restart', 'empty-dir', 'scratch'), 'state'), 'utf8')).toBe('kept');

    await restarted.removePod('u-restart');
    expect(mountsUnder(mountTable(), join(rootDir, 'pods', 'u-restart'))).toEqual([]);
    expect(() => statSync(join(rootDir, 'pods', 'u-restart'))).toThrow(/ENOENT/);
  });

  it('checks hostPath types: makes DirectoryOrCreate, refuses a file where a directory must be', async () => {
    const hostDir = join(dir, 'host');
    writeFileSync(join(dir, 'a-file'), '');
    const p = pod('u-host', {
      volumes: [
        { name: 'made', hostPath: { path: hostDir, type: 'DirectoryOrCreate' } },
        { name: 'wrong', hostPath: { path: join(dir, 'a-file'), type: 'Directory' } },
      ],
    });
    expect(await manager().setUp(p)).toEqual({
      ready: false,
      failures: [{ volume: 'wrong', message: `hostPath type check failed: ${join(dir, 'a-file')} is not a directory` }],
    });
    expect(statSync(hostDir).isDirectory()).toBe(true);
    // Nothing under the pod directory got mounted for a hostPath.
    expect(execFileSync('findmnt', ['-rn', '-o', 'TARGET']).toString()).not.toContain(join(rootDir, 'pods', 'u-host'));
  });
});
