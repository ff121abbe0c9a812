import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorMessage, isCode } from '../../src/common/errors.js';
import { defaultKubeletConfiguration, loadKubeletConfig, parseKubeletConfig } from '../../src/kubelet/options/index.js';

const fixtures = resolve(import.meta.dirname, '../fixtures/kubelet-config');
const head = 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n';
const parse = (body: string) => parseKubeletConfig(head + body, 'kubelet.yaml');
const errorOf = (body: string) => {
  try {
    parse(body);
  } catch (err) {
    expect(isCode(err, 'invalid-argument')).toBe(true);
    return errorMessage(err);
  }
  throw new Error('expected an error');
};

describe('KubeletConfiguration', () => {
  it('applies upstream defaults where the file is silent', () => {
    const { config, warnings } = parse('');
    expect(warnings).toEqual([]);
    expect(config).toEqual(defaultKubeletConfiguration());
    expect(config).toMatchObject({
      fileCheckFrequency: 20_000,
      nodeStatusUpdateFrequency: 10_000,
      nodeStatusReportFrequency: 300_000,
      nodeLeaseDurationSeconds: 40,
      maxPods: 110,
      podPidsLimit: -1,
      cpuCFSQuota: true,
      seccompDefault: false,
      cgroupDriver: 'cgroupfs',
      port: 10250,
      readOnlyPort: 0,
      healthzPort: 10248,
      healthzBindAddress: '127.0.0.1',
      failSwapOn: true,
      registerNode: true,
      resolvConf: '/etc/resolv.conf',
      runtimeRequestTimeout: 120_000,
      containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
      enforceNodeAllocatable: ['pods'],
      evictionHard: {
        'memory.available': '100Mi',
        'nodefs.available': '10%',
        'nodefs.inodesFree': '5%',
        'imagefs.available': '15%',
        'imagefs.inodesFree': '5%',
      },
      authorization: { mode: 'Webhook' },
    });
  });

  it('reads the file kubeadm writes, with zero values defaulted and no warnings', async () => {
    const { config, warnings } = await loadKubeletConfig(join(fixtures, 'kubeadm.yaml'));
    expect(warnings).toEqual([]);
    expect(config.cgroupDriver).toBe('systemd');
    expect(config.clusterDNS).toEqual(['10.96.0.10']);
    expect(config.staticPodPath).toBe('/etc/kubernetes/manifests');
    expect(config.rotateCertificates).toBe(true);
    expect(config.authentication.x509.clientCAFile).toBe('/etc/kubernetes/pki/ca.crt');
    expect(config.authentication.webhook.cacheTTL).toBe(120_000);
    expect(config.fileCheckFrequency).toBe(20_000);
    expect(config.containerRuntimeEndpoint).toBe('unix:///run/containerd/containerd.sock');
    expect(config.logging.flushFrequency).toBe(5000);
  });

  it('reads set fields, resolves relative paths against the file, and warns once per ignored field', async () => {
    const { config, warnings } = await loadKubeletConfig(join(fixtures, 'custom.yaml'));
    expect(config).toMatchObject({
      staticPodPath: join(fixtures, 'manifests'),
      fileCheckFrequency: 5000,
      clusterDNS: ['10.96.0.10', 'fd00::a'],
      clusterDomain: 'example.local',
      cgroupDriver: 'systemd',
      containerRuntimeEndpoint: 'unix:///run/k3s/containerd/containerd.sock',
      runtimeRequestTimeout: 90_000,
      nodeStatusUpdateFrequency: 4000,
      // An explicit update frequency also sets the report frequency, as upstream does.
      nodeStatusReportFrequency: 4000,
      maxPods: 50,
      podPidsLimit: 4096,
      kubeReserved: { cpu: '100m', memory: '256Mi' },
      systemReserved: { memory: '512Mi' },
      // The file's evictionHard replaces the defaults.
      evictionHard: { 'memory.available': '200Mi' },
      registerWithTaints: [{ key: 'dedicated', value: 'infra', effect: 'NoSchedule' }],
      failSwapOn: false,
      cpuCFSQuota: false,
      seccompDefault: true,
      singleProcessOOMKill: true,
      crashLoopBackOff: { maxContainerRestartPeriod: 60_000 },
      shutdownGracePeriod: 30_000,
      shutdownGracePeriodCriticalPods: 10_000,
      logging: { format: 'json', verbosity: 2, flushFrequency: 5000 },
    });
    // topologyManagerPolicy is at its upstream default, so it changes nothing and gets no warning.
    expect(warnings).toEqual([
      'KubeletConfiguration field "cpuManagerPolicy" is not supported by tskube yet; ignoring it',
      'KubeletConfiguration field "noSuchField" is unknown to tskube; ignoring it',
      'KubeletConfiguration field "imagePullProgressDeadline" was removed upstream with dockershim; ignoring it',
      // Read and shown by /configz, but the API client is not throttled yet.
      'KubeletConfiguration field "kubeAPIQPS" is not supported by tskube yet; ignoring it',
    ]);
  });

  it('accepts JSON and merges default eviction thresholds when asked to', () => {
    const text = JSON.stringify({
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      evictionHard: { 'memory.available': '1Gi' },
      mergeDefaultEvictionSettings: true,
    });
    const { config } = parseKubeletConfig(text, 'kubelet.json');
    expect(config.evictionHard['memory.available']).toBe('1Gi');
    expect(config.evictionHard['nodefs.available']).toBe('10%');
  });

  it('warns about unknown nested fields with their path', () => {
    expect(parse('authentication:\n  webhook:\n    enabled: true\n    foo: 1\n').warnings).toEqual([
      'KubeletConfiguration field "authentication.webhook.foo" is unknown to tskube; ignoring it',
    ]);
  });

  it.each([
    ['fileCheckFrequency: 20\n', /^invalid-argument: kubelet.yaml: fileCheckFrequency: invalid value 20: want a Go duration/],
    ['fileCheckFrequency: -5s\n', /fileCheckFrequency: invalid value "-5s": must not be negative/],
    ['runtimeRequestTimeout: soon\n', /runtimeRequestTimeout: invalid value "soon"/],
    ['clusterDNS: [10.96.0.10, 10.96.0.300]\n', /clusterDNS\[1\]: invalid value "10.96.0.300": want an IP address/],
    ['clusterDNS: 10.96.0.10\n', /clusterDNS: invalid value "10.96.0.10": want a list/],
    ['cgroupDriver: cgroupv2\n', /cgroupDriver: invalid value "cgroupv2": want one of cgroupfs, systemd/],
    ['maxPods: "110"\n', /maxPods: invalid value "110": want a whole number/],
    ['failSwapOn: "no"\n', /failSwapOn: invalid value "no": want true or false/],
    ['port: 70000\n', /port: invalid value 70000: want a number from 0 to 65535/],
    ['nodeLeaseDurationSeconds: -1\n', /nodeLeaseDurationSeconds: invalid value -1: must be greater than 0/],
    ['evictionHard: {memory.free: 1Gi}\n', /evictionHard.memory.free: unknown eviction signal "memory.free"/],
    ['evictionHard: {memory.available: lots}\n', /evictionHard.memory.available: invalid value "lots"/],
    ['kubeReserved: {cpu: fast}\n', /kubeReserved.cpu: invalid value "fast"/],
    ['registerWithTaints: [{key: a, effect: Sometimes}]\n', /registerWithTaints\[0\].effect: invalid value "Sometimes"/],
    ['registerWithTaints: [{key: "a b", effect: NoSchedule}]\n', /registerWithTaints\[0\].key: invalid value "a b"/],
    ['authorization: {mode: Node}\n', /authorization.mode: invalid value "Node": want one of AlwaysAllow, Webhook/],
    ['address: localhost\n', /address: invalid value "localhost": want an IP address/],
    ['crashLoopBackOff: {maxContainerRestartPeriod: 10m}\n', /crashLoopBackOff.maxContainerRestartPeriod: invalid value "10m0s": must be between 1s and 300s/],
    [
      'shutdownGracePeriod: 10s\nshutdownGracePeriodCriticalPods: 20s\n',
      /shutdownGracePeriodCriticalPods: invalid value "20s": must not exceed shutdownGracePeriod \(10s\)/,
    ],
    ['enforceNodeAllocatable: [pods, kube-reserved]\n', /enforceNodeAllocatable: invalid value "kube-reserved": needs kubeReservedCgroup/],
    ['enforceNodeAllocatable: [none, pods]\n', /"none" excludes every other value/],
    ['imageGCLowThresholdPercent: 90\n', /imageGCLowThresholdPercent: invalid value 90: must be less than imageGCHighThresholdPercent \(85\)/],
    ['logging: {format: xml}\n', /logging.format: invalid value "xml"/],
    ['containerRuntimeEndpoint: tcp://1.2.3.4:1\n', /containerRuntimeEndpoint: invalid value "tcp:\/\/1.2.3.4:1": want a unix socket/],
  ])('refuses %j with one clear error', (body, message) => {
    expect(errorOf(body)).toMatch(message);
  });

  it('checks apiVersion and kind, and reports YAML errors with the file name', () => {
    expect(() => parseKubeletConfig('apiVersion: v1\nkind: KubeletConfiguration\n', 'c.yaml')).toThrow(
      /c.yaml: apiVersion: invalid value "v1": want "kubelet.config.k8s.io\/v1beta1"/,
    );
    expect(() => parseKubeletConfig('apiVersion: kubelet.config.k8s.io/v1beta1\nkind: Pod\n', 'c.yaml')).toThrow(/kind: invalid value "Pod"/);
    expect(() => parseKubeletConfig('a: [\n', 'c.yaml')).toThrow(/c.yaml: not valid YAML or JSON/);
    expect(() => parseKubeletConfig('- 1\n', 'c.yaml')).toThrow(/want a KubeletConfiguration object/);
  });

  it('names the file that cannot be read', async () => {
    await expect(loadKubeletConfig(join(fixtures, 'missing.yaml'))).rejects.toThrow(/--config: cannot read .*missing.yaml/);
    // The fixture is also readable through an injected reader.
    const text = await readFile(join(fixtures, 'kubeadm.yaml'), 'utf8');
    const { config } = await loadKubeletConfig('/etc/kubernetes/kubelet.yaml', async () => text);
    expect(config.cgroupDriver).toBe('systemd');
  });
});
