import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { planContainerMounts } from '../../src/kubelet/volumes/container-mounts.js';
import { hostNetworkHostsFile, managedHostsFile } from '../../src/kubelet/volumes/etc-hosts.js';
import { hostPathMismatch } from '../../src/kubelet/volumes/host-path.js';
import { mountsUnder, parseMountInfo } from '../../src/kubelet/volumes/mount-info.js';
import { fsGroupMode, rootFits } from '../../src/kubelet/volumes/ownership.js';
import { memoryVolumeSize, planVolume, planVolumes, podFsUser, type VolumePlan } from '../../src/kubelet/volumes/plan-volumes.js';
import { tokenNeedsRefresh } from '../../src/kubelet/volumes/service-account-tokens.js';
import { pathWithin } from '../../src/kubelet/volumes/subpath.js';

const uid = '11111111-2222-3333-4444-555555555555';
const ctx = { rootDir: '/var/lib/kubelet', allocatableMemoryBytes: 8 * 2 ** 30 };
const vdir = (plugin: string, name: string) => `/var/lib/kubelet/pods/${uid}/volumes/kubernetes.io~${plugin}/${name}`;

function pod(spec: Partial<NonNullable<V1Pod['spec']>> = {}): V1Pod {
  return { metadata: { name: 'web', namespace: 'default', uid }, spec: { containers: [{ name: 'app' }], ...spec } };
}

describe('planVolume', () => {
  it('places each plugin where upstream does, tmpfs for everything that may hold a secret', () => {
    const volumes: V1Volume[] = [
      { name: 'cache', emptyDir: {} },
      { name: 'scratch', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
      { name: 'logs', hostPath: { path: '/var/log', type: 'Directory' } },
      { name: 'config', configMap: { name: 'app' } },
      { name: 'creds', secret: { secretName: 'db' } },
      { name: 'info', downwardAPI: { items: [] } },
      { name: 'kube-api-access-x', projected: { sources: [] } },
    ];
    const plans = planVolumes(pod({ volumes }), ctx);
    const size = 8 * 2 ** 30;
    expect(plans).toEqual([
      { kind: 'empty-dir', name: 'cache', dir: vdir('empty-dir', 'cache'), memory: false },
      { kind: 'empty-dir', name: 'scratch', dir: vdir('empty-dir', 'scratch'), memory: true, sizeBytes: 64 * 2 ** 20 },
      { kind: 'host-path', name: 'logs', path: '/var/log', type: 'Directory' },
      { kind: 'projection', plugin: 'configmap', name: 'config', dir: vdir('configmap', 'config'), tmpfs: false },
      { kind: 'projection', plugin: 'secret', name: 'creds', dir: vdir('secret', 'creds'), tmpfs: true, sizeBytes: size },
      { kind: 'projection', plugin: 'downward-api', name: 'info', dir: vdir('downward-api', 'info'), tmpfs: true, sizeBytes: size },
      { kind: 'projection', plugin: 'projected', name: 'kube-api-access-x', dir: vdir('projected', 'kube-api-access-x'), tmpfs: true, sizeBytes: size },
    ]);
  });

  it('sizes a memory-backed volume by allocatable, the pod memory limit and sizeLimit, the smallest winning', () => {
    const limited = pod({ containers: [{ name: 'a', resources: { limits: { memory: '256Mi', cpu: '1' } } }] });
    expect(memoryVolumeSize(pod(), 2 ** 30)).toBe(2 ** 30);
    expect(memoryVolumeSize(limited, 2 ** 30)).toBe(256 * 2 ** 20);
    expect(memoryVolumeSize(limited, 2 ** 30, '64Mi')).toBe(64 * 2 ** 20);
    // A sizeLimit above what the pod may use does not raise it.
    expect(memoryVolumeSize(limited, 2 ** 30, '1Gi')).toBe(256 * 2 ** 20);
    // One container without a limit: the pod has none (Burstable), allocatable bounds it.
    const partly = pod({ containers: [{ name: 'a', resources: { limits: { memory: '256Mi' } } }, { name: 'b' }] });
    expect(memoryVolumeSize(partly, 2 ** 30)).toBe(2 ** 30);
  });

  it('refuses what it cannot honour with a message naming the field or the plugin', () => {
    const refused = (v: V1Volume) => {
      const p = planVolume(pod({ volumes: [v] }), v, ctx);
      return p.kind === 'refused' ? p.message : `not refused: ${p.kind}`;
    };
    expect(refused({ name: 'img', image: { reference: 'busybox' } })).toMatch(
      /^image volumes are not supported: containerd 1\.6 does not implement the CRI image mount/,
    );
    expect(refused({ name: 'data', persistentVolumeClaim: { claimName: 'data' } })).toBe('persistentVolumeClaim volumes are not supported by this kubelet');
    expect(refused({ name: 'h', hostPath: { path: '/x', type: 'Folder' } })).toBe('hostPath.type: "Folder" is an invalid volume type');
    expect(refused({ name: 'h', hostPath: { path: 'relative' } })).toBe('hostPath.path: "relative" must be an absolute path');
    expect(refused({ name: 'e', emptyDir: { medium: 'HugePages-2Mi' } })).toMatch(/hugepage-backed volumes are not supported/);
    expect(refused({ name: 'e', emptyDir: { medium: 'Memory', sizeLimit: 'lots' } })).toBe(
      'emptyDir.sizeLimit: quantity "lots" is not valid: want a number with an optional suffix (100m, 1.5, 128Mi, 1G, 1e3)',
    );
    expect(refused({ name: 'nothing' })).toBe('no volume source is set');
  });
});

describe('podFsUser', () => {
  it('is the one runAsUser every container runs as, from its own context or the pod', () => {
    expect(podFsUser(pod({ securityContext: { runAsUser: 1000 } }))).toBe(1000);
    expect(
      podFsUser(pod({ containers: [{ name: 'a', securityContext: { runAsUser: 5 } }], initContainers: [{ name: 'i', securityContext: { runAsUser: 5 } }] })),
    ).toBe(5);
    expect(
      podFsUser(
        pod({
          containers: [
            { name: 'a', securityContext: { runAsUser: 5 } },
            { name: 'b', securityContext: { runAsUser: 6 } },
          ],
        }),
      ),
    ).toBeUndefined();
    expect(podFsUser(pod({ containers: [{ name: 'a', securityContext: { runAsUser: 5 } }, { name: 'b' }] }))).toBeUndefined();
    expect(podFsUser(pod())).toBeUndefined();
  });
});

describe('planContainerMounts', () => {
  const volumes: V1Volume[] = [
    { name: 'cache', emptyDir: {} },
    { name: 'config', configMap: { name: 'app' } },
    { name: 'logs', hostPath: { path: '/var/log/app' } },
    { name: 'img', image: { reference: 'x' } },
  ];
  const p = pod({ volumes });
  const plans = new Map<string, VolumePlan>(planVolumes(p, ctx).map((v) => [v.name, v]));
  const plan = (c: Partial<V1Container>, podIPs = ['10.88.0.5'], pd = p) =>
    planContainerMounts(pd, { name: 'app', ...c }, [{ name: 'POD', value: 'web-0' }], plans, podIPs);

  it('mounts each volume, read-only where the kubelet writes it, and /etc/hosts', () => {
    expect(
      plan({
        volumeMounts: [
          { name: 'cache', mountPath: '/cache' },
          { name: 'config', mountPath: '/etc/app', readOnly: false },
          { name: 'logs', mountPath: '/logs', readOnly: true, mountPropagation: 'HostToContainer' },
          { name: 'cache', mountPath: '/per-pod', subPathExpr: 'data/$(POD)' },
        ],
      }),
    ).toEqual({
      ok: true,
      etcHosts: true,
      mounts: [
        {
          volume: 'cache',
          index: 0,
          containerPath: '/cache',
          volumePath: vdir('empty-dir', 'cache'),
          readOnly: false,
          propagation: 'PROPAGATION_PRIVATE',
          selinuxRelabel: true,
        },
        {
          volume: 'config',
          index: 1,
          containerPath: '/etc/app',
          volumePath: vdir('configmap', 'config'),
          readOnly: true,
          propagation: 'PROPAGATION_PRIVATE',
          selinuxRelabel: true,
        },
        {
          volume: 'logs',
          index: 2,
          containerPath: '/logs',
          volumePath: '/var/log/app',
          readOnly: true,
          propagation: 'PROPAGATION_HOST_TO_CONTAINER',
          selinuxRelabel: false,
        },
        {
          volume: 'cache',
          index: 3,
          containerPath: '/per-pod',
          volumePath: vdir('empty-dir', 'cache'),
          subPath: 'data/web-0',
          readOnly: false,
          propagation: 'PROPAGATION_PRIVATE',
          selinuxRelabel: true,
        },
      ],
    });
  });

  it('leaves /etc/hosts to a container that mounts its own, and out of a pod without an IP', () => {
    expect(plan({ volumeMounts: [{ name: 'cache', mountPath: '/etc/hosts', subPath: 'hosts' }] })).toMatchObject({ ok: true, etcHosts: false });
    expect(plan({}, [])).toMatchObject({ ok: true, etcHosts: false });
    expect(plan({}, [], pod({ volumes, hostNetwork: true }))).toMatchObject({ ok: true, etcHosts: true });
  });

  it('refuses escaping subPaths, unknown volumes, unprivileged Bidirectional and recursive read-only with upstream words', () => {
    const failure = (c: Partial<V1Container>) => {
      const r = plan(c);
      return r.ok ? 'ok' : r.message;
    };
    expect(failure({ volumeMounts: [{ name: 'cache', mountPath: '/x', subPath: '../../etc' }] })).toBe(
      "unable to provision SubPath `../../etc`: must not contain '..'",
    );
    expect(failure({ volumeMounts: [{ name: 'cache', mountPath: '/x', subPath: '/etc' }] })).toBe('error SubPath `/etc` must not be an absolute path');
    expect(failure({ volumeMounts: [{ name: 'cache', mountPath: '/x', subPathExpr: '$(NOPE)/a' }] })).toBe('missing value for NOPE');
    expect(failure({ volumeMounts: [{ name: 'gone', mountPath: '/x' }] })).toBe('cannot find volume "gone" to mount into container "app"');
    expect(failure({ volumeMounts: [{ name: 'img', mountPath: '/x' }] })).toMatch(/^volume "img": image volumes are not supported/);
    expect(failure({ volumeMounts: [{ name: 'cache', mountPath: '/x', mountPropagation: 'Bidirectional' }] })).toBe(
      'Bidirectional mount propagation is available only to privileged containers',
    );
    expect(
      plan({ securityContext: { privileged: true }, volumeMounts: [{ name: 'cache', mountPath: '/x', mountPropagation: 'Bidirectional' }] }),
    ).toMatchObject({
      ok: true,
      mounts: [{ propagation: 'PROPAGATION_BIDIRECTIONAL' }],
    });
    expect(failure({ volumeMounts: [{ name: 'cache', mountPath: '/x', readOnly: true, recursiveReadOnly: 'Enabled' }] })).toMatch(
      /recursive read-only mounts are not supported by the runtime$/,
    );
  });
});

describe('/etc/hosts', () => {
  it('is upstream text: localhost lines, the pod IPs with hostname and FQDN, then the aliases', () => {
    expect(managedHostsFile(['10.88.0.5', 'fd00::5'], 'web-0', 'web.default.svc.cluster.local', [{ ip: '10.1.2.3', hostnames: ['foo', 'foo.local'] }])).toBe(
      [
        '# Kubernetes-managed hosts file.',
        '127.0.0.1\tlocalhost',
        '::1\tlocalhost ip6-localhost ip6-loopback',
        'fe00::0\tip6-localnet',
        'fe00::0\tip6-mcastprefix',
        'fe00::1\tip6-allnodes',
        'fe00::2\tip6-allrouters',
        '10.88.0.5\tweb-0.web.default.svc.cluster.local\tweb-0',
        'fd00::5\tweb-0.web.default.svc.cluster.local\tweb-0',
        '',
        '# Entries added by HostAliases.',
        '10.1.2.3\tfoo\tfoo.local',
        '',
      ].join('\n'),
    );
    expect(managedHostsFile(['10.88.0.5'], 'web', '')).toMatch(/\n10\.88\.0\.5\tweb\n$/);
    expect(hostNetworkHostsFile('127.0.0.1 localhost\n', [{ ip: '10.0.0.1', hostnames: ['a'] }])).toBe(
      '# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n\n# Entries added by HostAliases.\n10.0.0.1\ta\n',
    );
  });
});

describe('small rules', () => {
  it('a path is within a volume when it is the volume or below it, an atomic writer version directory included', () => {
    expect(pathWithin('/v/..2026_01_02_03_04_05.abc/key', '/v')).toBe(true);
    expect(pathWithin('/v', '/v')).toBe(true);
    expect(pathWithin('/v/../etc', '/v')).toBe(false);
    expect(pathWithin('/etc', '/v')).toBe(false);
    expect(pathWithin('/vx', '/v')).toBe(false);
  });

  it('hostPath types: what does not fit is named as upstream names it', () => {
    expect(hostPathMismatch('/x', 'Directory', 'file')).toBe('hostPath type check failed: /x is not a directory');
    expect(hostPathMismatch('/x', 'FileOrCreate', 'directory')).toBe('hostPath type check failed: /x is not a file');
    expect(hostPathMismatch('/x', 'Socket', 'file')).toBe('hostPath type check failed: /x is not a socket file');
    expect(hostPathMismatch('/x', 'CharDevice', 'block')).toBe('hostPath type check failed: /x is not a character device');
    expect(hostPathMismatch('/x', 'BlockDevice', 'missing')).toBe('hostPath type check failed: /x is not a block device');
    expect(hostPathMismatch('/x', 'Directory', 'directory')).toBeUndefined();
    expect(hostPathMismatch('/x', '', 'missing')).toBeUndefined();
  });

  it('fsGroup modes: group read (and write) on files, search and setgid on directories', () => {
    expect(fsGroupMode(0o644, false, true).toString(8)).toBe('644');
    expect(fsGroupMode(0o400, false, true).toString(8)).toBe('440');
    expect(fsGroupMode(0o600, false, false).toString(8)).toBe('660');
    expect(fsGroupMode(0o755, true, false).toString(8)).toBe('2775');
    expect(rootFits({ gid: 2000, mode: 0o2775, isDir: true }, 2000, false)).toBe(true);
    expect(rootFits({ gid: 2000, mode: 0o775, isDir: true }, 2000, false)).toBe(false);
    expect(rootFits({ gid: 0, mode: 0o2775, isDir: true }, 2000, false)).toBe(false);
  });

  it('token renewal: at 80 % of its life or after a day, brought forward by the jitter', () => {
    const t = { token: 't', expiresAt: 3600_000, expirationSeconds: 3600 };
    expect(tokenNeedsRefresh(t, 2879_000, 0, 0.8)).toBe(false);
    expect(tokenNeedsRefresh(t, 2881_000, 0, 0.8)).toBe(true);
    expect(tokenNeedsRefresh(t, 2875_000, 10_000, 0.8)).toBe(true);
    const year = { token: 't', expiresAt: 365 * 86400_000, expirationSeconds: 365 * 86400 };
    expect(tokenNeedsRefresh(year, 86400_000 - 1000, 0, 0.8)).toBe(false);
    expect(tokenNeedsRefresh(year, 86400_000 + 1000, 0, 0.8)).toBe(true);
  });

  it('reads mountinfo: escapes decoded, propagation tags', () => {
    const text = [
      '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
      '43 27 0:39 / /var/lib/kubelet rw,relatime shared:5 - ext4 /dev/vda rw',
      '44 43 0:40 / /var/lib/kubelet/pods/u/volumes/kubernetes.io~secret/my\\040secret rw,relatime shared:6 - tmpfs tmpfs rw,size=1024k',
      'garbage',
    ].join('\n');
    const table = parseMountInfo(text);
    expect(table).toHaveLength(3);
    expect(table[2]).toMatchObject({
      mountPoint: '/var/lib/kubelet/pods/u/volumes/kubernetes.io~secret/my secret',
      fsType: 'tmpfs',
      propagates: true,
      superOptions: 'rw,size=1024k',
    });
    expect(mountsUnder(text, '/var/lib/kubelet/pods/u')).toEqual(['/var/lib/kubelet/pods/u/volumes/kubernetes.io~secret/my secret']);
  });
});
