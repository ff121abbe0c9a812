// The native CNI helpers (C, built by scripts/build-cni-native). tskube-cni-shim against the
// kubelet's socket server: what a runtime hands the shim arrives unchanged, what the kubelet
// answers comes back unchanged (stdout and exit code), and every way the kubelet can be
// missing is the spec's error object naming the socket. tskube-cni-exec behind
// HelperPluginExec: the same contract as Node's own spawn (output, exit, process group
// killed at the timeout or on abort, output cap, start errors, many runs at once). No
// kubelet and no runtime here.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HelperPluginExec } from '../../src/cni/helper-exec.js';
import { ShimServer } from '../../src/cni/shim-server.js';
import type { ShimRequest } from '../../src/cni/shim-protocol.js';
import { v110PluginDir } from '../support/cni.js';
import { nativeBinDir, runShim } from '../support/kubelet-cni.js';
import { eventually } from '../testbed/eventually.js';

describe('tskube-cni-shim', () => {
  let shim: string;
  let dir: string;
  let socket: string;
  const conf = () => JSON.stringify({ cniVersion: '1.0.0', name: 'tskube', type: 'tskube-cni-shim', socket });
  const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'sandbox-1', CNI_NETNS: '/var/run/netns/cni-1', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' };

  beforeAll(() => {
    shim = join(nativeBinDir(), 'tskube-cni-shim');
    dir = mkdtempSync(join(tmpdir(), 'tskube-shim-test-'));
    socket = join(dir, 'cni.sock');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers VERSION itself, kubelet or not', async () => {
    const { exitCode, stdout } = await runShim(shim, { CNI_COMMAND: 'VERSION' }, conf());
    expect(exitCode).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ cniVersion: '1.1.0', supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  });

  it('with no kubelet listening: error 11 (try again later) naming the socket', async () => {
    const { exitCode, stdout } = await runShim(shim, env, conf());
    expect(exitCode).toBe(1);
    expect(JSON.parse(stdout)).toEqual({
      cniVersion: '1.0.0',
      code: 11,
      msg: `cannot reach the tskube kubelet at ${socket}`,
      details: 'connect: No such file or directory (the kubelet listens there when it runs with --network-plugin=cni; is it running?)',
    });
  });

  it('forwards the CNI_* environment and stdin unchanged, and returns stdout and the exit code unchanged', async () => {
    const seen: ShimRequest[] = [];
    const answer = '{"cniVersion":"1.0.0","code":7,"msg":"über-bad","details":"line\\nbreak"}\n';
    const server = new ShimServer({
      socketPath: socket,
      handler: async (request) => {
        seen.push(request);
        return { exitCode: 3, stdout: answer };
      },
    });
    await server.listen();
    try {
      const stdin = `${conf().slice(0, -1)},"runtimeConfig":{"portMappings":[{"hostPort":80}]},"padding":"${'x'.repeat(200_000)}"}`;
      const { exitCode, stdout } = await runShim(shim, { ...env, CNI_ARGS: 'K8S_POD_NAME=web;K8S_POD_UID=u1', HOME: '/root' }, stdin);
      expect({ exitCode, stdout }).toEqual({ exitCode: 3, stdout: answer });
      expect(seen).toEqual([{ version: 1, env: { ...env, CNI_ARGS: 'K8S_POD_NAME=web;K8S_POD_UID=u1' }, stdin }]);
    } finally {
      await server.close();
    }
  });

  it('a kubelet that goes away mid-call: error 11; a shim killed mid-call: the kubelet’s call is aborted', async () => {
    let aborted = false;
    let started = false;
    const server = new ShimServer({
      socketPath: socket,
      handler: (_request, signal) =>
        new Promise((resolve) => {
          started = true;
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve({ exitCode: 0, stdout: '' });
          });
        }),
    });
    await server.listen();
    const call = runShim(shim, env, conf(), 3000);
    await eventually('the call to arrive', () => (started ? true : undefined), 10_000, 50);
    // The runtime gives up on the shim (its deadline): the kubelet hears of it.
    const { exitCode } = await call;
    expect(exitCode).toBeNull();
    await eventually('the call aborted', () => (aborted ? true : undefined), 10_000, 50);

    // A kubelet that accepts and closes without answering.
    await server.close();
    const closer = createServer((c) => c.destroy());
    await new Promise<void>((r) => closer.listen(socket, r));
    try {
      const { exitCode: code, stdout } = await runShim(shim, env, conf());
      expect(code).toBe(1);
      // Depending on when the close lands: while the shim sends, or while it waits.
      const error = JSON.parse(stdout) as { code: number; msg: string };
      expect(error.code).toBe(11);
      expect(error.msg).toMatch(new RegExp(`^(cannot send the call to the tskube kubelet at|the tskube kubelet at) ${socket}`));
    } finally {
      await new Promise((r) => closer.close(r));
      rmSync(socket, { force: true });
    }
  });
});

describe('tskube-cni-exec (HelperPluginExec)', () => {
  let exec: HelperPluginExec;
  const env = { PATH: '/usr/bin:/bin' };

  beforeAll(() => {
    exec = new HelperPluginExec(join(nativeBinDir(), 'tskube-cni-exec'));
  });
  afterAll(() => exec.close());

  it('runs a plugin: stdin in, stdout, stderr and the exit code out', async () => {
    const version = await exec.run(join(v110PluginDir, 'host-local'), {
      stdin: '{"cniVersion":"1.1.0"}',
      env: { ...env, CNI_COMMAND: 'VERSION' },
      timeoutMs: 10_000,
    });
    expect(version.exitCode).toBe(0);
    expect(JSON.parse(version.stdout.toString())).toMatchObject({ cniVersion: '1.1.0' });
    const script = await exec.run('/bin/sh', {
      stdin: 'echo "ünïcode $CNI_COMMAND"; echo oops >&2; exit 3',
      env: { ...env, CNI_COMMAND: 'DEL' },
      timeoutMs: 10_000,
    });
    expect(script).toMatchObject({ exitCode: 3, signal: null, timedOut: false, aborted: false, overflowed: false });
    expect(script.stdout.toString()).toBe('ünïcode DEL\n');
    expect(script.stderr.toString()).toBe('oops\n');
  });

  it('kills the whole process group at the timeout and on abort', async () => {
    const t0 = Date.now();
    const run = await exec.run('/bin/sh', { stdin: 'sleep 60 & echo $!; wait', env, timeoutMs: 300 });
    expect(run).toMatchObject({ exitCode: null, signal: 'SIGKILL', timedOut: true });
    expect(Date.now() - t0).toBeLessThan(5000);
    const child = run.stdout.toString().trim();
    expect(child).toMatch(/^\d+$/);
    await eventually('the background sleep gone too', () => (existsSync(`/proc/${child}`) ? undefined : true), 5000, 50);

    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    expect(await exec.run('/bin/sh', { stdin: 'sleep 60', env, timeoutMs: 10_000, signal: controller.signal })).toMatchObject({
      aborted: true,
      signal: 'SIGKILL',
    });
  });

  it('caps the output, reports what could not start, waits only 2 s for output held by what a plugin left behind', async () => {
    expect(await exec.run('/usr/bin/yes', { stdin: '', env, timeoutMs: 10_000 })).toMatchObject({ overflowed: true, signal: 'SIGKILL' });
    expect((await exec.run('/no/such/plugin', { stdin: '', env, timeoutMs: 10_000 })).spawnError?.code).toBe('ENOENT');
    const t0 = Date.now();
    const held = await exec.run('/bin/sh', { stdin: '(sleep 20) & echo answered', env, timeoutMs: 10_000 });
    expect(held.exitCode).toBe(0);
    expect(held.stdout.toString()).toBe('answered\n');
    expect(Date.now() - t0).toBeLessThan(8000);
  });

  it('serves many runs at once, and starts a new helper after the last one died', async () => {
    const runs = await Promise.all(Array.from({ length: 40 }, (_, i) => exec.run('/bin/sh', { stdin: `echo ${i}`, env, timeoutMs: 20_000 })));
    expect(runs.map((r) => r.stdout.toString())).toEqual(Array.from({ length: 40 }, (_, i) => `${i}\n`));
    const running = exec.run('/bin/sh', { stdin: 'sleep 60', env, timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 100));
    exec.close();
    expect((await running).spawnError?.code).toBe('EHELPER');
    expect((await exec.run('/bin/sh', { stdin: 'echo again', env, timeoutMs: 10_000 })).stdout.toString()).toBe('again\n');
  });
});
