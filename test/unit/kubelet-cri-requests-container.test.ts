import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { buildContainerConfig, type ContainerContext } from '../../src/kubelet/cri-requests/container-config.js';
import { canonicalJson, containerSpecHash } from '../../src/kubelet/cri-requests/container-hash.js';
import { containerLinuxResources, hugePageUnitSize, milliCpuToQuota, milliCpuToShares } from '../../src/kubelet/cri-requests/linux-resources.js';
import { containerOomScoreAdj } from '../../src/kubelet/cri-requests/oom-score.js';
import { containerSecurityContext, defaultMaskedPaths, defaultReadonlyPaths, runAsNonRootViolation } from '../../src/kubelet/cri-requests/security-context.js';

const GiB = 2 ** 30;
const ctx: ContainerContext = {
  env: [
    { name: 'GREETING', value: 'hello' },
    { name: 'TARGET', value: 'world' },
  ],
  imageRef: 'sha256:0123abcd',
  podIPs: ['10.244.0.5'],
  nodeMemoryCapacityBytes: 8 * GiB,
};

function pod(containers: V1Container[], spec: Partial<NonNullable<V1Pod['spec']>> = {}): V1Pod {
  return { metadata: { name: 'web-0', namespace: 'shop', uid: 'uid-1' }, spec: { containers, terminationGracePeriodSeconds: 30, ...spec } };
}

describe('buildContainerConfig', () => {
  it('builds what crictl inspect shows for a plain container', () => {
    const c: V1Container = {
      name: 'app',
      image: 'busybox:1.36',
      command: ['sh', '-c'],
      args: ['echo $(GREETING) $(TARGET) $$(GREETING) $(UNKNOWN)'],
      workingDir: '/srv',
      tty: true,
    };
    const config = buildContainerConfig(pod([c]), c, 3, ctx);
    expect(config).toMatchObject({
      metadata: { name: 'app', attempt: 3 },
      image: { image: 'sha256:0123abcd', userSpecifiedImage: 'busybox:1.36' },
      command: ['sh', '-c'],
      args: ['echo hello world $(GREETING) $(UNKNOWN)'],
      workingDir: '/srv',
      envs: [
        { key: 'GREETING', value: Buffer.from('hello') },
        { key: 'TARGET', value: Buffer.from('world') },
      ],
      mounts: [],
      labels: {
        'io.kubernetes.pod.name': 'web-0',
        'io.kubernetes.pod.namespace': 'shop',
        'io.kubernetes.pod.uid': 'uid-1',
        'io.kubernetes.container.name': 'app',
      },
      logPath: 'app/3.log',
      stdin: false,
      stdinOnce: false,
      tty: true,
    });
    expect(config.annotations).toEqual({
      'io.kubernetes.container.hash': containerSpecHash(c),
      'io.kubernetes.container.restartCount': '3',
      'io.kubernetes.container.terminationMessagePath': '/dev/termination-log',
      'io.kubernetes.container.terminationMessagePolicy': 'File',
      'io.kubernetes.pod.terminationGracePeriod': '30',
    });
    expect(config.linux?.resources).toEqual({ cpuShares: 2, cpuQuota: 0, cpuPeriod: 100000, oomScoreAdj: 1000 });
    expect(config.linux?.securityContext).toEqual({
      privileged: false,
      readonlyRootfs: false,
      namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD', usernsOptions: { mode: 'NODE' } },
      seccomp: { profileType: 'Unconfined' },
      noNewPrivs: false,
      maskedPaths: [...defaultMaskedPaths],
      readonlyPaths: [...defaultReadonlyPaths],
    });
  });

  it('records ports, the preStop handler and termination settings as Go would write them', () => {
    const c: V1Container = {
      name: 'app',
      ports: [
        { containerPort: 80, name: 'http', protocol: 'TCP' },
        { containerPort: 53, hostPort: 5353, protocol: 'UDP', hostIP: '127.0.0.1' },
      ],
      lifecycle: { preStop: { exec: { command: ['sh', '-c', 'sleep 5 && kill 1'] } } },
      terminationMessagePath: '/tmp/msg',
      terminationMessagePolicy: 'FallbackToLogsOnError',
    };
    const p = pod([c]);
    p.metadata!.deletionGracePeriodSeconds = 10;
    const a = buildContainerConfig(p, c, 0, ctx).annotations ?? {};
    expect(a['io.kubernetes.container.ports']).toBe(
      '[{"name":"http","containerPort":80,"protocol":"TCP"},{"hostPort":5353,"containerPort":53,"protocol":"UDP","hostIP":"127.0.0.1"}]',
    );
    expect(a['io.kubernetes.container.preStopHandler']).toBe('{"exec":{"command":["sh","-c","sleep 5 \\u0026\\u0026 kill 1"]}}');
    expect(a['io.kubernetes.container.terminationMessagePath']).toBe('/tmp/msg');
    expect(a['io.kubernetes.container.terminationMessagePolicy']).toBe('FallbackToLogsOnError');
    expect(a['io.kubernetes.pod.deletionGracePeriod']).toBe('10');
  });

  it('writes an httpGet preStop in Go field order', () => {
    const c: V1Container = { name: 'app', lifecycle: { preStop: { httpGet: { port: 'http', path: '/quit', scheme: 'HTTP' } } } };
    expect(buildContainerConfig(pod([c]), c, 0, ctx).annotations?.['io.kubernetes.container.preStopHandler']).toBe(
      '{"httpGet":{"path":"/quit","port":"http","scheme":"HTTP"}}',
    );
  });

  it('passes mounts and the stop signal through', () => {
    const c: V1Container = { name: 'app', lifecycle: { stopSignal: 'SIGUSR1' } };
    const mounts = [{ containerPath: '/dev/termination-log', hostPath: '/var/lib/kubelet/pods/uid-1/containers/app/abc' }];
    const config = buildContainerConfig(pod([c]), c, 0, { ...ctx, mounts });
    expect(config.mounts).toEqual(mounts);
    expect(config.stopSignal).toBe('SIGUSR1');
    expect(() => buildContainerConfig(pod([]), { name: 'app', lifecycle: { stopSignal: 'SIGNOPE' } }, 0, ctx)).toThrow(
      'spec.containers[app].lifecycle.stopSignal: unknown signal "SIGNOPE"',
    );
  });

  it('refuses to run an image as root under runAsNonRoot', () => {
    const c: V1Container = { name: 'app', securityContext: { runAsNonRoot: true } };
    expect(() => buildContainerConfig(pod([c]), c, 0, { ...ctx, imageUser: { uid: 0 } })).toThrow(
      'failed-precondition: container has runAsNonRoot and image will run as root (pod: "web-0_shop(uid-1)", container: app)',
    );
    expect(buildContainerConfig(pod([c]), c, 0, { ...ctx, imageUser: { uid: 1000 } }).linux?.securityContext?.runAsUser).toEqual({ value: 1000 });
  });
});

describe('runAsNonRootViolation', () => {
  const c = (sc: V1Container['securityContext']): V1Container => ({ name: 'app', securityContext: sc });
  it('follows upstream: explicit user first, then the image user', () => {
    expect(runAsNonRootViolation(pod([c({})]), c({}), { uid: 0 })).toBeUndefined();
    expect(runAsNonRootViolation(pod([c({ runAsNonRoot: true, runAsUser: 0 })]), c({ runAsNonRoot: true, runAsUser: 0 }))).toContain(
      "container's runAsUser breaks non-root policy",
    );
    expect(runAsNonRootViolation(pod([c({ runAsNonRoot: true, runAsUser: 5 })]), c({ runAsNonRoot: true, runAsUser: 5 }), { uid: 0 })).toBeUndefined();
    const p = pod([c({})], { securityContext: { runAsNonRoot: true } });
    expect(runAsNonRootViolation(p, c({}), { username: 'nginx' })).toContain('image has non-numeric user (nginx), cannot verify user is non-root');
    expect(runAsNonRootViolation(p, c({}), { uid: 101 })).toBeUndefined();
    expect(runAsNonRootViolation(p, c({}))).toContain('image will run as root');
  });
});

describe('containerSpecHash', () => {
  it("is upstream's hash of the name and image (values from the upstream kubelet's HashContainer)", () => {
    expect(containerSpecHash({ name: 'web', image: 'localhost/tskube/busybox:latest' })).toBe('e4b7e95a');
    expect(containerSpecHash({ name: 'a', image: 'b' })).toBe('646fef1b');
    expect(containerSpecHash({ name: 'app', image: 'nginx:1.27' })).toBe('a763184');
    // Go's JSON escapes <, > and &; the bytes are UTF-8.
    expect(containerSpecHash({ name: 'sidecar', image: 'reg.io/x<y>&z:1' })).toBe('3583602a');
    expect(containerSpecHash({ name: '\u00fcn\u00ef', image: 'img' })).toBe('bc5f980c');
  });

  it('changes with the image, not with fields a defaulting change or a resize touches', () => {
    const a: V1Container = { name: 'app', image: 'nginx:1', env: [{ name: 'A', value: '1' }], resources: { limits: { cpu: '1' } } };
    expect(containerSpecHash(a)).not.toBe(containerSpecHash({ ...a, image: 'nginx:2' }));
    const defaulted: V1Container = { ...a, command: ['x'], terminationMessagePolicy: 'File', resources: {} };
    expect(containerSpecHash(a)).toBe(containerSpecHash(defaulted));
  });

  it('canonical JSON sorts keys at every level and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: undefined, c: [2, { z: 1, y: 2 }] } })).toBe('{"a":{"c":[2,{"y":2,"z":1}]},"b":1}');
  });
});

describe('linux resources', () => {
  it('converts cpu as the kubelet does', () => {
    expect(milliCpuToShares(0)).toBe(2);
    expect(milliCpuToShares(1)).toBe(2);
    expect(milliCpuToShares(100)).toBe(102);
    expect(milliCpuToShares(1000)).toBe(1024);
    expect(milliCpuToShares(10_000_000)).toBe(262144);
    expect(milliCpuToQuota(0, 100000)).toBe(0);
    expect(milliCpuToQuota(5, 100000)).toBe(1000);
    expect(milliCpuToQuota(250, 100000)).toBe(25000);
    expect(milliCpuToQuota(1500, 50000)).toBe(75000);
  });

  it('takes shares from the request, quota from the limit, memory limit in bytes', () => {
    const c: V1Container = { name: 'app', resources: { requests: { cpu: '100m', memory: '1Gi' }, limits: { cpu: '500m', memory: '2Gi' } } };
    expect(containerLinuxResources(pod([c]), c, ctx)).toEqual({
      cpuShares: 102,
      cpuQuota: 50000,
      cpuPeriod: 100000,
      memoryLimitInBytes: 2 * GiB,
      oomScoreAdj: 875,
    });
  });

  it('takes shares from the limit when no request is given', () => {
    const c: V1Container = { name: 'app', resources: { limits: { cpu: '2' } } };
    expect(containerLinuxResources(pod([c]), c, ctx).cpuShares).toBe(2048);
  });

  it('honours cpuCFSQuota=false, cgroup v2 OOM grouping, swap and huge pages', () => {
    const c: V1Container = { name: 'app', resources: { limits: { cpu: '1', memory: '1Gi', 'hugepages-2Mi': '100Mi' }, requests: { cpu: '1', memory: '1Gi' } } };
    const r = containerLinuxResources(pod([c]), c, {
      ...ctx,
      cpuCFSQuota: false,
      cgroupV2: true,
      swapControllerAvailable: true,
      hugePageSizes: ['2MB', '1GB'],
    });
    expect(r.cpuQuota).toBeUndefined();
    expect(r.cpuPeriod).toBeUndefined();
    expect(r.unified).toEqual({ 'memory.oom.group': '1', 'memory.swap.max': '0' });
    expect(r.hugepageLimits).toEqual([
      { pageSize: '2MB', limit: 100 * 2 ** 20 },
      { pageSize: '1GB', limit: 0 },
    ]);
    const v1 = containerLinuxResources(pod([c]), c, { ...ctx, swapControllerAvailable: true, singleProcessOOMKill: true });
    expect(v1.unified).toBeUndefined();
    expect(v1.memorySwapLimitInBytes).toBe(GiB);
    expect(hugePageUnitSize(2 ** 21)).toBe('2MB');
    expect(hugePageUnitSize(2 ** 30)).toBe('1GB');
    expect(hugePageUnitSize(64 * 1024)).toBe('64KB');
  });

  it('names the field of a bad quantity', () => {
    const c: V1Container = { name: 'app', resources: { limits: { memory: '1 Gi' } } };
    expect(() => containerLinuxResources(pod([c]), c, ctx)).toThrow('spec.containers[app].resources.limits.memory: quantity "1 Gi" is not valid');
  });
});

describe('containerOomScoreAdj', () => {
  const cap = 8 * GiB;
  it('Guaranteed -997, BestEffort 1000, node-critical -997', () => {
    const g: V1Container = { name: 'g', resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } } };
    expect(containerOomScoreAdj(pod([g]), g, cap)).toBe(-997);
    const be: V1Container = { name: 'be' };
    expect(containerOomScoreAdj(pod([be]), be, cap)).toBe(1000);
    expect(containerOomScoreAdj(pod([be], { priorityClassName: 'system-node-critical' }), be, cap)).toBe(-997);
  });

  it('Burstable scales with the memory request, within [3, 999]', () => {
    const b = (memory?: string): V1Container => ({ name: 'b', resources: { requests: { cpu: '100m', ...(memory ? { memory } : {}) } } });
    expect(containerOomScoreAdj(pod([b('800Mi')]), b('800Mi'), cap)).toBe(903);
    expect(containerOomScoreAdj(pod([b()]), b(), cap)).toBe(999);
    expect(containerOomScoreAdj(pod([b('8Gi')]), b('8Gi'), cap)).toBe(3);
  });

  it('a sidecar scores no higher than the smallest regular container', () => {
    const side: V1Container = { name: 'side', restartPolicy: 'Always', resources: { requests: { memory: '10Mi' } } };
    const main: V1Container = { name: 'main', resources: { requests: { memory: '4Gi' } } };
    expect(containerOomScoreAdj(pod([main], { initContainers: [side] }), side, cap)).toBe(500);
  });
});

describe('containerSecurityContext', () => {
  it('merges pod and container settings as upstream', () => {
    const c: V1Container = {
      name: 'app',
      securityContext: {
        runAsUser: 2000,
        privileged: false,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] },
        seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/audit.json' },
      },
    };
    const p = pod([c], {
      securityContext: { runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000, supplementalGroups: [5000], seccompProfile: { type: 'RuntimeDefault' } },
    });
    expect(containerSecurityContext(p, c, { seccompProfileRoot: '/var/lib/kubelet/seccomp' })).toMatchObject({
      runAsUser: { value: 2000 },
      runAsGroup: { value: 3000 },
      supplementalGroups: [2000, 5000],
      privileged: false,
      noNewPrivs: true,
      readonlyRootfs: true,
      capabilities: { addCapabilities: ['NET_ADMIN'], dropCapabilities: ['ALL'] },
      seccomp: { profileType: 'Localhost', localhostRef: '/var/lib/kubelet/seccomp/profiles/audit.json' },
    });
  });

  it('takes the pod seccomp profile, else RuntimeDefault with seccompDefault, else Unconfined', () => {
    const c: V1Container = { name: 'app' };
    expect(containerSecurityContext(pod([c], { securityContext: { seccompProfile: { type: 'RuntimeDefault' } } }), c).seccomp).toEqual({
      profileType: 'RuntimeDefault',
    });
    expect(containerSecurityContext(pod([c]), c, { seccompDefault: true }).seccomp).toEqual({ profileType: 'RuntimeDefault' });
    expect(containerSecurityContext(pod([c]), c).seccomp).toEqual({ profileType: 'Unconfined' });
    const bad: V1Container = { name: 'app', securityContext: { seccompProfile: { type: 'Localhost' } } };
    expect(() => containerSecurityContext(pod([bad]), bad)).toThrow('spec.containers[app].securityContext.seccompProfile.localhostProfile must be set');
  });

  it('unmasks /proc only for procMount Unmasked; uses the image user when none is set', () => {
    const c: V1Container = { name: 'app', securityContext: { procMount: 'Unmasked' } };
    const sc = containerSecurityContext(pod([c], { hostUsers: undefined }), c, { imageUser: { uid: 101, username: '' } });
    expect(sc.maskedPaths).toEqual([]);
    expect(sc.readonlyPaths).toEqual([]);
    expect(sc.runAsUser).toEqual({ value: 101 });
    const named = containerSecurityContext(pod([{ name: 'x' }]), { name: 'x' }, { imageUser: { username: 'nginx' } });
    expect(named.runAsUsername).toBe('nginx');
    expect(named.runAsUser).toBeUndefined();
  });

  it('shares the pod namespaces', () => {
    const c: V1Container = { name: 'app' };
    expect(containerSecurityContext(pod([c], { hostNetwork: true, shareProcessNamespace: true }), c).namespaceOptions).toMatchObject({
      network: 'NODE',
      pid: 'POD',
      ipc: 'POD',
    });
  });
});
