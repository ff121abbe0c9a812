// tskube proxy with the real control plane and the tskube kubelet on the shared
// containerd: Services answer through their ClusterIPs, and a pod reaches the API
// server through the `kubernetes` Service. The control plane runs in a network namespace
// with a routed address (testbed --netns), so that Service has a real endpoint.
//
// The kubelet's pods live on the host's CNI bridge, so this proxy programs the host's
// namespace: its own tables only (`ip kube-proxy`, `ip6 kube-proxy`), removed at the end,
// with the host's blackhole routes for 10.96.0.0/12 and 10.88.0.0/16 in place throughout.
// Clients are pods: with the blackhole route, a host process cannot even connect() to a
// ClusterIP (the route is looked up before the nat output hook can DNAT).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, DiscoveryV1Api, KubeConfig, RbacAuthorizationV1Api, type V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cleanupAll } from '../../src/proxy/cleanup.js';
import { resolveProxyOptions } from '../../src/proxy/config/index.js';
import { processExec } from '../../src/proxy/exec/exec.js';
import { runProxy } from '../../src/proxy/proxy.js';
import { startTestKubelet, type TestKubelet } from '../support/kubelet.js';
import { testImage } from '../support/runtime.js';
import { eventually } from '../testbed/eventually.js';
import { down, up } from '../testbed/index.js';
import type { ProvidedTestbed } from '../testbed/global-setup.js';
import { freePorts } from '../testbed/ports.js';

const suffix = randomBytes(3).toString('hex');
const nodeName = `tskube-proxy-e2e-${suffix}`;
const namespace = `proxy-e2e-${suffix}`;

describe('tskube proxy with a control plane and the tskube kubelet', () => {
  let tb: ProvidedTestbed;
  let ownTestbed: string | undefined;
  let kubelet: TestKubelet;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let rbac: RbacAuthorizationV1Api;
  let discovery: DiscoveryV1Api;
  const proxy = new AbortController();
  let proxyDone: Promise<void> | undefined;
  let healthzPort = 0;

  /** The status of a run-to-completion pod once it has finished. */
  const finishedStatus = (name: string) =>
    eventually(
      `pod ${name} to finish`,
      async () => {
        const st = (await core.readNamespacedPod({ name, namespace })).status;
        return st?.phase === 'Succeeded' || st?.phase === 'Failed' ? st : undefined;
      },
      90_000,
    );

  beforeAll(async () => {
    const provided = inject('testbed');
    if (provided.network) tb = provided;
    else {
      const { readyMs: _readyMs, ...made } = await up({ netns: true, timeoutMs: 240_000, log: (m) => process.stderr.write(`[testbed --netns] ${m}\n`) });
      tb = made;
      ownTestbed = made.dir;
    }
    const kc = new KubeConfig();
    kc.loadFromFile(tb.adminKubeconfig);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    discovery = kc.makeApiClient(DiscoveryV1Api);
    kubelet = await startTestKubelet({
      nodeName,
      namespaces: [namespace],
      args: ['--bootstrap-kubeconfig', tb.bootstrapKubeconfig, '--kubeconfig', join('/tmp', `tskube-proxy-e2e-${suffix}.kubeconfig`)],
    });
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const [healthz, metrics] = await freePorts(2);
    healthzPort = healthz!;
    const { options } = await resolveProxyOptions(
      [
        `--kubeconfig=${tb.adminKubeconfig}`,
        `--hostname-override=${nodeName}`,
        '--cluster-cidr=10.88.0.0/16',
        `--healthz-bind-address=127.0.0.1:${healthz}`,
        `--metrics-bind-address=127.0.0.1:${metrics}`,
        '--iptables-min-sync-period=100ms',
        // The host's conntrack settings and this worker's OOM score stay as they are.
        '--conntrack-max-per-core=0',
        '--conntrack-tcp-timeout-established=0s',
        '--conntrack-tcp-timeout-close-wait=0s',
        '--oom-score-adj=0',
      ],
      { hostname: nodeName },
    );
    proxyDone = runProxy(options, proxy.signal, { log: pino({ level: process.env['TSKUBE_LOG_LEVEL'] ?? 'warn' }) });
    await eventually(`node ${nodeName} Ready`, async () => {
      const ready = (await core.readNode({ name: nodeName }).catch(() => undefined))?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
      return ready === 'True' ? true : undefined;
    });
    await eventually('the proxy healthy', async () => ((await fetch(`http://127.0.0.1:${healthzPort}/healthz`)).status === 200 ? true : undefined));
  }, 300_000);

  afterAll(async () => {
    await core?.deleteNamespace({ name: namespace }).catch(() => undefined);
    await eventually(
      'the namespace pods to go',
      async () => ((await core.listNamespacedPod({ namespace })).items.length === 0 ? true : undefined),
      60_000,
    ).catch(() => undefined);
    proxy.abort();
    await proxyDone?.catch(() => undefined);
    await cleanupAll(processExec);
    await kubelet?.destroy();
    await core?.deleteNode({ name: nodeName }).catch(() => undefined);
    if (ownTestbed) await down(ownTestbed);
  }, 180_000);

  it('answers through the ClusterIP of a Service in front of a Deployment, from every replica', async () => {
    const labels = { app: 'web' };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              terminationGracePeriodSeconds: 1,
              containers: [
                {
                  name: 'httpd',
                  image: testImage,
                  imagePullPolicy: 'IfNotPresent',
                  command: ['sh', '-c', 'mkdir -p /tmp/w && hostname > /tmp/w/index.html && exec httpd -f -p 8080 -h /tmp/w'],
                },
              ],
            },
          },
        },
      },
    });
    const svc = await core.createNamespacedService({
      namespace,
      body: { metadata: { name: 'web' }, spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] } },
    });
    const clusterIP = svc.spec!.clusterIP!;
    const pods = await eventually(
      'two web pods running',
      async () => {
        const list = (await core.listNamespacedPod({ namespace, labelSelector: 'app=web' })).items.filter((p) => p.status?.phase === 'Running');
        return list.length === 2 ? list.map((p) => p.metadata!.name!) : undefined;
      },
      90_000,
    );
    await eventually(
      'two ready endpoints in the EndpointSlice',
      async () => {
        const slices = await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: 'kubernetes.io/service-name=web' });
        const ready = slices.items.flatMap((sl) => sl.endpoints ?? []).filter((e) => e.conditions?.ready !== false);
        return ready.length === 2 ? true : undefined;
      },
      60_000,
    );
    // A client pod asks the ClusterIP until it has heard two different replicas (at most 200
    // times, the first ones maybe before the servers listen; busybox's wget -T crashes, hence
    // timeout) and reports the distinct answers.
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'client' },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'wget',
              image: testImage,
              imagePullPolicy: 'IfNotPresent',
              command: [
                'sh',
                '-c',
                `touch /tmp/a; i=0; while [ $i -lt 200 ] && [ "$(sort -u /tmp/a | wc -l)" -lt 2 ]; do timeout 3 wget -q -O - http://${clusterIP}/ >> /tmp/a 2>/dev/null || sleep 0.2; i=$((i+1)); done; sort -u /tmp/a > /dev/termination-log`,
              ],
            },
          ],
        },
      },
    });
    const finished = await finishedStatus('client');
    const answers = (finished.containerStatuses?.[0]?.state?.terminated?.message ?? '').split('\n').filter(Boolean);
    expect(new Set(answers)).toEqual(new Set(pods));
  });

  it('lets a pod list Pods through the kubernetes Service with its service account token', async () => {
    // The kubelet mounts no service account token yet: the test asks the TokenRequest API
    // for one and hands it to the pod through a Secret and an environment variable.
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'lister' } } });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'lister-view' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ kind: 'ServiceAccount', name: 'lister', namespace }],
      },
    });
    const token = await core.createNamespacedServiceAccountToken({ namespace, name: 'lister', body: { spec: { expirationSeconds: 3600, audiences: [] } } });
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'lister-token' }, stringData: { token: token.status?.token ?? '' } } });
    const kubernetes = (await core.readNamespacedService({ name: 'kubernetes', namespace: 'default' })).spec!.clusterIP!;
    // kube-get (test/images/kube-get): busybox's wget cannot do TLS with the API server.
    const pod: V1Pod = {
      metadata: { name: 'lister', namespace },
      spec: {
        serviceAccountName: 'lister',
        restartPolicy: 'Never',
        containers: [
          {
            name: 'kube-get',
            image: 'localhost/tskube/kube-get:latest',
            imagePullPolicy: 'IfNotPresent',
            args: [`/api/v1/namespaces/${namespace}/pods`],
            env: [
              { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'lister-token', key: 'token' } } },
              { name: 'CA', value: readFileSync(tb.caFile, 'utf8') },
              // The ClusterIP itself: the apiserver's certificate names it, and the pod reaches it only through the proxy.
              { name: 'API', value: `${kubernetes}:443` },
            ],
          },
        ],
      },
    };
    await core.createNamespacedPod({ namespace, body: pod });
    const status = await finishedStatus('lister');
    // The list holds at least the lister pod itself.
    const terminated = status.containerStatuses?.[0]?.state?.terminated;
    expect(terminated?.exitCode, terminated?.message).toBe(0);
    expect(terminated?.message).toMatch(/^PodList [1-9]\d*\n$/);
  });

  it("leaves out a Service another proxy serves (service.kubernetes.io/service-proxy-name), as upstream's watch does", async () => {
    const create = (name: string, labels?: Record<string, string>) =>
      core.createNamespacedService({ namespace, body: { metadata: { name, ...(labels && { labels }) }, spec: { ports: [{ port: 80 }] } } });
    const other = (await create('other-proxy', { 'service.kubernetes.io/service-proxy-name': 'some-other-proxy' })).spec!.clusterIP!;
    const mine = (await create('mine')).spec!.clusterIP!;
    const programmed = async (ip: string) =>
      new RegExp(`[{\\s]${ip.replaceAll('.', '\\.')}[,\\s}]`).test(await processExec.output('nft', ['list', 'set', 'ip', 'kube-proxy', 'cluster-ips']));
    // The Service made after it is programmed: the proxy has seen both.
    await eventually(`${mine} in @cluster-ips`, async () => ((await programmed(mine)) ? true : undefined), 30_000);
    expect(await programmed(other)).toBe(false);
  });
});
