import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crictl } from '../../src/cli/crictl/crictl.js';
import { memoryIo } from '../../src/cli/io.js';
import type { PodSandboxConfig } from '../../src/gen/cri/runtime/v1/PodSandboxConfig.js';
import { newClient, podConfig, runCrictl, runtimeEndpoint, testImage, testLabel, uniqueName, removePod } from '../support/runtime.js';

const client = newClient();
let podId = '';
let config: PodSandboxConfig;
let finishedId = '';
let liveId = '';

async function startContainer(name: string, script: string): Promise<string> {
  const { containerId } = await client.runtime.call('CreateContainer', {
    podSandboxId: podId,
    sandboxConfig: config,
    config: { metadata: { name }, image: { image: testImage }, command: ['sh', '-c', script], labels: { ...testLabel }, logPath: `${name}.log` },
  });
  await client.runtime.call('StartContainer', { containerId });
  return containerId;
}

beforeAll(async () => {
  config = podConfig(uniqueName('logs'));
  podId = (await client.runtime.call('RunPodSandbox', { config })).podSandboxId;
  // Pauses between writes: stdout and stderr reach the log through separate pipes.
  finishedId = await startContainer('finished', 'echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three; sleep 0.1; printf "no newline"');
  liveId = await startContainer('live', 'i=0; while true; do echo live $i; i=$((i+1)); sleep 0.2; done');
  // Wait for the short one to exit so its log is complete.
  for (let i = 0; i < 100; i++) {
    const { status } = await client.runtime.call('ContainerStatus', { containerId: finishedId });
    if (status?.state === 'CONTAINER_EXITED') break;
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(async () => {
  await removePod(client, podId, config?.logDirectory);
  client.close();
});

describe('crictl logs', () => {
  it('prints each stream to its own output, partial last line included', async () => {
    const r = await runCrictl(['logs', finishedId.slice(0, 10)]);
    expect(r).toMatchObject({ code: 0, stdout: 'one\nthree\nno newline', stderr: 'two\n' });
  });

  it('--tail N keeps the last N messages', async () => {
    const r = await runCrictl(['logs', '--tail', '2', finishedId]);
    expect(r.stdout).toBe('three\nno newline');
    expect(r.stderr).toBe('');
  });

  it('--timestamps prefixes each message with its RFC3339 time', async () => {
    const r = await runCrictl(['logs', '-t', '--tail', '4', finishedId]);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) one$/);
    const stamp = Date.parse(lines[0]?.split(' ')[0] ?? '');
    expect(Math.abs(Date.now() - stamp)).toBeLessThan(120_000);
  });

  it('--since in the future and --limit-bytes cut the output', async () => {
    expect((await runCrictl(['logs', '--since', '2099-01-01T00:00:00Z', finishedId])).stdout).toBe('');
    // The limit counts both streams; containerd may log stderr's "two" before stdout's
    // "one" (separate pipes), so check the total and that each part is a prefix of its line.
    const limited = await runCrictl(['logs', '--limit-bytes', '6', finishedId]);
    expect(limited.stdout.length + limited.stderr.length).toBe(6);
    expect('one\nthree\n'.startsWith(limited.stdout)).toBe(true);
    expect('two\n'.startsWith(limited.stderr)).toBe(true);
  });

  it('-f on an exited container prints the log and ends', async () => {
    const r = await runCrictl(['logs', '-f', finishedId]);
    expect(r).toMatchObject({ code: 0, stdout: 'one\nthree\nno newline' });
  });

  it('-f keeps printing new lines of a running container until aborted', async () => {
    const abort = new AbortController();
    const { io, stdout } = memoryIo({ env: { CONTAINER_RUNTIME_ENDPOINT: runtimeEndpoint }, signal: abort.signal });
    const done = crictl(['logs', '-f', '--tail', '1', liveId], io);
    const first = await waitFor(() => /live (\d+)\n/.exec(stdout())?.[1]);
    await waitFor(() => (new RegExp(`live ${Number(first) + 2}\\n`).test(stdout()) ? true : undefined));
    abort.abort();
    expect(await done).toBe(0);
    const numbers = [...stdout().matchAll(/live (\d+)/g)].map((m) => Number(m[1]));
    expect(numbers).toEqual(numbers.map((_, i) => Number(first) + i));
  });

  it('-p names the missing previous attempt', async () => {
    const r = await runCrictl(['logs', '-p', finishedId]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/previous terminated container .* not found/);
  });
});

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
