// The kubelet's HTTPS API on a node joined to the real control plane, on the real
// containerd: the serving certificate through a kubelet-serving CSR that the test
// approves, then kubectl logs/exec/attach/port-forward through the API server (over
// websockets, which the API server passes to the kubelet, and over SPDY), the stats a
// metrics server reads, /metrics, and who gets in: 401, 403, 200 with RBAC, and a client
// certificate from another CA refused at TLS.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, renameSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WebSocket } from 'ws';
import { selfSignedCertificate } from '../../src/kubelet/bootstrap/self-signed.js';
import { detectHostIPs } from '../../src/kubelet/kubelet.js';
import { startTestKubelet, type TestKubelet } from '../support/kubelet.js';
import { newClient, testImage } from '../support/runtime.js';
import { eventually } from '../testbed/eventually.js';
import { kubectl } from '../testbed/kubectl.js';
import { deleteNamespaceAndWait } from '../support/namespaces.js';

const tb = inject('testbed');
const suffix = randomBytes(3).toString('hex');
const nodeName = `tskube-api-${suffix}`;
const namespace = `kubelet-api-${suffix}`;
const image = testImage;
const adminCert = { cert: readFileSync(join(tb.dir, 'pki', 'admin.crt')), key: readFileSync(join(tb.dir, 'pki', 'admin.key')) };
const ca = readFileSync(tb.caFile);
// The API server proxies to nodes only at global unicast addresses (never loopback), so the
// kubelet listens on this host's own address: traffic to it stays on the host.
const hostIP = detectHostIPs()[0] ?? '';

const kc = new KubeConfig();
kc.loadFromFile(tb.adminKubeconfig);
const core = kc.makeApiClient(CoreV1Api);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** kubectl as the admin, not throwing on a non-zero exit; `env` picks websocket or SPDY. */
function kctl(args: string[], o: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(tb.kubectl, ['--kubeconfig', tb.adminKubeconfig, ...args], { env: { ...process.env, ...o.env }, timeout: o.timeoutMs ?? 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(o.input ?? '');
  });
}

/** A long-running kubectl (logs -f, port-forward, attach) whose output the test watches. */
function kctlBackground(args: string[], env: Record<string, string> = {}): { child: ChildProcess; output: () => string; stop: () => void } {
  const child = spawn(tb.kubectl, ['--kubeconfig', tb.adminKubeconfig, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out, stop: () => child.kill('SIGTERM') };
}

const spdy = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false', KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' };
const raw = async (path: string) => JSON.parse((await kctl(['get', '--raw', `/api/v1/nodes/${nodeName}/proxy${path}`])).stdout) as unknown;

interface Reply {
  status: number;
  body: string;
}

/** One request straight to the kubelet's port, verifying its certificate against the cluster CA. */
function kubeletRequest(port: number, path: string, o: { token?: string; cert?: { cert: Buffer | string; key: Buffer | string } } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: hostIP,
        port,
        path,
        ca,
        agent: false,
        ...(o.cert ?? {}),
        ...(o.token ? { headers: { authorization: `Bearer ${o.token}` } } : {}),
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function pod(name: string, container: Partial<NonNullable<V1Pod['spec']>['containers'][number]>): V1Pod {
  return {
    metadata: { name, namespace },
    spec: { nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image, imagePullPolicy: 'IfNotPresent', ...container }] },
  };
}

async function waitRunning(name: string): Promise<V1Pod> {
  return eventually(`pod ${name} Running`, async () => {
    const p = await core.readNamespacedPod({ name, namespace });
    return p.status?.phase === 'Running' ? p : undefined;
  });
}

describe('kubelet API', () => {
  let kubelet: TestKubelet;
  let servingCsr = '';

  beforeAll(async () => {
    kubelet = await startTestKubelet({
      nodeName,
      namespaces: [namespace],
      args: ['--bootstrap-kubeconfig', tb.bootstrapKubeconfig, '--kubeconfig', join('/tmp', `tskube-api-${suffix}.kubeconfig`), '--node-ip', hostIP],
      extraConfig: {
        address: hostIP,
        serverTLSBootstrap: true,
        authentication: { x509: { clientCAFile: tb.caFile }, webhook: { enabled: true, cacheTTL: '2m0s' }, anonymous: { enabled: false } },
        // Denials kept for a second only, so a RoleBinding made during the test counts at once.
        authorization: { mode: 'Webhook', webhook: { cacheAuthorizedTTL: '5m0s', cacheUnauthorizedTTL: '1s' } },
      },
    });
    await eventually(`node ${nodeName} Ready`, async () => {
      const ready = (await core.readNode({ name: nodeName }).catch(() => undefined))?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
      return ready === 'True' ? true : undefined;
    });
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const logger = 'i=0; while true; do echo "line $i"; if [ $((i % 10)) = 0 ]; then echo "err $i" >&2; fi; i=$((i+1)); sleep 0.1; done';
    await Promise.all([
      core.createNamespacedPod({ namespace, body: pod('logger', { command: ['sh', '-c', logger] }) }),
      core.createNamespacedPod({ namespace, body: pod('web', { command: ['httpd', '-f', '-p', '80', '-h', '/var/www'], ports: [{ containerPort: 80 }] }) }),
      core.createNamespacedPod({ namespace, body: pod('crasher', { command: ['sh', '-c', 'echo "instance $RANDOM$RANDOM"; sleep 2; exit 1'] }) }),
      core.createNamespacedPod({ namespace, body: pod('reader', { stdin: true, command: ['sh', '-c', 'while read l; do echo "got $l"; done'] }) }),
    ]);
  }, 180_000);

  afterAll(async () => {
    await deleteNamespaceAndWait(core, namespace);
    await kubelet?.destroy();
    await core.deleteNode({ name: nodeName }).catch(() => undefined);
    if (servingCsr) await kubectl(tb, tb.adminKubeconfig, ['delete', 'csr', servingCsr, '--ignore-not-found']).catch(() => undefined);
    await kubectl(tb, tb.adminKubeconfig, ['delete', 'clusterrolebinding,clusterrole', `kubelet-api-e2e-${suffix}`, '--ignore-not-found']).catch(
      () => undefined,
    );
  }, 120_000);

  it('asks for a kubernetes.io/kubelet-serving certificate, says so on the Node until approved, then serves it', async () => {
    servingCsr = await eventually('a pending kubelet-serving CSR from the node', async () => {
      const list = JSON.parse((await kctl(['get', 'csr', '-o', 'json'])).stdout) as {
        items: { metadata: { name: string }; spec: { signerName: string; username: string }; status?: { conditions?: unknown[] } }[];
      };
      return list.items.find((c) => c.spec.signerName === 'kubernetes.io/kubelet-serving' && c.spec.username === `system:node:${nodeName}`)?.metadata.name;
    });
    const note = `kubectl certificate approve ${servingCsr}`;
    await eventually('the Ready condition to name the pending CSR', async () => {
      const ready = (await core.readNode({ name: nodeName })).status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.status === 'True' && ready.message?.includes(note) ? true : undefined;
    });
    // Nothing listens before there is a certificate to serve.
    await expect(kubeletRequest(kubelet.apiPort, '/healthz')).rejects.toThrow(/ECONNREFUSED/);

    expect((await kctl(['certificate', 'approve', servingCsr])).code).toBe(0);
    const reply = await eventually('the kubelet API to answer over TLS', () => kubeletRequest(kubelet.apiPort, '/healthz'));
    // Verified against the cluster CA for the node's address; without credentials: 401.
    expect(reply).toEqual({ status: 401, body: 'Unauthorized\n' });
    const served = await new Promise<X509Certificate>((resolve, reject) => {
      const req = https.request({ host: hostIP, port: kubelet.apiPort, ca, agent: false }, (res) => {
        const socket = res.socket as import('node:tls').TLSSocket;
        resolve(new X509Certificate(socket.getPeerX509Certificate()?.raw ?? Buffer.alloc(0)));
        res.resume();
      });
      req.on('error', reject);
      req.end();
    });
    expect(served.subject.split('\n').sort()).toEqual([`CN=system:node:${nodeName}`, 'O=system:nodes']);
    expect(served.subjectAltName).toContain(`DNS:${nodeName}`);
    expect(served.subjectAltName).toContain(`IP Address:${hostIP}`);
    const files = readdirSync(join(kubelet.dir, 'root', 'pki'));
    expect(files).toContain('kubelet-server-current.pem');
    await eventually('the note to leave the Ready condition', async () => {
      const ready = (await core.readNode({ name: nodeName })).status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.message === 'kubelet is posting ready status' ? true : undefined;
    });
    const node = await core.readNode({ name: nodeName });
    expect(node.status?.daemonEndpoints?.kubeletEndpoint?.Port).toBe(kubelet.apiPort);
    expect((node.status as { declaredFeatures?: string[] }).declaredFeatures).toContain('ExtendWebSocketsToKubelet');
  });

  it('serves kubectl logs: all, --tail, --since, --timestamps, --limit-bytes', async () => {
    await waitRunning('logger');
    await eventually('30 lines logged', async () => ((await kctl(['logs', '-n', namespace, 'logger'])).stdout.includes('line 30\n') ? true : undefined));
    const all = await kctl(['logs', '-n', namespace, 'logger']);
    expect(all.code).toBe(0);
    // stdout and stderr reach the log through two pipes: "err 0" may come before "line 0".
    expect(all.stdout.split('\n').slice(0, 2).sort()).toEqual(['err 0', 'line 0']);
    const tail = (await kctl(['logs', '-n', namespace, 'logger', '--tail=3'])).stdout.split('\n').filter((l) => l !== '');
    expect(tail).toHaveLength(3);
    expect(tail.every((l) => /^(line|err) \d+$/.test(l))).toBe(true);
    const since = (await kctl(['logs', '-n', namespace, 'logger', '--since=1s'])).stdout;
    expect(since).not.toContain('line 0\n');
    expect(since).toMatch(/line \d+\n/);
    const stamped = (await kctl(['logs', '-n', namespace, 'logger', '--tail=1', '--timestamps'])).stdout;
    expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (line|err) \d+\n$/);
    const limited = (await kctl(['logs', '-n', namespace, 'logger', '--limit-bytes=10'])).stdout;
    expect(limited).toHaveLength(10);
    expect(all.stdout.startsWith(limited)).toBe(true);
    const missing = await kctl(['logs', '-n', namespace, 'logger', '-c', 'nope']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('container nope is not valid for pod logger');
  });

  it('follows with kubectl logs -f while the container writes, across a rotation of the log file', async () => {
    const follow = kctlBackground(['logs', '-f', '-n', namespace, 'logger', '--tail=1']);
    try {
      const lineNumbers = () => [...follow.output().matchAll(/line (\d+)/g)].map((m) => Number(m[1]));
      const first = await eventually('the first followed line', () => lineNumbers()[0]);
      await eventually('more lines while following', () => (lineNumbers().length >= 5 ? true : undefined), 20_000);
      // Rotate as the kubelet's log manager does: rename the file, have the runtime reopen it.
      const uid = (await core.readNamespacedPod({ name: 'logger', namespace })).metadata?.uid ?? '';
      const dir = join(kubelet.podLogs, `${namespace}_logger_${uid}`, 'main');
      renameSync(join(dir, '0.log'), join(dir, '0.log.rotated'));
      const cri = newClient();
      try {
        const { containers } = await cri.runtime.call('ListContainers', { filter: { labelSelector: { 'io.kubernetes.pod.uid': uid } } });
        await cri.runtime.call('ReopenContainerLog', { containerId: containers[0]?.id ?? '' });
      } finally {
        cri.close();
      }
      const rotatedAt = Math.max(...lineNumbers());
      await eventually('lines written after the rotation', () => (lineNumbers().some((n) => n > rotatedAt + 10) ? true : undefined), 20_000);
      const seen = lineNumbers();
      // In order and with no line lost at the rotation (the file was read to its end first).
      expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => first + i));
      expect(follow.child.exitCode).toBeNull();
    } finally {
      follow.stop();
    }
  });

  it('serves kubectl logs --previous after a restart', async () => {
    const restarted = await eventually(
      'the crasher to restart',
      async () => {
        const p = await core.readNamespacedPod({ name: 'crasher', namespace });
        return (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? p : undefined;
      },
      60_000,
    );
    const previous = await kctl(['logs', '-n', namespace, 'crasher', '--previous']);
    expect(previous.code).toBe(0);
    expect(previous.stdout).toMatch(/^instance \d+\n$/);
    const lastId = restarted.status?.containerStatuses?.[0]?.lastState?.terminated?.containerID;
    expect(lastId).toMatch(/^containerd:\/\//);
    const none = await kctl(['logs', '-n', namespace, 'logger', '--previous']);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('previous terminated container "main" in pod "logger" not found');
  });

  for (const [transport, env] of [
    ['websockets', {}],
    ['SPDY', spdy],
  ] as const) {
    it(`runs kubectl exec with stdin and a non-zero exit code (${transport})`, async () => {
      await waitRunning('web');
      const wsBefore = await websocketStreams('exec');
      const r = await kctl(['exec', '-i', '-n', namespace, 'web', '--', 'sh', '-c', 'cat; echo to-stderr >&2; exit 3'], { input: 'hello from stdin\n', env });
      expect(r.stdout).toBe('hello from stdin\n');
      expect(r.stderr).toContain('to-stderr');
      expect(r.code).toBe(3);
      // Over websockets the API server hands the stream to the kubelet, which ends the websocket itself.
      expect(await websocketStreams('exec')).toBe(wsBefore + (transport === 'websockets' ? 1 : 0));
    });
  }

  it('runs kubectl exec -it under a pty, with the terminal size', async () => {
    // The pause lets the terminal size, sent as the stream opens, arrive before stty asks for it.
    const command = `${tb.kubectl} --kubeconfig ${tb.adminKubeconfig} exec -it -n ${namespace} web -- sh -c 'sleep 1; tty; stty size'`;
    // `script` gives kubectl a terminal of a known size.
    const r = await new Promise<Run>((resolve) => {
      // stdin stays open (an EOF would end the terminal session early); the command ends by itself.
      const child = spawn('script', ['-qec', `stty rows 33 cols 101; ${command}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000 });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr: '' }));
    });
    expect(r.stdout).toMatch(/\/dev\/pts\/\d+/);
    expect(r.stdout).toContain('33 101');
  });

  it('attaches to a running container with kubectl attach', async () => {
    await waitRunning('reader');
    for (const env of [{}, spdy]) {
      const attach = kctlBackground(['attach', '-i', '-n', namespace, 'reader', '-c', 'main'], env);
      try {
        await new Promise((r) => setTimeout(r, 1500));
        attach.child.stdin?.write('ping\n');
        await eventually('the container to answer through attach', () => (attach.output().includes('got ping') ? true : undefined), 20_000);
      } finally {
        attach.stop();
      }
    }
  });

  it('forwards a port with kubectl port-forward to an HTTP server in the pod (websockets and SPDY)', async () => {
    await waitRunning('web');
    for (const env of [{}, spdy]) {
      const forward = kctlBackground(['port-forward', '-n', namespace, 'pod/web', ':80'], env);
      try {
        const port = await eventually('port-forward to listen', () => /Forwarding from 127\.0\.0\.1:(\d+) -> 80/.exec(forward.output())?.[1]);
        const body = await eventually('the page through the forward', async () => (await fetch(`http://127.0.0.1:${port}/`)).text());
        expect(body).toBe('hello from tskube busybox\n');
      } finally {
        forward.stop();
      }
    }
  });

  it('serves exec over websockets straight to the kubelet: v4 passed to the runtime, v5 with stdin closed', async () => {
    const url = (cmd: string[], extra: string) =>
      `wss://${hostIP}:${kubelet.apiPort}/exec/${namespace}/web/main?${cmd.map((c) => `command=${encodeURIComponent(c)}`).join('&')}&${extra}`;
    const session = (target: string, protocol: string, onOpen: (ws: WebSocket) => void) =>
      new Promise<{ protocol: string; channels: Map<number, string> }>((resolve, reject) => {
        const ws = new WebSocket(target, [protocol], { ca, ...adminCert });
        const channels = new Map<number, string>();
        ws.on('open', () => onOpen(ws));
        ws.on('message', (data: Buffer) => {
          if (data.length > 1) channels.set(data[0] as number, (channels.get(data[0] as number) ?? '') + data.subarray(1).toString());
        });
        ws.on('close', () => resolve({ protocol: ws.protocol, channels }));
        ws.on('error', reject);
      });
    const v4 = await session(url(['echo', 'hi'], 'output=1&error=1'), 'v4.channel.k8s.io', () => undefined);
    expect(v4.protocol).toBe('v4.channel.k8s.io');
    expect(v4.channels.get(1)).toBe('hi\n');
    expect(JSON.parse(v4.channels.get(3) ?? '{}')).toMatchObject({ status: 'Success' });
    const v5 = await session(url(['sh', '-c', 'cat; exit 4'], 'input=1&output=1&error=1'), 'v5.channel.k8s.io', (ws) => {
      ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('through v5\n')]));
      ws.send(Buffer.from([255, 0]));
    });
    expect(v5.protocol).toBe('v5.channel.k8s.io');
    expect(v5.channels.get(1)).toBe('through v5\n');
    expect(JSON.parse(v5.channels.get(3) ?? '{}')).toMatchObject({
      status: 'Failure',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '4' }] },
    });
  });

  it('serves /pods, /runningpods/, /configz and /healthz through the API server node proxy', async () => {
    const pods = (await raw('/pods')) as { kind: string; items: V1Pod[] };
    expect(pods.kind).toBe('PodList');
    expect(pods.items.map((p) => p.metadata?.name)).toEqual(expect.arrayContaining(['logger', 'web', 'crasher', 'reader']));
    const running = (await raw('/runningpods/')) as { items: V1Pod[] };
    // The image as the runtime lists it (containerd 1.6: the image ID), as upstream shows it.
    expect(running.items.find((p) => p.metadata?.name === 'web')?.spec?.containers).toEqual([
      { name: 'main', image: expect.stringMatching(/./), resources: {} },
    ]);
    const configz = (await raw('/configz')) as { kubeletconfig: Record<string, unknown> };
    expect(configz.kubeletconfig).toMatchObject({ kind: 'KubeletConfiguration', port: kubelet.apiPort, serverTLSBootstrap: true, syncFrequency: '1m0s' });
    expect((await kctl(['get', '--raw', `/api/v1/nodes/${nodeName}/proxy/healthz`])).stdout).toBe('ok');
  });

  it('gives a metrics-server the CPU and memory it reads from /stats/summary and /metrics/resource', async () => {
    type Summary = {
      node: { nodeName: string; cpu: { time: string; usageCoreNanoSeconds: number }; memory: { workingSetBytes: number } };
      pods: {
        podRef: { name: string; namespace: string };
        containers: { name: string; cpu: { usageCoreNanoSeconds: number }; memory: { workingSetBytes: number } }[];
      }[];
    };
    const first = (await raw('/stats/summary')) as Summary;
    await new Promise((r) => setTimeout(r, 2000));
    const second = (await raw('/stats/summary')) as Summary;
    expect(second.node.nodeName).toBe(nodeName);
    // What `kubectl top node` shows: the CPU rate between two scrapes, and the working set.
    const seconds = (Date.parse(second.node.cpu.time) - Date.parse(first.node.cpu.time)) / 1000;
    const nodeCores = (second.node.cpu.usageCoreNanoSeconds - first.node.cpu.usageCoreNanoSeconds) / 1e9 / Math.max(seconds, 1);
    expect(nodeCores).toBeGreaterThan(0);
    expect(second.node.memory.workingSetBytes).toBeGreaterThan(0);
    const logger = (s: Summary) =>
      s.pods.find((p) => p.podRef.name === 'logger' && p.podRef.namespace === namespace)?.containers.find((c) => c.name === 'main');
    // What `kubectl top pod` shows for the logger, which forks a sleep ten times a second.
    expect(logger(second)?.cpu.usageCoreNanoSeconds).toBeGreaterThan(logger(first)?.cpu.usageCoreNanoSeconds ?? Infinity);
    expect(logger(second)?.memory.workingSetBytes).toBeGreaterThan(0);

    const text = (await kctl(['get', '--raw', `/api/v1/nodes/${nodeName}/proxy/metrics/resource`])).stdout;
    expect(promSyntaxErrors(text)).toEqual([]);
    const cpu = new RegExp(`^container_cpu_usage_seconds_total\\{container="main",namespace="${namespace}",pod="logger"\\} ([0-9.e+-]+) \\d+$`, 'm').exec(text);
    expect(Number(cpu?.[1])).toBeGreaterThan(0);
    expect(text).toMatch(/^node_memory_working_set_bytes [0-9.e+]+ \d+$/m);
    expect(text).toMatch(/^resource_scrape_error 0$/m);
  });

  it('serves /metrics as Prometheus text with upstream metric names', async () => {
    const text = (await kctl(['get', '--raw', `/api/v1/nodes/${nodeName}/proxy/metrics`])).stdout;
    expect(promSyntaxErrors(text)).toEqual([]);
    expect(Number(/^kubelet_running_pods (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(4);
    expect(text).toMatch(/^kubelet_running_containers\{container_state="running"\} \d+$/m);
    expect(text).toMatch(/^kubelet_runtime_operations_total\{operation_type="list_podsandbox"\} \d+$/m);
    expect(text).toMatch(/^kubelet_runtime_operations_duration_seconds_bucket\{le="0\.005",operation_type="create_container"\} \d+$/m);
    expect(Number(/^kubelet_pod_start_duration_seconds_count (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(4);
    expect(Number(/^kubelet_pleg_relist_duration_seconds_count (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
    expect(text).toMatch(new RegExp(`^kubelet_node_name\\{node="${nodeName}"\\} 1$`, 'm'));
    expect(text).toMatch(/^kubelet_certificate_manager_server_ttl_seconds \d+/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
  });

  it('refuses without credentials (401), a token without RBAC (403), and lets the token in once bound to nodes/proxy', async () => {
    expect(await kubeletRequest(kubelet.apiPort, '/pods')).toEqual({ status: 401, body: 'Unauthorized\n' });
    expect((await kubeletRequest(kubelet.apiPort, '/pods', { token: 'not-a-token' })).status).toBe(401);
    expect((await kctl(['create', 'serviceaccount', '-n', namespace, 'reader-sa'])).code).toBe(0);
    const token = (await kctl(['create', 'token', '-n', namespace, 'reader-sa'])).stdout.trim();
    const user = `system:serviceaccount:${namespace}:reader-sa`;
    expect(await kubeletRequest(kubelet.apiPort, '/pods', { token })).toEqual({
      status: 403,
      body: `Forbidden (user=${user}, verb=get, resource=nodes, subresource(s)=[pods proxy])\n`,
    });
    const name = `kubelet-api-e2e-${suffix}`;
    expect((await kctl(['create', 'clusterrole', name, '--verb=get', '--resource=nodes/proxy'])).code).toBe(0);
    expect((await kctl(['create', 'clusterrolebinding', name, `--clusterrole=${name}`, `--serviceaccount=${namespace}:reader-sa`])).code).toBe(0);
    const allowed = await eventually('the binding to count', async () => {
      const r = await kubeletRequest(kubelet.apiPort, '/pods', { token });
      return r.status === 200 ? r : undefined;
    });
    expect((JSON.parse(allowed.body) as { kind: string }).kind).toBe('PodList');
    // nodes/proxy does not cover the paths with a subresource of their own.
    const stats = await kubeletRequest(kubelet.apiPort, '/stats/summary', { token });
    expect(stats.status).toBe(403);
    expect(stats.body).toContain('subresource(s)=[stats]');
    // The cluster's client certificates are users too: the admin (system:masters) gets in.
    expect((await kubeletRequest(kubelet.apiPort, '/healthz', { cert: adminCert })).status).toBe(200);
  });

  it('refuses a client certificate not signed by the client CA at TLS, before any HTTP', async () => {
    const stranger = selfSignedCertificate({ host: 'stranger', dnsNames: ['stranger'], ips: [], now: new Date() });
    const outcome = await kubeletRequest(kubelet.apiPort, '/healthz', { cert: { cert: stranger.certPem, key: stranger.keyPem } }).then(
      (r) => `HTTP ${r.status}`,
      (err: NodeJS.ErrnoException) => err.code ?? err.message,
    );
    expect(outcome).toMatch(/^(ECONNRESET|EPIPE|ERR_SSL_.*|socket hang up)$/);
  });
});

/** Lines of Prometheus text exposition that do not parse (comments must be HELP/TYPE, samples `name{labels} value [timestamp]`). */
function promSyntaxErrors(text: string): string[] {
  const sample = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (NaN|[+-]?Inf|[+-]?[0-9.]+(e[+-]?[0-9]+)?)( -?\d+)?$/;
  return text
    .split('\n')
    .filter((l) => l !== '')
    .filter((l) => !(l.startsWith('# HELP ') || /^# TYPE \S+ (counter|gauge|histogram|summary|untyped)$/.test(l) || sample.test(l)));
}

async function websocketStreams(subresource: string): Promise<number> {
  const text = (await kctl(['get', '--raw', `/api/v1/nodes/${nodeName}/proxy/metrics`])).stdout;
  return Number(new RegExp(`^kubelet_websocket_streaming_requests_total\\{subresource="${subresource}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
}
