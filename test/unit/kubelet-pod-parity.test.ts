// Pod behaviours matched to the upstream kubelet, on the in-memory runtime: the image's
// user for runAsNonRoot, Service environment variables, the RuntimeClass's handler,
// warnings as events, activeDeadlineSeconds and host-network pod IPs.
import type { V1Service } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClusterLookup } from '../../src/kubelet/cri-request-builders.js';
import { runtimeHandlerOf } from '../../src/kubelet/cluster/runtime-class-source.js';
import { InMemoryRuntime } from '../support/in-memory-runtime.js';
import { container, type PodHarness, startPodHarness, testImage, testPod, tickUntil, useFakeClock } from '../support/pod-lifecycle-harness.js';

const nonRootImage = 'localhost/tskube/busybox-nonroot:latest';
const namedUserImage = 'localhost/tskube/busybox-named:latest';

const service = (namespace: string, name: string, clusterIP: string, port: number): V1Service => ({
  metadata: { namespace, name },
  spec: { clusterIP, ports: [{ port, protocol: 'TCP' }] },
});

describe('pod parity with the upstream kubelet (in-memory runtime)', () => {
  let rt: InMemoryRuntime;
  let h: PodHarness;
  let cluster: ClusterLookup;
  const envs = new Map<string, Record<string, string>>();
  beforeEach(() => {
    useFakeClock();
    envs.clear();
    rt = new InMemoryRuntime({ images: [{ ref: testImage }, { ref: nonRootImage, user: '1000:1000' }, { ref: namedUserImage, user: 'nginx' }] });
    rt.program(
      (c) => {
        envs.set(`${c.podName}/${c.name}`, c.env);
        return false;
      },
      { exitAfterMs: 1 },
    );
    cluster = {
      services: () => [
        service('default', 'kubernetes', '10.96.0.1', 443),
        service('default', 'web-svc', '10.96.0.20', 8080),
        service('other', 'db', '10.96.0.30', 5432),
      ],
      runtimeHandler: (name) => runtimeHandlerOf(name, (n) => (n === 'gvisor' ? { metadata: { name: n }, handler: 'runsc' } : undefined)),
    };
    h = startPodHarness({ runtime: rt, overrides: { cluster, allocatable: () => ({ cpuMillis: 2000, memoryBytes: 8 * 2 ** 30 }) } });
  });
  afterEach(async () => {
    await h.destroy();
    vi.useRealTimers();
  });

  const waiting = (pod: Parameters<PodHarness['status']>[0]) => h.status(pod)?.containerStatuses?.[0]?.state?.waiting;

  it('runs a runAsNonRoot container whose image has a non-root USER, with that uid', async () => {
    const pod = testPod('nonroot', { securityContext: { runAsNonRoot: true }, containers: [container('app', { image: nonRootImage })] });
    h.setPods([pod]);
    await tickUntil(() => h.status(pod)?.phase === 'Running');
    const create = rt.calls.find((c) => c.method === 'CreateContainer')?.request as {
      config?: { linux?: { securityContext?: { runAsUser?: { value: string } } } };
    };
    expect(create.config?.linux?.securityContext?.runAsUser?.value).toBe('1000');
  });

  it("refuses a root image and a named USER under runAsNonRoot with upstream's CreateContainerConfigError messages", async () => {
    const root = testPod('rootimg', { securityContext: { runAsNonRoot: true }, containers: [container('app')] });
    const named = testPod('named', { securityContext: { runAsNonRoot: true }, containers: [container('app', { image: namedUserImage })] });
    h.setPods([root, named]);
    await tickUntil(() => waiting(root)?.reason === 'CreateContainerConfigError' && waiting(named)?.reason === 'CreateContainerConfigError');
    expect(waiting(root)?.message).toBe(
      `container has runAsNonRoot and image will run as root (pod: "rootimg_default(${root.metadata?.uid})", container: app)`,
    );
    expect(waiting(named)?.message).toBe(
      `container has runAsNonRoot and image has non-numeric user (nginx), cannot verify user is non-root (pod: "named_default(${named.metadata?.uid})", container: app)`,
    );
    expect(rt.callLog((m) => m === 'CreateContainer')).toEqual([]);
    expect(h.eventsOf(root)).toContain(`Failed: Error: ${waiting(root)?.message}`);
  });

  it('gives the Service variables of the pod namespace and always the kubernetes Service', async () => {
    const linked = testPod('linked', { containers: [container('app')] });
    const unlinked = testPod('unlinked', { enableServiceLinks: false, containers: [container('app')] });
    h.setPods([linked, unlinked]);
    await tickUntil(() => envs.has('linked/app') && envs.has('unlinked/app'));
    expect(envs.get('linked/app')).toMatchObject({
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
      KUBERNETES_PORT_443_TCP_ADDR: '10.96.0.1',
      WEB_SVC_SERVICE_HOST: '10.96.0.20',
      WEB_SVC_PORT: 'tcp://10.96.0.20:8080',
      WEB_SVC_PORT_8080_TCP_PROTO: 'tcp',
    });
    expect(envs.get('linked/app')).not.toHaveProperty('DB_SERVICE_HOST');
    expect(envs.get('unlinked/app')).toHaveProperty('KUBERNETES_SERVICE_HOST', '10.96.0.1');
    expect(envs.get('unlinked/app')).not.toHaveProperty('WEB_SVC_SERVICE_HOST');
  });

  it('holds API pods until the Services were listed once; static pods start anyway', async () => {
    let synced = false;
    cluster.services = () => (synced ? [service('default', 'kubernetes', '10.96.0.1', 443)] : 'not-synced');
    const pod = testPod('early', { containers: [container('app')] });
    const staticPod = testPod('static', { containers: [container('app')] }, { annotations: { 'kubernetes.io/config.source': 'file' } });
    h.setPods([pod, staticPod]);
    await tickUntil(() => waiting(pod)?.reason === 'CreateContainerConfigError' && envs.has('static/app'));
    expect(envs.get('static/app')).not.toHaveProperty('KUBERNETES_SERVICE_HOST');
    expect(waiting(pod)?.message).toBe('services have not yet been read at least once, cannot construct envvars');
    synced = true;
    await tickUntil(() => envs.has('early/app'), 30_000);
    expect(envs.get('early/app')).toHaveProperty('KUBERNETES_SERVICE_HOST', '10.96.0.1');
  });

  it("runs the sandbox with the RuntimeClass's handler, and says so when the class does not exist", async () => {
    const gvisor = testPod('gv', { runtimeClassName: 'gvisor', containers: [container('app')] });
    const missing = testPod('nope', { runtimeClassName: 'kata', containers: [container('app')] });
    h.setPods([gvisor, missing]);
    await tickUntil(() => h.status(gvisor)?.phase === 'Running' && h.eventsOf(missing).some((e) => e.startsWith('FailedCreatePodSandBox')));
    const run = rt.calls.find((c) => c.method === 'RunPodSandbox')?.request as { runtimeHandler?: string };
    expect(run.runtimeHandler).toBe('runsc');
    expect(h.eventsOf(missing)).toContain('FailedCreatePodSandBox: Failed to create pod sandbox: runtimeclass.node.k8s.io "kata" not found');
    expect(rt.sandboxesOf('nope')).toEqual([]);
  });

  it('records DNS limit warnings as DNSConfigForming events', async () => {
    const pod = testPod('dns', {
      dnsPolicy: 'None',
      dnsConfig: { nameservers: ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'] },
      containers: [container('app')],
    });
    h.setPods([pod]);
    await tickUntil(() => h.status(pod)?.phase === 'Running');
    expect(h.eventsOf(pod)).toContain(
      'DNSConfigForming: Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: 10.0.0.1 10.0.0.2 10.0.0.3',
    );
  });

  it('fails a pod past activeDeadlineSeconds with DeadlineExceeded and stops its containers', async () => {
    const pod = testPod('deadline', { activeDeadlineSeconds: 5, restartPolicy: 'Never', containers: [container('app')] });
    h.setPods([pod]);
    await tickUntil(() => h.status(pod)?.phase === 'Running');
    const startedAt = new Date(h.status(pod)?.startTime ?? 0).getTime();
    await tickUntil(() => h.status(pod)?.phase === 'Failed' && rt.containersOf('deadline', 'app')[0]?.state === 'CONTAINER_EXITED', 30_000);
    expect(h.status(pod)).toMatchObject({ reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' });
    expect(h.eventsOf(pod)).toContain('DeadlineExceeded: Pod was active on the node longer than the specified deadline');
    // Not before the deadline, and soon after it: the sync came back for it.
    const failedAt = h.history(pod).findIndex((s) => s.phase === 'Failed');
    expect(failedAt).toBeGreaterThan(0);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(5000);
  });

  it("gives a host-network pod the node's IPs as pod IPs and POD_IP", async () => {
    const pod = testPod('hostnet', {
      hostNetwork: true,
      containers: [container('app', { env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }] })],
    });
    h.setPods([pod]);
    await tickUntil(() => h.status(pod)?.phase === 'Running' && envs.has('hostnet/app'));
    expect(envs.get('hostnet/app')?.['POD_IP']).toBe('192.0.2.10');
    expect(h.status(pod)?.podIPs).toEqual([{ ip: '192.0.2.10' }]);
  });

  it("starts an ephemeral container added to a running pod once, in its target's PID namespace, and reports it", async () => {
    const pod = testPod('debugme', { containers: [container('app')] });
    h.setPods([pod]);
    await tickUntil(() => h.status(pod)?.phase === 'Running');
    rt.program('debugger', { exitAfterMs: 2000, exitCode: 3 });
    const debug = {
      ...pod,
      spec: {
        ...pod.spec,
        containers: pod.spec?.containers ?? [],
        ephemeralContainers: [{ ...container('debugger'), targetContainerName: 'app', stdin: true, tty: true }],
      },
    };
    h.setPods([debug]);
    await tickUntil(() => h.status(debug)?.ephemeralContainerStatuses?.[0]?.state?.running !== undefined);
    const create = rt.calls.filter((c) => c.method === 'CreateContainer').at(-1)?.request as {
      config?: { metadata?: { name: string }; tty?: boolean; linux?: { securityContext?: { namespaceOptions?: { pid?: string; targetId?: string } } } };
    };
    const [app] = rt.containersOf('debugme', 'app');
    expect(create.config?.metadata?.name).toBe('debugger');
    expect(create.config?.tty).toBe(true);
    expect(create.config?.linux?.securityContext?.namespaceOptions).toMatchObject({ pid: 'TARGET', targetId: app?.id });
    // It ends and is never started again; the pod is not affected.
    await tickUntil(() => h.status(debug)?.ephemeralContainerStatuses?.[0]?.state?.terminated !== undefined, 30_000);
    // Two more syncs looked at the pod (each reports a status) and started nothing.
    const seen = h.history(debug).length;
    await tickUntil(() => h.history(debug).length > seen + 1, 30_000);
    expect(rt.containersOf('debugme', 'debugger')).toHaveLength(1);
    expect(h.status(debug)).toMatchObject({ phase: 'Running' });
    expect(h.status(debug)?.ephemeralContainerStatuses?.[0]).toMatchObject({ name: 'debugger', ready: false, state: { terminated: { exitCode: 3 } } });
    expect(h.status(debug)?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  describe('in-place resize', () => {
    const sized = (cpu: string, memory: string) => ({ requests: { cpu, memory }, limits: { cpu, memory } });
    const resized = (pod: ReturnType<typeof testPod>, resources: ReturnType<typeof sized>, generation: number, extra = {}) => ({
      ...pod,
      metadata: { ...pod.metadata, generation },
      spec: { ...pod.spec, containers: (pod.spec?.containers ?? []).map((c) => ({ ...c, resources, ...extra })) },
    });
    const condition = (pod: Parameters<PodHarness['status']>[0], type: string) => h.status(pod)?.conditions?.find((c) => c.type === type);

    it('applies a resize that fits with UpdateContainerResources and reports the resources and conditions', async () => {
      const pod = { ...testPod('grow', { containers: [container('app', { resources: sized('100m', '64Mi') })] }), status: { qosClass: 'Guaranteed' } };
      h.setPods([pod]);
      await tickUntil(() => h.status(pod)?.phase === 'Running');
      const [app] = rt.containersOf('grow', 'app');
      expect(rt.resourcesOf(app?.id ?? '')).toMatchObject({ cpuQuota: '10000', memoryLimitInBytes: String(64 * 2 ** 20) });
      const bigger = resized(pod, sized('300m', '128Mi'), 2);
      h.setPods([bigger]);
      await tickUntil(() => rt.resourcesOf(app?.id ?? '')?.cpuQuota === '30000' && condition(bigger, 'PodResizeInProgress') === undefined);
      expect(rt.resourcesOf(app?.id ?? '')).toMatchObject({ cpuShares: '307', memoryLimitInBytes: String(128 * 2 ** 20) });
      expect(rt.containersOf('grow', 'app')).toHaveLength(1);
      expect(h.status(bigger)?.containerStatuses?.[0]).toMatchObject({
        resources: sized('300m', '128Mi'),
        allocatedResources: { cpu: '300m', memory: '128Mi' },
        restartCount: 0,
      });
      const events = h.eventsOf(bigger);
      expect(events).toContain(
        'ResizeStarted: Pod resize started: {"containers":[{"name":"app","resources":{"limits":{"cpu":"300m","memory":"128Mi"},"requests":{"cpu":"300m","memory":"128Mi"}}}],"generation":2}',
      );
      expect(events.filter((e) => e.startsWith('ResizeCompleted: Pod resize completed'))).toHaveLength(1);
    });

    it('keeps a resize the node has no room for pending (Deferred), and applies it once it fits', async () => {
      const pod = testPod('huge', { containers: [container('app', { resources: sized('100m', '64Mi') })] });
      h.setPods([pod]);
      await tickUntil(() => h.status(pod)?.phase === 'Running');
      const tooBig = resized(pod, sized('3', '64Mi'), 2);
      h.setPods([tooBig]);
      await tickUntil(() => condition(tooBig, 'PodResizePending') !== undefined);
      expect(condition(tooBig, 'PodResizePending')).toMatchObject({
        status: 'True',
        reason: 'Deferred',
        message: "Node didn't have enough resource: cpu, requested: 3000, used: 0, capacity: 2000",
        observedGeneration: 2,
      });
      expect(rt.callLog((m) => m === 'UpdateContainerResources')).toEqual([]);
      expect(h.status(tooBig)?.containerStatuses?.[0]?.allocatedResources).toEqual({ cpu: '100m', memory: '64Mi' });
      // Taken back to something that fits: the pending condition goes and the resize is applied.
      const fits = resized(pod, sized('1', '64Mi'), 3);
      h.setPods([fits]);
      await tickUntil(() => condition(fits, 'PodResizePending') === undefined && rt.callLog((m) => m === 'UpdateContainerResources').length === 1);
    });

    it('says PodResizeInProgress with reason Error when the runtime refuses the update, and tries again', async () => {
      const pod = testPod('stuck', { containers: [container('app', { resources: sized('100m', '64Mi') })] });
      h.setPods([pod]);
      await tickUntil(() => h.status(pod)?.phase === 'Running');
      rt.inject('UpdateContainerResources', { code: 'UNKNOWN', message: 'failed to update resources: device or resource busy' }, { times: 1 });
      const smaller = resized(pod, sized('100m', '32Mi'), 2);
      h.setPods([smaller]);
      await tickUntil(() => condition(smaller, 'PodResizeInProgress')?.reason === 'Error');
      expect(condition(smaller, 'PodResizeInProgress')?.message).toContain('device or resource busy');
      expect(h.eventsOf(smaller).some((e) => e.startsWith('ResizeError: Pod resize error: {'))).toBe(true);
      await tickUntil(() => condition(smaller, 'PodResizeInProgress') === undefined, 30_000);
      expect(rt.callLog((m) => m === 'UpdateContainerResources')).toHaveLength(2);
    });

    it('restarts a container whose resizePolicy says RestartContainer for the resource that changed', async () => {
      const policy = { resizePolicy: [{ resourceName: 'memory', restartPolicy: 'RestartContainer' }] };
      const pod = testPod('restartme', { containers: [container('app', { resources: sized('100m', '64Mi'), ...policy })] });
      h.setPods([pod]);
      await tickUntil(() => h.status(pod)?.phase === 'Running');
      const more = resized(pod, sized('100m', '96Mi'), 2, policy);
      h.setPods([more]);
      await tickUntil(() => rt.containersOf('restartme', 'app').length === 2 && h.status(more)?.containerStatuses?.[0]?.state?.running !== undefined);
      const [, second] = rt.containersOf('restartme', 'app');
      expect(rt.resourcesOf(second?.id ?? '')?.memoryLimitInBytes).toBe(String(96 * 2 ** 20));
      expect(h.eventsOf(more)).toContain('Killing: Container app resize requires restart');
      expect(rt.callLog((m) => m === 'UpdateContainerResources')).toEqual([]);
    });
  });
});
