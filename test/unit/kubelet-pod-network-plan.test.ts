// The pure parts of kubelet-managed pod networking: the shim's protocol, reading a call,
// the pod's capability arguments, the replies, the NetworkReady condition, the shim's config
// and where the runtime keeps its own. The whole path runs for real in
// test/integration/kubelet-cni.test.ts and test/e2e/kubelet-cni.test.ts.
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { CniError } from '../../src/cni/cni-error.js';
import { parseResult } from '../../src/cni/result.js';
import { encodeShimReply, encodeShimRequest, parseShimReply, parseShimRequest } from '../../src/cni/shim-protocol.js';
import { TskubeError } from '../../src/common/errors.js';
import { networkCondition, withNetworkCondition } from '../../src/kubelet/network/network-condition.js';
import { nodePodCIDRs, podAttachment, podBandwidth, podCniPortMappings } from '../../src/kubelet/network/pod-attachment.js';
import { runtimeCniDirsFromInfo } from '../../src/kubelet/network/runtime-cni-dirs.js';
import { readShimCall, ShimCallError } from '../../src/kubelet/network/shim-call.js';
import { runtimePlacementProblem, shimConflist } from '../../src/kubelet/network/shim-config.js';
import { cniCodeOf, errorReply, resultReply } from '../../src/kubelet/network/shim-reply.js';
import { resolveKubeletOptions } from '../../src/kubelet/options/index.js';

const addEnv = {
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'abc123',
  CNI_NETNS: '/var/run/netns/cni-1',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/opt/cni/bin',
  CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=abc123;K8S_POD_UID=u-1',
};
const shimConf = (extra: Record<string, unknown> = {}) => JSON.stringify({ cniVersion: '1.0.0', name: 'tskube', type: 'tskube-cni-shim', ...extra });
const call = (env: Record<string, string>, stdin = shimConf()) => readShimCall({ version: 1, env, stdin });

describe('shim protocol v1', () => {
  it('reads a request once all of stdin is there, whatever the chunks', () => {
    const bytes = encodeShimRequest({ ...addEnv, PATH: '/usr/bin' }, shimConf());
    for (let cut = 0; cut < bytes.length; cut++) expect(parseShimRequest(bytes.subarray(0, cut)).state).toBe('incomplete');
    const parsed = parseShimRequest(bytes);
    expect(parsed).toEqual({ state: 'complete', request: { version: 1, env: addEnv, stdin: shimConf() } });
  });

  it('reads a request with no environment and stdin that holds blank lines', () => {
    const stdin = '{\n\n"cniVersion": "1.1.0"\n\n}';
    expect(parseShimRequest(encodeShimRequest({}, stdin))).toEqual({ state: 'complete', request: { version: 1, env: {}, stdin } });
  });

  it('tells another protocol version apart, and refuses what is not a request', () => {
    expect(parseShimRequest(Buffer.from('TSKUBE-CNI-SHIM/2 5\n\nhello'))).toEqual({ state: 'unsupported-version', version: '2' });
    expect(() => parseShimRequest(Buffer.from('GET / HTTP/1.1\r\n\r\n'))).toThrow('header "GET / HTTP/1.1\\r" is not "TSKUBE-CNI-SHIM/1 <bytes>"');
    expect(() => parseShimRequest(Buffer.from('TSKUBE-CNI-SHIM/1 2\nPATH=/bin\n\n{}'))).toThrow('environment line "PATH=/bin" is not CNI_NAME=value');
    expect(() => parseShimRequest(Buffer.from('TSKUBE-CNI-SHIM/1 2\n\n{}}'))).toThrow('1 bytes after the 2 bytes of stdin');
    expect(() => encodeShimRequest({ CNI_ARGS: 'a\nb' }, '')).toThrow('CNI_ARGS has a newline');
  });

  it('replies with the exit code in the header and stdout as is', () => {
    const out = '{"code":7,"msg":"ünïcode"}\n';
    expect(encodeShimReply({ exitCode: 1, stdout: out }).toString('utf8')).toBe(`TSKUBE-CNI-SHIM/1 1\n${out}`);
    expect(parseShimReply(encodeShimReply({ exitCode: 0, stdout: out }))).toEqual({ exitCode: 0, stdout: out });
    expect(encodeShimReply({ exitCode: 300, stdout: '' }).toString()).toBe('TSKUBE-CNI-SHIM/1 1\n');
  });
});

describe('a shim call', () => {
  it('carries the attachment, the runtime version and the capability arguments', () => {
    const c = call(addEnv, shimConf({ runtimeConfig: { portMappings: [{ hostPort: 80 }] } }));
    expect(c).toMatchObject({ command: 'ADD', version: '1.0.0', containerId: 'abc123', netns: '/var/run/netns/cni-1', ifName: 'eth0' });
    expect(c.args).toContainEqual(['K8S_POD_UID', 'u-1']);
    expect(c.runtimeConfig).toEqual({ portMappings: [{ hostPort: 80 }] });
  });

  it('refuses a call it cannot serve with the spec code that says why', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return err instanceof ShimCallError ? `${err.cniCode} ${err.detail}` : String(err);
      }
      return 'no error';
    };
    expect(code(() => call({ ...addEnv, CNI_CONTAINERID: '' }))).toBe('4 ADD: CNI_CONTAINERID is not set');
    expect(code(() => call({ ...addEnv, CNI_COMMAND: 'FROB' }))).toBe('4 CNI_COMMAND "FROB" is not one of ADD, DEL, CHECK, STATUS, GC, VERSION');
    expect(code(() => call(addEnv, '{"cniVersion":'))).toMatch(/^6 the network config on stdin is not JSON/);
    expect(code(() => call(addEnv, '[]'))).toBe('6 the network config on stdin is not a JSON object');
    expect(code(() => call(addEnv, shimConf({ cniVersion: '2.0.0' })))).toMatch(/^1 cniVersion "2.0.0" is not one this kubelet speaks/);
    expect(code(() => call({ ...addEnv, CNI_ARGS: 'K8S_POD_NAME' }))).toMatch(/^4 CNI_ARGS: invalid pair "K8S_POD_NAME"/);
  });

  it('DEL needs no namespace (it may be gone); GC brings the runtime’s valid attachments', () => {
    expect(call({ ...addEnv, CNI_COMMAND: 'DEL', CNI_NETNS: '' }).netns).toBe('');
    const gc = call(
      { CNI_COMMAND: 'GC', CNI_PATH: '/opt/cni/bin' },
      shimConf({ 'cni.dev/valid-attachments': [{ containerID: 'a', ifname: 'eth0' }, { bad: 1 }] }),
    );
    expect(gc.validAttachments).toEqual([{ containerId: 'a', ifName: 'eth0' }]);
  });
});

describe("the pod's capability arguments", () => {
  const pod: V1Pod = {
    metadata: {
      name: 'web',
      namespace: 'shop',
      uid: 'u-1',
      annotations: { 'kubernetes.io/ingress-bandwidth': '1M', 'kubernetes.io/egress-bandwidth': '2.5M' },
    },
    spec: {
      containers: [
        {
          name: 'a',
          ports: [{ containerPort: 8080, hostPort: 80 }, { containerPort: 53, hostPort: 5353, protocol: 'UDP', hostIP: '127.0.0.1' }, { containerPort: 9090 }],
        },
      ],
    },
  };

  it('bandwidth annotations in bits per second, with containerd’s burst', () => {
    expect(podBandwidth(pod.metadata?.annotations)).toEqual({
      ingressRate: 1_000_000,
      ingressBurst: 4294967295,
      egressRate: 2_500_000,
      egressBurst: 4294967295,
    });
    expect(podBandwidth({})).toBeUndefined();
    expect(() => podBandwidth({ 'kubernetes.io/egress-bandwidth': '10' })).toThrow('annotation kubernetes.io/egress-bandwidth: "10" is unreasonably small');
    expect(() => podBandwidth({ 'kubernetes.io/ingress-bandwidth': '2P' })).toThrow('"2P" is unreasonably large');
    expect(() => podBandwidth({ 'kubernetes.io/ingress-bandwidth': 'fast' })).toThrow(
      'annotation kubernetes.io/ingress-bandwidth: quantity "fast" is not valid',
    );
  });

  it('hostPorts only, protocol as CNI spells it', () => {
    expect(podCniPortMappings(pod)).toEqual([
      { hostPort: 80, containerPort: 8080, protocol: 'tcp', hostIP: '' },
      { hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1' },
    ]);
  });

  it('from the pod when the kubelet knows it, over what the runtime passed; the Node’s CIDRs as ipRanges', () => {
    const c = call(
      addEnv,
      shimConf({ runtimeConfig: { portMappings: [{ hostPort: 1 }], dns: { servers: ['10.96.0.10'] }, 'io.kubernetes.cri.pod-annotations': {} } }),
    );
    const a = podAttachment({ call: c, pod, podCIDRs: ['10.244.3.0/24', 'fd00:10:244:3::/64'] });
    expect(a.args).toEqual([
      ['IgnoreUnknown', '1'],
      ['K8S_POD_NAMESPACE', 'shop'],
      ['K8S_POD_NAME', 'web'],
      ['K8S_POD_INFRA_CONTAINER_ID', 'abc123'],
      ['K8S_POD_UID', 'u-1'],
    ]);
    expect(a.capabilityArgs).toEqual({
      dns: { servers: ['10.96.0.10'] },
      portMappings: podCniPortMappings(pod),
      bandwidth: podBandwidth(pod.metadata?.annotations),
      ipRanges: [[{ subnet: '10.244.3.0/24' }], [{ subnet: 'fd00:10:244:3::/64' }]],
    });
  });

  it('a sandbox the kubelet did not make keeps the runtime’s arguments', () => {
    const c = call(addEnv, shimConf({ runtimeConfig: { portMappings: [{ hostPort: 1 }] } }));
    expect(podAttachment({ call: c, pod: undefined, podCIDRs: [] })).toEqual({
      containerId: 'abc123',
      ifName: 'eth0',
      netns: '/var/run/netns/cni-1',
      args: c.args,
      capabilityArgs: { portMappings: [{ hostPort: 1 }] },
    });
  });

  it('the Node’s pod CIDRs, from podCIDRs or the older podCIDR', () => {
    expect(nodePodCIDRs({ spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24', 'fd00::/64'] } })).toEqual(['10.244.1.0/24', 'fd00::/64']);
    expect(nodePodCIDRs({ spec: { podCIDR: '10.244.1.0/24' } })).toEqual(['10.244.1.0/24']);
    expect(nodePodCIDRs(undefined)).toEqual([]);
  });
});

describe('replies', () => {
  const ctx = { command: 'ADD', plugin: 'bridge', binary: '/opt/cni/bin/bridge', network: 'pods', source: '/etc/tskube/cni/net.d/10-pods.conflist plugins[0]' };

  it("an error names the plugin and file in msg, with the plugin's code", () => {
    const err = CniError.fromObject(ctx, { code: 7, msg: 'Invalid Configuration', details: 'no room' });
    const reply = errorReply(err, '0.4.0');
    expect(reply.exitCode).toBe(1);
    expect(JSON.parse(reply.stdout)).toEqual({
      cniVersion: '0.4.0',
      code: 7,
      msg: 'tskube kubelet: ADD plugin "bridge" (/opt/cni/bin/bridge) of network "pods" from /etc/tskube/cni/net.d/10-pods.conflist plugins[0]: CNI error 7 (invalid network config): Invalid Configuration; no room',
    });
  });

  it('codes for failures that are not a plugin’s own', () => {
    expect(cniCodeOf(new ShimCallError(11, 'wait'))).toBe(11);
    expect(cniCodeOf(new CniError('deadline-exceeded', ctx, 'no answer'))).toBe(11);
    expect(cniCodeOf(new TskubeError('invalid-argument', 'bad config'))).toBe(7);
    expect(cniCodeOf(new TskubeError('internal', 'boom'))).toBe(999);
  });

  it('a result in the version the runtime speaks', () => {
    const result = parseResult(
      { cniVersion: '1.1.0', interfaces: [{ name: 'eth0', sandbox: '/n' }], ips: [{ address: '10.244.3.5/24', interface: 0 }] },
      '1.1.0',
      'r',
    );
    expect(JSON.parse(resultReply(result, '0.3.1').stdout)).toEqual({
      cniVersion: '0.3.1',
      interfaces: [{ name: 'eth0', sandbox: '/n' }],
      ips: [{ version: '4', address: '10.244.3.5/24', interface: 0 }],
    });
  });
});

describe('NetworkReady', () => {
  it('the first problem, in containerd’s words; ready without one', () => {
    expect(networkCondition({})).toEqual({ ok: true, reason: '', message: '' });
    expect(networkCondition({ runtime: 'shim missing', status: 'fabric down' })).toEqual({
      ok: false,
      reason: 'NetworkPluginNotReady',
      message: 'Network plugin returns error: shim missing',
    });
  });

  it("wins over the runtime's report only when it is not ready, and never over an unreachable runtime", () => {
    const facts = {
      runtimeVersion: 'containerd://1.6',
      runtimeReady: { ok: true, reason: '', message: '' },
      networkReady: { ok: true, reason: '', message: '' },
    };
    const down = networkCondition({ status: 'fabric down' });
    expect(withNetworkCondition(facts, down).networkReady).toEqual(down);
    expect(withNetworkCondition(facts, networkCondition({}))).toBe(facts);
    const gone = { ...facts, unreachable: 'Status call failed' };
    expect(withNetworkCondition(gone, down)).toBe(gone);
  });
});

describe("the shim's config in the runtime's folder", () => {
  it('one network, one plugin, the socket; 1.0.0 for old libcni, 1.1.0 offered', () => {
    expect(JSON.parse(shimConflist('/var/lib/kubelet/cni/cni.sock'))).toEqual({
      cniVersion: '1.0.0',
      cniVersions: ['1.0.0', '1.1.0'],
      name: 'tskube',
      plugins: [{ type: 'tskube-cni-shim', socket: '/var/lib/kubelet/cni/cni.sock', capabilities: { portMappings: true, bandwidth: true, dns: true } }],
    });
  });

  it('must be the first file the runtime reads', () => {
    const ours = '/etc/cni/net.d/00-tskube.conflist';
    const entry = (file: string, error?: string) => ({
      file,
      format: 'conflist' as const,
      ...(error ? { error: new TskubeError('invalid-argument', error) } : {}),
    });
    const scan = (...files: ReturnType<typeof entry>[]) => ({ dir: '/etc/cni/net.d', exists: true, files });
    expect(runtimePlacementProblem(scan(entry(ours), entry('/etc/cni/net.d/10-bridge.conflist')), ours)).toBeUndefined();
    expect(runtimePlacementProblem(scan(), ours)).toBe(`${ours} is missing`);
    expect(runtimePlacementProblem(scan(entry('/etc/cni/net.d/00-calico.conflist'), entry(ours)), ours)).toBe(
      'the runtime reads /etc/cni/net.d/00-calico.conflist before /etc/cni/net.d/00-tskube.conflist (it loads the first network config file in lexical order): remove /etc/cni/net.d/00-calico.conflist or move it out of /etc/cni/net.d',
    );
    expect(runtimePlacementProblem(scan(entry(ours, 'broken')), ours)).toBe(`${ours} does not load: broken`);
  });

  it("where the runtime keeps its CNI config: go-cni's view first, then the CRI plugin's", () => {
    const goCni = JSON.stringify({ PluginConfDir: '/etc/cni/net.d', PluginDirs: ['/usr/lib/cni'], PluginMaxConfNum: 1 });
    expect(runtimeCniDirsFromInfo({ cniconfig: goCni })).toMatchObject({ confDir: '/etc/cni/net.d', binDirs: ['/usr/lib/cni'], maxConfNum: 1 });
    expect(runtimeCniDirsFromInfo({ config: JSON.stringify({ cni: { confDir: '/x/net.d', binDir: '/x/bin' } }) })).toMatchObject({
      confDir: '/x/net.d',
      binDirs: ['/x/bin'],
    });
    expect(runtimeCniDirsFromInfo({ config: 'not json' })).toBeUndefined();
  });
});

describe('the flags', () => {
  const host = { hostname: 'node-1' };

  it('the runtime runs its own CNI unless --network-plugin=cni; the --cni-* flags alone only warn', async () => {
    const plain = await resolveKubeletOptions(['--cni-conf-dir=/x'], host);
    expect(plain.options.cni).toBeUndefined();
    expect(plain.warnings).toContain('--cni-conf-dir ignored without --network-plugin=cni');
  });

  it('--network-plugin=cni with upstream-style defaults, and each --cni-* flag', async () => {
    expect((await resolveKubeletOptions(['--network-plugin=cni'], host)).options.cni).toEqual({
      confDir: '/etc/tskube/cni/net.d',
      binDirs: ['/opt/cni/bin', '/usr/lib/cni'],
      cacheDir: '/var/lib/cni',
      runtimeConfDir: '',
    });
    const { options } = await resolveKubeletOptions(
      ['--network-plugin', 'cni', '--cni-conf-dir', '/c', '--cni-bin-dir', '/b1, /b2', '--cni-cache-dir', '/k', '--cni-runtime-conf-dir', '/r'],
      host,
    );
    expect(options.cni).toEqual({ confDir: '/c', binDirs: ['/b1', '/b2'], cacheDir: '/k', runtimeConfDir: '/r' });
  });

  it('refuses another plugin by name', async () => {
    await expect(resolveKubeletOptions(['--network-plugin=kubenet'], host)).rejects.toThrow(
      '--network-plugin: invalid value "kubenet": want "cni" (the kubelet runs the CNI plugins) or "" (the runtime does)',
    );
  });
});
