// `testbed status`: which testbeds exist, what of each still runs, and
// whether its apiserver answers /readyz.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkHealth } from './health.ts';
import { TESTBED_PREFIX, testbedParent } from './paths.ts';
import { isRunning } from './processes.ts';
import { readState } from './state.ts';

export interface TestbedStatus {
  dir: string;
  apiserverUrl: string;
  processes: { name: string; pid: number; running: boolean; rssKiB: number; log: string }[];
  ready: boolean;
  detail: string;
}

export async function status(dir: string): Promise<TestbedStatus> {
  const state = await readState(dir);
  const health = await checkHealth({
    url: `${state.apiserverUrl}/readyz`,
    caFile: state.files.caFile,
    certFile: join(dir, 'pki', 'admin.crt'),
    keyFile: join(dir, 'pki', 'admin.key'),
  });
  return {
    dir: state.dir,
    apiserverUrl: state.apiserverUrl,
    processes: await Promise.all(
      state.processes.map(async (p) => {
        const running = isRunning(p);
        return { name: p.name, pid: p.pid, running, rssKiB: running ? await rssKiB(p.pid) : 0, log: p.log };
      }),
    ),
    ready: health.ok,
    detail: health.detail,
  };
}

// Testbed folders under the testbed parent (the temp dir by default),
// including half-made ones without a state file.
export async function findTestbeds(): Promise<string[]> {
  const parent = testbedParent();
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.startsWith(TESTBED_PREFIX))
    .map((n) => join(parent, n))
    .sort();
}

// Resident memory, for the figure "what does a control plane cost".
async function rssKiB(pid: number): Promise<number> {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}
