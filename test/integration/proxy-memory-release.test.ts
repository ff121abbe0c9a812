// The proxy as installed (bin/tskube, which passes --expose-gc) gives a burst's memory back,
// as the kubelet does: start-up is the first burst, so a few looks after it starts the proxy
// runs its memory-reducing collection and says so. It runs in a namespace of its own
// (nftables mode programs nothing there but its own table) with an API server that is not
// there: the release does not wait for one.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetLab } from '../support/netns.js';
import { eventually } from '../testbed/eventually.js';

const tskube = fileURLToPath(new URL('../../bin/tskube', import.meta.url));

describe('the proxy releases memory after a burst', () => {
  const lab = new NetLab('mr');
  const dir = mkdtempSync(join(tmpdir(), 'tskube-proxy-memory-'));
  let ns = '';
  let level: string | undefined;

  beforeAll(async () => {
    ns = await lab.netns('proxy');
    writeFileSync(
      join(dir, 'kubeconfig'),
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]',
        'users: [{name: u, user: {token: t}}]',
        'contexts: [{name: x, context: {cluster: c, user: u}}]',
        'current-context: x',
        '',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
    if (level === undefined) delete process.env['TSKUBE_LOG_LEVEL'];
    else process.env['TSKUBE_LOG_LEVEL'] = level;
  });

  it('runs the collection once start-up is over, and its RSS goes down', async () => {
    // The release is logged at info.
    level = process.env['TSKUBE_LOG_LEVEL'];
    process.env['TSKUBE_LOG_LEVEL'] = 'info';
    const child = lab.spawn(ns, tskube, [
      'proxy',
      `--kubeconfig=${join(dir, 'kubeconfig')}`,
      '--hostname-override=memory-release',
      '--proxy-mode=nftables',
      '--metrics-bind-address=127.0.0.1:10249',
      '--healthz-bind-address=127.0.0.1:10256',
      '--conntrack-max-per-core=0',
      '--conntrack-tcp-timeout-established=0s',
      '--conntrack-tcp-timeout-close-wait=0s',
      '--oom-score-adj=0',
    ]);
    let said = '';
    child.stderr?.on('data', (c: Buffer) => (said += c.toString()));
    // Looks every 10 s; the first one after RSS stopped growing releases.
    const line = await eventually(
      'the proxy to log its release after start-up',
      () => {
        if (child.exitCode !== null) throw new Error(`the proxy exited (${child.exitCode}): ${said.slice(-2000)}`);
        return said.split('\n').find((l) => l.includes('released memory after a burst'));
      },
      60_000,
      250,
    );
    const { rssBeforeMiB, rssAfterMiB } = JSON.parse(line) as { rssBeforeMiB: number; rssAfterMiB: number };
    expect(rssAfterMiB, line).toBeLessThan(rssBeforeMiB);
  }, 90_000);
});
