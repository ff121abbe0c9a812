// The kubelet as installed (bin/tskube, which passes --expose-gc) gives a burst's memory
// back: start-up is the first burst, so within a few looks after it starts the kubelet runs
// its memory-reducing collection and says so. A private containerd: no kubelet lock.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { standaloneKubelet, type StandaloneKubelet } from '../../bench/lib/standalone.js';
import { type PrivateContainerd, privateContainerd } from '../support/private-containerd.js';
import { eventually } from '../testbed/eventually.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

describe('the kubelet releases memory after a burst', () => {
  let ctd: PrivateContainerd;
  let node: StandaloneKubelet;
  let level: string | undefined;

  beforeAll(async () => {
    // The release is logged at info; the benches' kubelets log at warn unless told.
    level = process.env['BENCH_TSKUBE_LOG_LEVEL'];
    process.env['BENCH_TSKUBE_LOG_LEVEL'] = 'info';
    ctd = privateContainerd({ cri: true, pods: true });
    await ctd.start();
    node = await standaloneKubelet({
      kind: 'tskube',
      bench: 'memory-release',
      endpoint: ctd.endpoint,
      namespace: 'memory-release',
      root: repoRoot,
      upstreamKubelet: '',
      nodeIP: '127.0.0.1',
    });
  }, 120_000);

  afterAll(async () => {
    await node?.stop();
    await ctd?.destroy();
    if (level === undefined) delete process.env['BENCH_TSKUBE_LOG_LEVEL'];
    else process.env['BENCH_TSKUBE_LOG_LEVEL'] = level;
  });

  it('runs the collection once start-up is over, and its RSS goes down', async () => {
    node.start();
    // Looks every 10 s; the first one after RSS stopped growing releases.
    const line = await eventually(
      'the kubelet to log its release after start-up',
      () =>
        node
          .lastWords()
          .split('\n')
          .find((l) => l.includes('released memory after a burst')),
      60_000,
      250,
    );
    const { rssBeforeMiB, rssAfterMiB } = JSON.parse(line) as { rssBeforeMiB: number; rssAfterMiB: number };
    expect(rssAfterMiB, line).toBeLessThan(rssBeforeMiB);
  }, 90_000);
});
