// The state file of one testbed: what `up` started and where, so `down`,
// `status` and `env` can work from another process.
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestbedNetwork } from './network.ts';
import type { ProcessRecord } from './processes.ts';

export const STATE_VERSION = 1;

export interface TestbedState {
  version: typeof STATE_VERSION;
  dir: string;
  kubeVersion: string;
  binDir: string;
  createdAt: string;
  apiserverUrl: string;
  ports: { etcdClient: number; etcdPeer: number; apiserver: number; controllerManager: number; scheduler: number };
  serviceCIDR: string;
  podCIDR: string;
  clusterDomain: string;
  bootstrapToken: string;
  files: {
    adminKubeconfig: string;
    bootstrapKubeconfig: string;
    caFile: string;
    caKeyFile: string;
    env: string;
    logs: string;
  };
  // In start order; stopped in reverse.
  processes: ProcessRecord[];
  // Set when the control plane runs in its own network namespace (up --netns).
  network?: TestbedNetwork;
}

export function stateFile(dir: string): string {
  return join(dir, 'state.json');
}

// Written to a temp file, synced and renamed: a reader sees the old state or
// the new one, never half of one.
export async function writeState(state: TestbedState): Promise<void> {
  const file = stateFile(state.dir);
  const tmp = `${file}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(state, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
}

export async function readState(dir: string): Promise<TestbedState> {
  const file = stateFile(dir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`no testbed at ${dir}: cannot read ${file}`, { cause: err });
  }
  const state = JSON.parse(text) as Partial<TestbedState>;
  if (state.version !== STATE_VERSION) {
    throw new Error(`${file}: state version ${String(state.version)}, this testbed script reads version ${STATE_VERSION}`);
  }
  return state as TestbedState;
}
