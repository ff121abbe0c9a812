// Probes end to end: the tskube kubelet on the real containerd, joined to the real control
// plane (whose endpoint-slice controller turns readiness into Service endpoints). Probes go
// from the host to the pods' IPs over the CNI bridge, or into containers with ExecSync; the
// test changes what a container answers by writing files in it through CRI ExecSync.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CoreV1Api, DiscoveryV1Api, KubeConfig, type V1Container, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CriClient } from '../../src/cri-client/index.js';
import { startTestKubelet, type TestKubelet } from '../support/kubelet.js';
import { newClient, testImage } from '../support/runtime.js';
import { eventually } from '../testbed/eventually.js';
import { deleteNamespaceAndWait } from '../support/namespaces.js';

const tb = inject('testbed');
const suffix = randomBytes(3).toString('hex');
const nodeName = `tskube-probes-${suffix}`;
const namespace = `probes-e2e-${suffix}`;
const grpcImage = 'localhost/tskube/grpc-health:latest';

const kc = new KubeConfig();
kc.loadFromFile(tb.adminKubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const discovery = kc.makeApiClient(DiscoveryV1Api);

const c = (name: string, extra: Partial<V1Container> = {}): V1Container => ({
  name,
  image: testImage,
  imagePullPolicy: 'IfNotPresent',
  command: ['sleep', '3600'],
  ...extra,
});
const every1s = { periodSeconds: 1, failureThreshold: 1 };
function pod(name: string, containers: V1Container[], extra: Partial<NonNullable<V1Pod['spec']>> = {}, labels: Record<string, string> = {}): V1Pod {
  return { metadata: { name, namespace, labels }, spec: { nodeName, terminationGracePeriodSeconds: 2, containers, ...extra } };
}

/** A TCP server on 8080 that is down while /tmp/down exists (busybox httpd, started and killed by a shell loop). */
const switchableServer = [
  'sh',
  '-c',
  'while true; do if [ -e /tmp/down ]; then sleep 0.2; else httpd -f -p 8080 -h /var/www & pid=$!; while [ ! -e /tmp/down ]; do sleep 0.2; done; kill $pid; wait $pid; fi; done',
];

const pods: V1Pod[] = [
  pod('ready-file', [c('app', { readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, ...every1s } })], {}, { app: `ready-file-${suffix}` }),
  pod('liveness-http', [
    c('web', {
      command: ['sh', '-c', 'echo ok > /var/www/healthz; exec httpd -f -p 8080 -h /var/www'],
      ports: [{ name: 'http', containerPort: 8080 }],
      // Two failures in a row and a 5 s timeout: a loaded machine's slow answer must not restart it before the test breaks it.
      livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1, failureThreshold: 2, timeoutSeconds: 5 },
    }),
  ]),
  pod('slow-start', [
    c('app', {
      command: ['sh', '-c', 'sleep 8; touch /tmp/started; exec sleep 3600'],
      startupProbe: { exec: { command: ['cat', '/tmp/started'] }, periodSeconds: 1, failureThreshold: 30 },
      // Would kill the container at its first run: it must not run before the startup probe passed.
      livenessProbe: { exec: { command: ['cat', '/tmp/started'] }, ...every1s },
    }),
  ]),
  pod('tcp', [c('server', { command: switchableServer, readinessProbe: { tcpSocket: { port: 8080 }, ...every1s } })]),
  pod('grpc', [c('server', { image: grpcImage, command: undefined, args: ['-port', '9000'], readinessProbe: { grpc: { port: 9000 }, ...every1s } })]),
  pod('grpc-db', [
    c('server', {
      image: grpcImage,
      command: undefined,
      args: ['-port', '9000', '-service', 'db'],
      livenessProbe: { grpc: { port: 9000, service: 'db' }, ...every1s },
    }),
  ]),
  // Ignores SIGTERM (sleep as PID 1): only the SIGKILL at the end of the grace period stops it.
  pod('grace', [c('app', { livenessProbe: { exec: { command: ['cat', '/tmp/never'] }, ...every1s, terminationGracePeriodSeconds: 2 } })], {
    terminationGracePeriodSeconds: 60,
  }),
  // One bad probe per pod: the event spam filter (25 per object, as upstream's) would drop some of several failing every second.
  pod('bad', [
    c('good', { command: ['httpd', '-f', '-p', '8080', '-h', '/var/www'], readinessProbe: { httpGet: { path: '/', port: 8080 }, ...every1s } }),
    c('hang', { readinessProbe: { exec: { command: ['sleep', '10'] }, periodSeconds: 2, timeoutSeconds: 1, failureThreshold: 1 } }),
  ]),
  pod('bad-refused', [c('refused', { readinessProbe: { httpGet: { path: '/healthz', port: 8081 }, ...every1s } })]),
  pod('bad-nocmd', [c('nocmd', { readinessProbe: { exec: { command: ['/no/such/binary'] }, ...every1s } })]),
  pod('grpc-nohealth', [
    c('server', { image: grpcImage, command: undefined, args: ['-port', '9000', '-no-health'], readinessProbe: { grpc: { port: 9000 }, ...every1s } }),
  ]),
  pod('gated', [c('app')], { readinessGates: [{ conditionType: 'tskube.test/gate' }] }),
  // Readiness that would pass at once, held back by its initial delay: a restarted instance must start un-ready again.
  pod('restarted', [
    c('app', {
      command: ['sh', '-c', 'touch /tmp/alive; exec sleep 3600'],
      livenessProbe: { exec: { command: ['cat', '/tmp/alive'] }, ...every1s },
      readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1, initialDelaySeconds: 20 },
    }),
  ]),
  // On SIGTERM it removes /tmp/alive and runs on: both probes fail from then on while the pod terminates.
  pod(
    'terminating',
    [
      c('app', {
        command: ['sh', '-c', 'touch /tmp/alive; trap "rm -f /tmp/alive" TERM; while true; do sleep 1; done'],
        livenessProbe: { exec: { command: ['cat', '/tmp/alive'] }, ...every1s },
        readinessProbe: { exec: { command: ['cat', '/tmp/alive'] }, ...every1s },
      }),
    ],
    { terminationGracePeriodSeconds: 20 },
  ),
];

const readPod = (name: string) => core.readNamespacedPod({ name, namespace });
const condition = (p: V1Pod, type: string) => p.status?.conditions?.find((x) => x.type === type);
const containerStatus = (p: V1Pod, name: string) => p.status?.containerStatuses?.find((s) => s.name === name);
const isReady = async (name: string) => condition(await readPod(name), 'Ready')?.status === 'True';

/** The messages of the pod's events with this reason (aggregated repeats count once). */
async function eventMessages(name: string, reason: string): Promise<string[]> {
  const { items } = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name},reason=${reason}` });
  return items.map((e) => e.message ?? '');
}

async function waitForEvent(name: string, reason: string, match: RegExp | string): Promise<string> {
  return eventually(`a ${reason} event on ${name} matching ${match}`, async () =>
    (await eventMessages(name, reason)).find((m) => (typeof match === 'string' ? m === match : match.test(m))),
  );
}

/** Prometheus text as series: name, labels, value. */
function parseMetrics(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(l);
      const labels = Object.fromEntries([...(m?.[2] ?? '').matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
      return { name: m?.[1] ?? '', labels, value: Number(m?.[3]) };
    });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  await eventually(what, async () => ((await check()) ? true : undefined), timeoutMs);
}

describe('probes', () => {
  let kubelet: TestKubelet;
  let cri: CriClient;

  /** Runs a command in a pod's container through CRI, as `kubectl exec` would. */
  async function execIn(podName: string, container: string, cmd: string[]): Promise<void> {
    const id = containerStatus(await readPod(podName), container)?.containerID?.replace(/^containerd:\/\//, '') ?? '';
    const r = await cri.runtime.call('ExecSync', { containerId: id, cmd, timeout: 10 });
    expect(r.exitCode, `${cmd.join(' ')} in ${podName}/${container}: ${r.stderr.toString()}`).toBe(0);
  }

  beforeAll(async () => {
    // The gRPC health server image is built locally (Go module proxy) and cached; test/run does the same.
    const bin = execFileSync(join(import.meta.dirname, '../images/grpc-health/build.sh'), { encoding: 'utf8' }).trim();
    execFileSync(process.execPath, [join(import.meta.dirname, '../images/build-images.ts'), '--grpc-health', bin], { stdio: 'ignore' });
    cri = newClient();
    kubelet = await startTestKubelet({
      nodeName,
      namespaces: [namespace],
      args: ['--bootstrap-kubeconfig', tb.bootstrapKubeconfig, '--kubeconfig', join('/tmp', `tskube-probes-${suffix}.kubeconfig`)],
      extraConfig: { authentication: { anonymous: { enabled: true } }, authorization: { mode: 'AlwaysAllow' } },
    });
    await eventually(`node ${nodeName} Ready`, async () => {
      const ready = (await core.readNode({ name: nodeName }).catch(() => undefined))?.status?.conditions?.find((x) => x.type === 'Ready')?.status;
      return ready === 'True' ? true : undefined;
    });
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedService({
      namespace,
      body: { metadata: { name: 'ready-file' }, spec: { selector: { app: `ready-file-${suffix}` }, ports: [{ port: 80, targetPort: 8080 }] } },
    });
    await Promise.all(pods.map((body) => core.createNamespacedPod({ namespace, body })));
    // A static pod: the API would refuse its header name, so only a node's own manifest can carry it.
    kubelet.writeManifest('bad-header.yaml', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'bad-header', namespace },
      spec: {
        terminationGracePeriodSeconds: 2,
        containers: [
          c('web', {
            command: ['httpd', '-f', '-p', '8080', '-h', '/var/www'],
            readinessProbe: { httpGet: { path: '/', port: 8080, httpHeaders: [{ name: 'bad header', value: 'x' }] }, ...every1s },
          }),
        ],
      },
    });
    await waitFor('every pod Running', async () => {
      const { items } = await core.listNamespacedPod({ namespace });
      return pods.every((p) => items.find((i) => i.metadata?.name === p.metadata?.name)?.status?.phase === 'Running');
    });
  }, 300_000);

  afterAll(async () => {
    kubelet?.removeManifest('bad-header.yaml');
    await deleteNamespaceAndWait(core, namespace);
    await kubelet?.destroy();
    cri?.close();
    await core.deleteNode({ name: nodeName }).catch(() => undefined);
  }, 120_000);

  it('readiness from a file: Ready only once the file exists; in and out of the Service EndpointSlice with it', async () => {
    const ip = (await readPod('ready-file')).status?.podIP ?? '';
    // The probe looked and found no file.
    await waitForEvent('ready-file', 'Unhealthy', /^Readiness probe failed: cat: can't open '\/tmp\/ready': No such file or directory/);
    const before = await readPod('ready-file');
    expect(condition(before, 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });
    expect(containerStatus(before, 'app')).toMatchObject({ ready: false, started: true });
    const endpoint = async () => {
      const { items } = await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: 'kubernetes.io/service-name=ready-file' });
      return items.flatMap((s) => s.endpoints ?? []).find((e) => e.addresses.includes(ip));
    };
    await waitFor('the pod in the EndpointSlice, not ready', async () => (await endpoint())?.conditions?.ready === false);

    await execIn('ready-file', 'app', ['touch', '/tmp/ready']);
    await waitFor('the pod Ready', () => isReady('ready-file'), 30_000);
    expect(containerStatus(await readPod('ready-file'), 'app')?.ready).toBe(true);
    await waitFor('the pod ready in the EndpointSlice', async () => (await endpoint())?.conditions?.ready === true, 30_000);

    await execIn('ready-file', 'app', ['rm', '/tmp/ready']);
    await waitFor('the pod not Ready', async () => !(await isReady('ready-file')), 30_000);
    await waitFor('the pod out of the ready endpoints', async () => (await endpoint())?.conditions?.ready === false, 30_000);
    expect(containerStatus(await readPod('ready-file'), 'app')?.restartCount).toBe(0);
  });

  it('liveness over HTTP: a probe that starts failing restarts the container, and the events say why', async () => {
    await waitFor('the web container running', async () => containerStatus(await readPod('liveness-http'), 'web')?.state?.running !== undefined);
    expect(containerStatus(await readPod('liveness-http'), 'web')?.restartCount).toBe(0);
    await execIn('liveness-http', 'web', ['rm', '/var/www/healthz']);
    await waitFor('a restart', async () => (containerStatus(await readPod('liveness-http'), 'web')?.restartCount ?? 0) >= 1, 30_000);
    await waitForEvent('liveness-http', 'Unhealthy', 'Liveness probe failed: HTTP probe failed with statuscode: 404');
    await waitForEvent('liveness-http', 'Killing', 'Container web failed liveness probe, will be restarted');
    // The new instance writes the file again: it runs on and stays.
    await waitFor('the web container running again', async () => containerStatus(await readPod('liveness-http'), 'web')?.state?.running !== undefined);
  });

  it('a slow starter with a startup probe is not killed by its liveness probe', async () => {
    await waitFor('started', async () => containerStatus(await readPod('slow-start'), 'app')?.started === true, 40_000);
    await waitFor('Ready', () => isReady('slow-start'), 10_000);
    const s = containerStatus(await readPod('slow-start'), 'app');
    expect(s?.restartCount).toBe(0);
    // The startup probe did fail meanwhile; the liveness probe never ran before it passed.
    expect((await eventMessages('slow-start', 'Unhealthy')).some((m) => m.startsWith('Startup probe failed: '))).toBe(true);
    expect((await eventMessages('slow-start', 'Unhealthy')).some((m) => m.startsWith('Liveness'))).toBe(false);
  });

  it('a TCP probe passes and fails as the server does', async () => {
    await waitFor('Ready', () => isReady('tcp'), 30_000);
    const ip = (await readPod('tcp')).status?.podIP;
    await execIn('tcp', 'server', ['touch', '/tmp/down']);
    await waitFor('not Ready', async () => !(await isReady('tcp')), 30_000);
    await waitForEvent('tcp', 'Unhealthy', `Readiness probe failed: dial tcp ${ip}:8080: connect: connection refused`);
    await execIn('tcp', 'server', ['rm', '/tmp/down']);
    await waitFor('Ready again', () => isReady('tcp'), 30_000);
  });

  it('a gRPC probe passes and fails as the health server says', async () => {
    await waitFor('Ready', () => isReady('grpc'), 30_000);
    await execIn('grpc', 'server', ['touch', '/tmp/not-serving']);
    await waitFor('not Ready', async () => !(await isReady('grpc')), 30_000);
    await waitForEvent('grpc', 'Unhealthy', 'Readiness probe failed: service unhealthy (responded with "NOT_SERVING")');
    await execIn('grpc', 'server', ['rm', '/tmp/not-serving']);
    await waitFor('Ready again', () => isReady('grpc'), 30_000);
  });

  it('a gRPC liveness probe of a named service restarts the server when it stops serving', async () => {
    await waitFor('Ready', () => isReady('grpc-db'), 30_000);
    await execIn('grpc-db', 'server', ['touch', '/tmp/not-serving']);
    await waitFor('a restart', async () => (containerStatus(await readPod('grpc-db'), 'server')?.restartCount ?? 0) >= 1, 30_000);
    await waitForEvent('grpc-db', 'Killing', 'Container server failed liveness probe, will be restarted');
  });

  it("a liveness probe's terminationGracePeriodSeconds shortens the kill", async () => {
    await waitFor('a restart', async () => (containerStatus(await readPod('grace'), 'app')?.restartCount ?? 0) >= 1, 40_000);
    const last = containerStatus(await readPod('grace'), 'app')?.lastState?.terminated;
    expect(last?.exitCode).toBe(137); // SIGKILL: it ignored SIGTERM for the whole grace period
    const ranMs = new Date(String(last?.finishedAt)).getTime() - new Date(String(last?.startedAt)).getTime();
    // The pod's own grace period is 60 s: killed after the probe's 2 s instead.
    expect(ranMs).toBeLessThan(15_000);
  });

  it('bad probes fail with a clear Unhealthy event each, and hold up no other probe', async () => {
    const ip = (await readPod('bad-refused')).status?.podIP;
    await waitForEvent('bad-refused', 'Unhealthy', `Readiness probe failed: Get "http://${ip}:8081/healthz": dial tcp ${ip}:8081: connect: connection refused`);
    await waitForEvent(
      'bad-nocmd',
      'Unhealthy',
      /^Readiness probe errored and resulted in unknown state: rpc error: code = Unknown desc = failed to exec in container: .*\/no\/such\/binary.*(no such file or directory|not found)/,
    );
    await waitForEvent('bad', 'Unhealthy', 'Readiness probe failed: command timed out: "sleep 10" timed out after 1s');
    await waitForEvent(
      'grpc-nohealth',
      'Unhealthy',
      'Readiness probe failed: error: this server does not implement the grpc health protocol (grpc.health.v1.Health): unknown service grpc.health.v1.Health',
    );
    await waitForEvent(
      `bad-header-${nodeName}`,
      'Unhealthy',
      /^Readiness probe failed: Get "http:\/\/10\.88\.\d+\.\d+:8080\/": net\/http: invalid header field name "bad header"$/,
    );
    // Meanwhile the good container of the same pod became ready on time, and nothing restarted.
    const bad = await readPod('bad');
    expect(containerStatus(bad, 'good')?.ready).toBe(true);
    expect(containerStatus(bad, 'hang')).toMatchObject({ ready: false, restartCount: 0 });
    expect(condition(bad, 'ContainersReady')?.message).toBe('containers with unready status: [hang]');
    expect(containerStatus(await readPod('bad-refused'), 'refused')).toMatchObject({ ready: false, restartCount: 0 });
    expect(containerStatus(await readPod('bad-nocmd'), 'nocmd')).toMatchObject({ ready: false, restartCount: 0 });
  });

  it('readinessGates: Ready waits for the gate condition another controller sets', async () => {
    await waitFor('the kubelet to report the gate', async () => condition(await readPod('gated'), 'Ready')?.reason === 'ReadinessGatesNotReady');
    expect(condition(await readPod('gated'), 'Ready')?.message).toBe('corresponding condition of pod readiness gate "tskube.test/gate" does not exist.');
    await core.patchNamespacedPodStatus({
      name: 'gated',
      namespace,
      body: [{ op: 'add', path: '/status/conditions/-', value: { type: 'tskube.test/gate', status: 'True', lastTransitionTime: new Date() } }],
    });
    await waitFor('Ready', () => isReady('gated'), 30_000);
  });

  it('serves /metrics/probes with upstream names and labels', async () => {
    const text = await new Promise<string>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: kubelet.apiPort, path: '/metrics/probes', rejectUnauthorized: false, agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });
    const uid = (await readPod('ready-file')).metadata?.uid;
    const series = parseMetrics(text);
    const of = (name: string, labels: Record<string, string>) =>
      series.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).map((s) => s.value);
    const mine = { container: 'app', pod: 'ready-file', namespace, pod_uid: uid ?? '', probe_type: 'Readiness' };
    expect(of('prober_probe_total', { ...mine, result: 'successful' })[0]).toBeGreaterThan(0);
    expect(of('prober_probe_total', { ...mine, result: 'failed' })[0]).toBeGreaterThan(0);
    const { pod_uid: _, ...durationLabels } = mine;
    expect(of('prober_probe_duration_seconds_count', durationLabels)[0]).toBeGreaterThan(0);
    expect(series.find((s) => s.name === 'prober_probe_duration_seconds_bucket' && s.labels['pod'] === 'ready-file')?.labels).not.toHaveProperty('pod_uid');
    expect(text).toMatch(/^process_start_time_seconds \d+/m);
  });

  it('results do not outlive the container: a restarted instance starts un-ready and not live-failed', async () => {
    await waitFor('Ready', () => isReady('restarted'), 60_000);
    const before = containerStatus(await readPod('restarted'), 'app');
    await execIn('restarted', 'app', ['rm', '/tmp/alive']);
    const after = await eventually('the new instance running', async () => {
      const s = containerStatus(await readPod('restarted'), 'app');
      return s?.restartCount === 1 && s.state?.running && s.containerID !== before?.containerID ? s : undefined;
    });
    // Its readiness probe has not run yet (20 s initial delay): the old instance's Ready must not carry over.
    expect(after).toMatchObject({ ready: false, started: true });
    expect(condition(await readPod('restarted'), 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });
    await waitFor('Ready again once the new readiness probe passed', () => isReady('restarted'), 60_000);
    // Nor did the liveness failure carry over: the new instance was not killed at once.
    expect(containerStatus(await readPod('restarted'), 'app')?.restartCount).toBe(1);
  });

  it('a terminating pod: liveness stops (no kill for failing it), readiness goes on', async () => {
    await waitFor('Ready', () => isReady('terminating'), 30_000);
    await core.deleteNamespacedPod({ name: 'terminating', namespace });
    // The positive sign the prober looked after SIGTERM: readiness, still running, saw the file gone.
    await waitForEvent('terminating', 'Unhealthy', /^Readiness probe failed: cat: can't open '\/tmp\/alive'/);
    await waitFor('the pod not Ready', async () => condition(await readPod('terminating'), 'Ready')?.status === 'False', 20_000);
    // Had liveness run after SIGTERM, it would have found the file gone, as readiness did. (A
    // loaded machine may time out a liveness run before the delete: that is not what is judged.)
    expect((await eventMessages('terminating', 'Unhealthy')).filter((m) => m.startsWith('Liveness') && m.includes("can't open"))).toEqual([]);
    expect((await eventMessages('terminating', 'Killing')).filter((m) => /liveness/.test(m))).toEqual([]);
  });

  it('lifecycle hooks: httpGet postStart and preStop reach the server, a preStop sleep delays SIGTERM, a tcpSocket hook fails', async () => {
    const hits: { path: string; agent: string; at: number }[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      hits.push({ path: req.url ?? '', agent: String(req.headers['user-agent']), at: Date.now() });
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    // Each container ends at once on SIGTERM: what keeps them is the hooks.
    const quick = ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.2; done'];
    const hook = (path: string) => ({ httpGet: { host: '127.0.0.1', port, path } });
    try {
      await core.createNamespacedPod({
        namespace,
        body: pod(
          'hooks',
          [
            c('http', { command: quick, lifecycle: { postStart: hook('/post-start'), preStop: hook('/pre-stop') } }),
            c('sleeper', { command: quick, lifecycle: { preStop: { sleep: { seconds: 5 } } } }),
            c('tcp', { command: quick, lifecycle: { preStop: { tcpSocket: { port: 8080 } } } }),
          ],
          { terminationGracePeriodSeconds: 30 },
        ),
      });
      await waitFor('running', async () => (await readPod('hooks')).status?.phase === 'Running');
      expect(hits.map((h) => [h.path, h.agent])).toEqual([['/post-start', 'kube-lifecycle/1.36']]);

      const deleted = Date.now();
      await core.deleteNamespacedPod({ name: 'hooks', namespace });
      await waitFor('the preStop request', async () => hits.some((h) => h.path === '/pre-stop'), 20_000);
      await waitFor('the pod gone', async () => (await readPod('hooks').catch(() => undefined)) === undefined, 60_000);
      const tookMs = Date.now() - deleted;
      // The sleeper got SIGTERM only after its 5 s sleep, and then ended at once, long before the 30 s grace.
      expect(tookMs).toBeGreaterThanOrEqual(5000);
      expect(tookMs).toBeLessThan(25_000);
      expect(await eventMessages('hooks', 'FailedPreStopHook')).toEqual([
        'Cannot run handler: invalid handler: tcpSocket is not supported as a lifecycle handler',
      ]);
    } finally {
      server.close();
    }
  });
});
