import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crictl } from '../../src/cli/crictl/crictl.js';
import { memoryIo } from '../../src/cli/io.js';
import type { PodSandboxConfig } from '../../src/gen/cri/runtime/v1/PodSandboxConfig.js';
import { newClient, podConfig, runCrictl, runtimeEndpoint, testImage, testLabel, uniqueName, removePod } from '../support/runtime.js';

// One pod with a long-running container that serves a file with httpd and prints a tick
// every 200 ms: exec, attach and port-forward all work against it.
const client = newClient();
let podId = '';
let containerId = '';
let config: PodSandboxConfig;

beforeAll(async () => {
  config = podConfig(uniqueName('streaming'));
  podId = (await client.runtime.call('RunPodSandbox', { config })).podSandboxId;
  const script =
    'mkdir -p /www && echo served-by-httpd > /www/index.html && httpd -p 8080 -h /www; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done';
  containerId = (
    await client.runtime.call('CreateContainer', {
      podSandboxId: podId,
      sandboxConfig: config,
      config: { metadata: { name: 'main' }, image: { image: testImage }, command: ['sh', '-c', script], labels: { ...testLabel }, logPath: 'main.log' },
    })
  ).containerId;
  await client.runtime.call('StartContainer', { containerId });
});

afterAll(async () => {
  await removePod(client, podId, config?.logDirectory);
  client.close();
});

/** Starts a crictl command that runs until aborted; its output can be read meanwhile. */
function startCrictl(args: string[]) {
  const abort = new AbortController();
  const { io, stdout, stderr } = memoryIo({ env: { CONTAINER_RUNTIME_ENDPOINT: runtimeEndpoint }, signal: abort.signal });
  const done = crictl(['--timeout', '30s', ...args], io);
  return { abort, done, stdout, stderr };
}

async function waitFor<T>(probe: () => T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('crictl exec', () => {
  it('-s prints the output and exits with the command exit code', async () => {
    const r = await runCrictl(['exec', '-s', containerId.slice(0, 12), 'sh', '-c', 'echo hi; echo oops >&2; exit 3']);
    expect(r).toMatchObject({ code: 3, stdout: 'hi\n', stderr: 'oops\n' });
  });

  it('streams stdout and stderr and returns the exit code (websocket)', async () => {
    const r = await runCrictl(['exec', '--transport', 'websocket', containerId, 'sh', '-c', 'echo out; echo err >&2; exit 4']);
    expect(r).toMatchObject({ code: 4, stdout: 'out\n', stderr: 'err\n' });
  });

  it('streams the same over SPDY', async () => {
    const r = await runCrictl(['exec', '-r', 'spdy', containerId, 'sh', '-c', 'echo out; echo err >&2']);
    expect(r).toMatchObject({ code: 0, stdout: 'out\n', stderr: 'err\n' });
  });

  it('-i forwards piped stdin and its end: cat echoes it back and exits', async () => {
    const input = 'first line\nsecond line\n'.repeat(2000);
    const r = await runCrictl(['exec', '-i', containerId, 'sh', '-c', 'cat; exit 5'], { stdin: input });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(5);
    expect(r.stdout).toBe(input);
  });

  it('rejects -t without -i and a stdin that is not a terminal', async () => {
    expect((await runCrictl(['exec', '-t', containerId, 'sh'])).stderr).toMatch(/tty=true must be specified with interactive=true/);
    const r = await runCrictl(['exec', '-it', containerId, 'sh']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/input is not a terminal/);
  });

  it('names an unknown container', async () => {
    const r = await runCrictl(['exec', 'ffffffffffff0000', 'true']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no container with ID or ID prefix "ffffffffffff0000"/);
  });
});

describe('crictl attach', () => {
  it('reads the output of the running container until interrupted', async () => {
    const run = startCrictl(['attach', containerId]);
    await waitFor(() => (/tick \d+\n.*tick \d+\n/s.test(run.stdout()) ? true : undefined), 'two ticks from attach');
    run.abort.abort();
    await run.done;
    expect(run.stdout()).toMatch(/^(tick \d+\n)+/);
  });
});

describe('crictl port-forward', () => {
  it('serves a pod port on 127.0.0.1, one connection after another', async () => {
    const run = startCrictl(['port-forward', podId.slice(0, 12), ':8080']);
    try {
      const port = await waitFor(() => /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(run.stdout())?.[1], 'the forwarding line');
      for (let i = 0; i < 2; i++) {
        const response = await fetch(`http://127.0.0.1:${port}/index.html`, { signal: AbortSignal.timeout(10_000) });
        expect(response.status).toBe(200);
        expect(await response.text()).toBe('served-by-httpd\n');
      }
      const missing = await fetch(`http://127.0.0.1:${port}/nope`, { signal: AbortSignal.timeout(10_000) });
      expect(missing.status).toBe(404);
    } finally {
      run.abort.abort();
    }
    expect(await run.done).toBe(0);
    expect(run.stdout()).toMatch(/Handling connection for \d+/);
  });

  it('names a bad port mapping', async () => {
    const r = await runCrictl(['port-forward', podId, '99999']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/invalid port mapping "99999"/);
  });
});
