// What integration tests share about the real containerd the setup started.
import { randomBytes } from 'node:crypto';
import { rmdirSync, rmSync } from 'node:fs';
import { CriClient } from '../../src/cri-client/index.js';
import type { PodSandboxConfig } from '../../src/gen/cri/runtime/v1/PodSandboxConfig.js';
import { crictl } from '../../src/cli/crictl/crictl.js';
import { memoryIo } from '../../src/cli/io.js';

/** Where test sandboxes' container logs go; removed with the pods. */
export const testLogRoot = '/tmp/tskube-test-logs';
export const runtimeEndpoint = process.env['TSKUBE_TEST_RUNTIME_ENDPOINT'] ?? 'unix:///run/containerd/containerd.sock';
/** busybox-static image built and imported by the setup (sh, sleep, httpd, nc, ...). */
export const testImage = 'localhost/tskube/busybox:latest';
export const pauseImage = 'registry.k8s.io/pause:3.10';

export function newClient(timeoutMs = 30_000): CriClient {
  return new CriClient({ endpoint: runtimeEndpoint, timeoutMs });
}

/** A short random suffix so parallel or leftover runs never collide on names. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Label every test object carries, so a sweeper can find leftovers. */
export const testLabel = { 'tskube.test/owner': 'vitest' };

export function podConfig(name: string, overrides: Partial<PodSandboxConfig> = {}): PodSandboxConfig {
  return {
    metadata: { name, namespace: 'tskube-test', uid: randomBytes(8).toString('hex'), attempt: 0 },
    hostname: name,
    logDirectory: `${testLogRoot}/${name}`,
    labels: { ...testLabel },
    linux: {},
    ...overrides,
  };
}

/** Runs `tskube crictl ARGS` in-process against the test runtime. */
export async function runCrictl(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}) {
  const { io, stdout, stderr } = memoryIo({
    env: { CONTAINER_RUNTIME_ENDPOINT: runtimeEndpoint, ...options.env },
    ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
  });
  const code = await crictl(['--timeout', '30s', ...args], io);
  return { code, stdout: stdout(), stderr: stderr() };
}

/**
 * Stops and removes every sandbox (and so its containers) carrying the test label, and
 * the extra labels if given (a file that labels its pods removes only its own).
 */
export async function removeTestPods(client: CriClient, extraLabels: Record<string, string> = {}): Promise<void> {
  const { items } = await client.runtime.call('ListPodSandbox', { filter: { labelSelector: { ...testLabel, ...extraLabels } } });
  for (const p of items) {
    await client.runtime.call('StopPodSandbox', { podSandboxId: p.id }).catch(() => undefined);
    await client.runtime.call('RemovePodSandbox', { podSandboxId: p.id }).catch(() => undefined);
    rmSync(`${testLogRoot}/${p.metadata?.name ?? ''}`, { recursive: true, force: true });
  }
  removeLogRootIfEmpty();
}

/** Removes one test sandbox's log directory, and the shared parent once no test pod uses it. */
export function removeTestLogDir(logDirectory: string): void {
  rmSync(logDirectory, { recursive: true, force: true });
  removeLogRootIfEmpty();
}

function removeLogRootIfEmpty(): void {
  try {
    rmdirSync(testLogRoot);
  } catch {
    // not empty, or already gone
  }
}

/** Stops and removes one test sandbox (with its containers) and its log directory. */
export async function removePod(client: CriClient, podSandboxId: string | undefined, logDirectory?: string): Promise<void> {
  if (podSandboxId) {
    await client.runtime.call('StopPodSandbox', { podSandboxId }).catch(() => undefined);
    await client.runtime.call('RemovePodSandbox', { podSandboxId }).catch(() => undefined);
  }
  if (logDirectory) removeTestLogDir(logDirectory);
}
