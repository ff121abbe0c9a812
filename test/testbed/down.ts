// `testbed down`: stop what `up` started and remove the testbed's folder.
import { access, rm } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { removeNetwork } from './network.ts';
import { TESTBED_PREFIX } from './paths.ts';
import { stopProcess, type ProcessRecord } from './processes.ts';
import { readState, stateFile } from './state.ts';

const GRACE_MS = 10_000;

export async function down(dir: string): Promise<void> {
  dir = resolve(dir);
  // Refuse anything that does not look like a testbed: this removes a folder
  // recursively, and the folder name may come from a command line.
  if (!basename(dir).startsWith(TESTBED_PREFIX)) {
    throw new Error(`testbed down: ${dir} is not a testbed folder (its name does not start with ${TESTBED_PREFIX})`);
  }
  const hasState = await access(stateFile(dir)).then(
    () => true,
    () => false,
  );
  if (hasState) {
    const state = await readState(dir);
    const byName = (name: string) => state.processes.filter((p) => p.name === name);
    // Clients of the apiserver first, etcd last, so nothing spends its
    // shutdown retrying a server that is already gone.
    await stopAll([...byName('kube-controller-manager'), ...byName('kube-scheduler')]);
    await stopAll(byName('kube-apiserver'));
    await stopAll(state.processes.filter((p) => !['kube-controller-manager', 'kube-scheduler', 'kube-apiserver'].includes(p.name)));
    if (state.network) await removeNetwork(state.network);
  }
  await rm(dir, { recursive: true, force: true });
}

async function stopAll(processes: ProcessRecord[]): Promise<void> {
  const results = await Promise.allSettled(processes.map((p) => stopProcess(p, GRACE_MS)));
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
  if (failed.length > 0) throw new Error(`testbed down: ${failed.join('; ')}`);
}
