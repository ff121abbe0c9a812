import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RuntimeCache } from '../../src/kubelet/runtime/runtime-cache.js';
import { RuntimeObserver } from '../../src/kubelet/runtime/runtime-observer.js';
import { InMemoryRuntime } from '../support/in-memory-runtime.js';
import { tick, useFakeClock } from '../support/pod-lifecycle-harness.js';

const image = 'localhost/tskube/busybox:latest';
const labels = (uid: string) => ({ 'io.kubernetes.pod.uid': uid, 'io.kubernetes.pod.name': `pod-${uid}`, 'io.kubernetes.pod.namespace': 'default' });

async function runPod(rt: InMemoryRuntime, uid: string, exitAfterMs?: number) {
  rt.program((c) => c.podUid === uid, exitAfterMs === undefined ? {} : { exitAfterMs });
  const config = { metadata: { name: `pod-${uid}`, namespace: 'default', uid, attempt: 0 }, labels: labels(uid) };
  const { podSandboxId } = await rt.runtime.call('RunPodSandbox', { config });
  const { containerId } = await rt.runtime.call('CreateContainer', {
    podSandboxId,
    config: { metadata: { name: 'app', attempt: 0 }, image: { image }, labels: { ...labels(uid), 'io.kubernetes.container.name': 'app' } },
    sandboxConfig: config,
  });
  await rt.runtime.call('StartContainer', { containerId });
  return { podSandboxId, containerId };
}

describe('RuntimeCache on the in-memory runtime', () => {
  let rt: InMemoryRuntime;
  let changed: string[];
  let health: string[];
  let cache: RuntimeCache;
  let controller: AbortController;
  beforeEach(() => {
    useFakeClock();
    rt = new InMemoryRuntime({ images: [{ ref: image }] });
    changed = [];
    health = [];
    cache = new RuntimeCache(new RuntimeObserver(rt), {
      onPodChanged: (uid) => changed.push(uid),
      onHealth: (healthy, err) => health.push(healthy ? 'healthy' : `failing: ${err?.message}`),
    });
    controller = new AbortController();
  });
  afterEach(() => {
    controller.abort();
    vi.useRealTimers();
  });

  it('tells which pod changed when one of its containers exits, and nothing while nothing changes', async () => {
    await runPod(rt, 'a', 2500);
    await runPod(rt, 'b');
    void cache.run(controller.signal);
    await tick(1000);
    expect(changed.sort()).toEqual(['a', 'b']);
    expect((await cache.pod('a'))?.containers[0]?.phase).toBe('running');
    changed.length = 0;
    await tick(3000);
    expect(changed).toEqual(['a']);
    expect((await cache.pod('a'))?.containers[0]).toMatchObject({ phase: 'exited', exitCode: 0, reason: 'Completed' });
  });

  it('relists for an ask that wants a fresh view (also within the same millisecond), and shares one relist among concurrent asks', async () => {
    const lists = () => rt.calls.filter((c) => c.method === 'ListContainers').length;
    await cache.all();
    expect(lists()).toBe(1);
    // The pod starts in the same (fake, frozen) millisecond as that relist: a fresh ask must see it.
    await runPod(rt, 'a');
    await Promise.all([cache.all(true), cache.all(true), cache.pod('a', true)]);
    expect(lists()).toBe(2);
    expect((await cache.pod('a'))?.containers).toHaveLength(1);
    // A plain ask is answered from the view held.
    await cache.all();
    expect(lists()).toBe(2);
  });

  it("takes a new sandbox's status from the kubelet's own PodSandboxStatus instead of asking again, and asks for one it was not told", async () => {
    const statusCalls = () => rt.calls.filter((c) => c.method === 'PodSandboxStatus').length;
    const a = await runPod(rt, 'a');
    const { status } = await rt.runtime.call('PodSandboxStatus', { podSandboxId: a.podSandboxId });
    if (status) cache.knowSandbox(a.podSandboxId, status);
    await runPod(rt, 'b');
    await cache.all(true);
    // One for the sandbox it was not told about (b), none more for a.
    expect(statusCalls()).toBe(2);
    expect((await cache.pod('a'))?.sandboxes[0]).toMatchObject({ id: a.podSandboxId, phase: 'ready', ips: status?.network?.ip ? [status.network.ip] : [] });
    expect((await cache.pod('b'))?.sandboxes[0]?.phase).toBe('ready');
  });

  it('says once that relisting fails and once that it recovered, keeping the last view meanwhile', async () => {
    await runPod(rt, 'a');
    void cache.run(controller.signal);
    await tick(1000);
    rt.inject('ListPodSandbox', { code: 'UNAVAILABLE', message: 'connection refused' }, { times: 3 });
    await tick(3000);
    expect((await cache.pod('a'))?.containers).toHaveLength(1);
    await tick(2000);
    expect(health).toEqual([
      `failing: unavailable: ListPodSandbox: cannot reach the container runtime at ${rt.endpoint}: connection refused (is it running?)`,
      'healthy',
    ]);
    expect(cache.lastError).toBeUndefined();
  });
});
