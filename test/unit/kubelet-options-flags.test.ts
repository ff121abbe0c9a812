import { join, resolve } from 'node:path';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { memoryIo } from '../../src/cli/io.js';
import { kubeletCommand } from '../../src/cli/kubelet.js';
import type { KubeletOptions } from '../../src/kubelet/options/index.js';
import { resolveKubeletOptions } from '../../src/kubelet/options/index.js';

const fixtures = resolve(import.meta.dirname, '../fixtures/kubelet-config');
const host = { hostname: 'Node-1.Example.COM' };
const resolveArgs = (argv: string[]) => resolveKubeletOptions(argv, host);

// What kubeadm's 10-kubeadm.conf drop-in plus kubeadm-flags.env expand to.
const kubeadmArgs = [
  '--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf',
  '--kubeconfig=/etc/kubernetes/kubelet.conf',
  `--config=${join(fixtures, 'kubeadm.yaml')}`,
  '--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock',
  '--pod-infra-container-image=registry.k8s.io/pause:3.10',
  '--node-ip=192.168.1.10',
];

describe('kubelet flags', () => {
  it('resolves what kubeadm passes, with defaults for the rest', async () => {
    const { options, warnings } = await resolveArgs(kubeadmArgs);
    expect(options).toMatchObject({
      nodeName: 'node-1.example.com',
      nodeIPs: ['192.168.1.10'],
      nodeLabels: {},
      kubeconfig: '/etc/kubernetes/kubelet.conf',
      bootstrapKubeconfig: '/etc/kubernetes/bootstrap-kubelet.conf',
      configFile: join(fixtures, 'kubeadm.yaml'),
      rootDir: '/var/lib/kubelet',
      certDir: '/var/lib/kubelet/pki',
      podInfraContainerImage: 'registry.k8s.io/pause:3.10',
      verbosity: 0,
    });
    expect(options.config.containerRuntimeEndpoint).toBe('unix:///var/run/containerd/containerd.sock');
    expect(options.config.cgroupDriver).toBe('systemd');
    expect(options.config.cgroupRoot).toBe('/');
    expect(options.hostnameOverride).toBeUndefined();
    expect(warnings).toEqual(["flag --pod-infra-container-image is deprecated: the sandbox image comes from the container runtime's configuration"]);
  });

  it('takes "--flag value" as well as "--flag=value", and -v as --v', async () => {
    const { options } = await resolveArgs(['--hostname-override', 'Worker-2 ', '--root-dir', '/srv/kubelet', '-v', '4', '--node-ip', '10.0.0.2,fd00::2']);
    expect(options.nodeName).toBe('worker-2');
    expect(options.hostnameOverride).toBe('Worker-2');
    expect(options.rootDir).toBe('/srv/kubelet');
    expect(options.certDir).toBe('/srv/kubelet/pki');
    expect(options.verbosity).toBe(4);
    expect(options.config.logging.verbosity).toBe(4);
    expect(options.nodeIPs).toEqual(['10.0.0.2', 'fd00::2']);
    expect(options.kubeconfig).toBeUndefined();
    expect((await resolveArgs(['-v=3', '--cert-dir=/tmp/pki'])).options).toMatchObject({ verbosity: 3, certDir: '/tmp/pki' });
  });

  it('lets flags override the config file', async () => {
    const { options, warnings } = await resolveArgs([
      `--config=${join(fixtures, 'custom.yaml')}`,
      '--cluster-dns=10.0.0.10',
      '--cluster-domain=override.local',
      '--fail-swap-on',
      '--pod-manifest-path=/etc/tskube/manifests',
      '--register-with-taints=a=b:NoExecute,gpu:PreferNoSchedule',
      '--container-runtime-endpoint=/run/crio/crio.sock',
      '--v=5',
    ]);
    expect(options.config).toMatchObject({
      clusterDNS: ['10.0.0.10'],
      clusterDomain: 'override.local',
      failSwapOn: true,
      staticPodPath: '/etc/tskube/manifests',
      registerWithTaints: [
        { key: 'a', value: 'b', effect: 'NoExecute' },
        { key: 'gpu', effect: 'PreferNoSchedule' },
      ],
      containerRuntimeEndpoint: '/run/crio/crio.sock',
      // Untouched by flags: from the file.
      maxPods: 50,
    });
    expect(options.verbosity).toBe(5);
    expect(warnings).toContain('flag --pod-manifest-path is deprecated: use staticPodPath in the --config file');
    expect(warnings).toContain('KubeletConfiguration field "cpuManagerPolicy" is not supported by tskube yet; ignoring it');
  });

  it('parses booleans the way pflag does', async () => {
    expect((await resolveArgs(['--fail-swap-on=false'])).options.config.failSwapOn).toBe(false);
    expect((await resolveArgs(['--fail-swap-on=0'])).options.config.failSwapOn).toBe(false);
    // A boolean never takes the next word: "false" is then a stray argument.
    await expect(resolveArgs(['--fail-swap-on', 'false'])).rejects.toThrow(/takes no arguments, got "false"/);
    await expect(resolveArgs(['--fail-swap-on=nope'])).rejects.toThrow(/invalid argument "nope" for "--fail-swap-on" flag/);
  });

  it('merges repeated --node-labels and checks the kubernetes.io namespace', async () => {
    const { options } = await resolveArgs(['--node-labels=a=1,b=2', '--node-labels', 'node.kubernetes.io/pool=blue,topology.kubernetes.io/zone=z1,b=3']);
    expect(options.nodeLabels).toEqual({ a: '1', b: '3', 'node.kubernetes.io/pool': 'blue', 'topology.kubernetes.io/zone': 'z1' });
    await expect(resolveArgs(['--node-labels=node-role.kubernetes.io/worker='])).rejects.toThrow(
      /--node-labels: unknown 'kubernetes.io' or 'k8s.io' labels: node-role.kubernetes.io\/worker/,
    );
    await expect(resolveArgs(['--node-labels=novalue'])).rejects.toThrow(/--node-labels: invalid value "novalue": want key=value/);
    await expect(resolveArgs(['--node-labels=a=b c'])).rejects.toThrow(/--node-labels: invalid value "a=b c"/);
  });

  it.each([
    [['--no-such-flag=1'], /unknown flag: --no-such-flag/],
    [['-x'], /unknown shorthand flag: 'x' in -x/],
    [['--kubeconfig'], /flag needs an argument: --kubeconfig/],
    [['--node-ip=10.0.0.300'], /--node-ip: invalid value "10.0.0.300": "10.0.0.300" is not an IP address/],
    [['--node-ip=10.0.0.1,10.0.0.2'], /--node-ip: invalid value "10.0.0.1,10.0.0.2": two addresses must be one IPv4 and one IPv6/],
    [['--cluster-dns=dns.local'], /--cluster-dns: invalid value "dns.local"/],
    [['--register-with-taints=a=b'], /--register-with-taints: invalid value "a=b": want key=value:Effect/],
    [['--register-with-taints=a=b:Never'], /--register-with-taints: invalid value "a=b:Never": effect must be one of/],
    [['--v=loud'], /--v: invalid value "loud": want a whole number/],
    [['--cgroup-driver=cgroupv2'], /--cgroup-driver: invalid value "cgroupv2"/],
    [['--max-pods=-1'], /--max-pods: invalid value "-1"/],
    [['--runtime-request-timeout=2'], /--runtime-request-timeout: invalid duration "2"/],
    [['--bootstrap-kubeconfig=/b.conf'], /--bootstrap-kubeconfig needs --kubeconfig/],
    [['--hostname-override=bad_name'], /node name: invalid value "bad_name"/],
    [['--config=/does/not/exist.yaml'], /--config: cannot read \/does\/not\/exist.yaml/],
    [['extra'], /the kubelet takes no arguments, got "extra"/],
  ])('refuses %j', async (argv, message) => {
    await expect(resolveArgs(argv)).rejects.toThrow(message);
  });

  it('validates the config again once flags are applied', async () => {
    const readFile = async () => 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n';
    await expect(resolveKubeletOptions(['--config=/k.yaml', '--container-runtime-endpoint=tcp://x:1'], host, readFile)).rejects.toThrow(
      /\/k.yaml with flags applied: containerRuntimeEndpoint: invalid value "tcp:\/\/x:1"/,
    );
  });
});

describe('tskube kubelet', () => {
  it('prints one error line and exits 1 before running anything', async () => {
    const started: KubeletOptions[] = [];
    const cmd = kubeletCommand({ run: async (o) => void started.push(o), hostname: () => 'n1' });
    const { io, stderr, stdout } = memoryIo();
    expect(await cmd(['--config', join(fixtures, 'custom.yaml'), '--cluster-dns=nope'], io)).toBe(1);
    expect(stderr()).toBe('tskube kubelet: invalid-argument: --cluster-dns: invalid value "nope": "nope" is not an IP address\n');
    expect(stdout()).toBe('');
    expect(started).toEqual([]);
  });

  it('prints warnings, then runs the kubelet with the resolved options', async () => {
    const started: KubeletOptions[] = [];
    const cmd = kubeletCommand({ run: async (o) => void started.push(o), hostname: () => 'n1', readFile: (p) => readFile(p, 'utf8') });
    const { io, stderr } = memoryIo();
    expect(await cmd([`--config=${join(fixtures, 'custom.yaml')}`], io)).toBe(0);
    expect(
      stderr()
        .split('\n')
        .filter((l) => l !== ''),
    ).toEqual([
      'tskube kubelet: warning: KubeletConfiguration field "cpuManagerPolicy" is not supported by tskube yet; ignoring it',
      'tskube kubelet: warning: KubeletConfiguration field "noSuchField" is unknown to tskube; ignoring it',
      'tskube kubelet: warning: KubeletConfiguration field "imagePullProgressDeadline" was removed upstream with dockershim; ignoring it',
      'tskube kubelet: warning: KubeletConfiguration field "kubeAPIQPS" is not supported by tskube yet; ignoring it',
    ]);
    expect(started.map((o) => [o.nodeName, o.config.maxPods])).toEqual([['n1', 50]]);
  });

  it('reports a failing kubelet with exit 1, and a canceled one with exit 0', async () => {
    const failing = kubeletCommand({ run: async () => Promise.reject(new Error('runtime gone')), hostname: () => 'n1' });
    const a = memoryIo();
    expect(await failing([], a.io)).toBe(1);
    expect(a.stderr()).toBe('tskube kubelet: unknown: runtime gone\n');

    const ac = new AbortController();
    let started = false;
    const waiting = kubeletCommand({
      run: (_o, signal) =>
        new Promise((_, reject) => {
          started = true;
          signal.addEventListener('abort', () => reject(signal.reason));
          ac.abort();
        }),
      hostname: () => 'n1',
    });
    const b = memoryIo({ signal: ac.signal });
    expect(await waiting([], b.io)).toBe(0);
    expect(started).toBe(true);
    expect(b.stderr()).toBe('');
  });

  it('prints usage for --help', async () => {
    const { io, stdout } = memoryIo();
    expect(await kubeletCommand({ run: async () => {} })(['--help'], io)).toBe(0);
    expect(stdout()).toMatch(/^Usage: tskube kubelet \[flags\]/);
    expect(stdout()).toContain('--bootstrap-kubeconfig value');
  });
});
