// vitest globalSetup for suites that need a control plane: one testbed per
// test run, shared by every test file of the project, removed at the end
// whether the tests passed or not.
//
// In the vitest config:  { test: { name: 'e2e', globalSetup: ['test/testbed/global-setup.ts'] } }
// In a test:             const tb = inject('testbed');
//
// TSKUBE_TESTBED_REUSE=DIR runs the tests against a testbed already up
// (`testbed up`), and leaves it up: seconds saved on every run while writing
// e2e tests.
import { readFileSync, rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { down } from './down.ts';
import { killNow } from './processes.ts';
import { readState, stateFile, type TestbedState } from './state.ts';
import { status } from './status.ts';
import { testbedInfo, up, type Testbed } from './up.ts';

// What tests receive through inject('testbed'); plain data, since it crosses
// into the test workers.
export type ProvidedTestbed = Omit<Testbed, 'readyMs'>;

declare module 'vitest' {
  export interface ProvidedContext {
    testbed: ProvidedTestbed;
  }
}

let current: Testbed | undefined;

export async function setup(project: TestProject): Promise<void> {
  const log = (m: string) => process.stderr.write(`[testbed] ${m}\n`);
  const reuse = process.env['TSKUBE_TESTBED_REUSE'];
  if (reuse) {
    const s = await status(reuse);
    if (!s.ready) throw new Error(`TSKUBE_TESTBED_REUSE=${reuse}: the testbed is not ready (${s.detail}); see: testbed status ${reuse}`);
    log(`reusing ${reuse}; it stays up after the tests`);
    const { readyMs: _readyMs, ...provided } = testbedInfo(await readState(reuse), 0);
    project.provide('testbed', provided);
    return;
  }
  const timeoutMs = Number(process.env['TSKUBE_TESTBED_TIMEOUT_S'] ?? 120) * 1000;
  current = await up({ timeoutMs, log });
  process.once('exit', killLeftovers);
  log(`ready in ${(current.readyMs / 1000).toFixed(1)}s at ${current.apiserverUrl} (${current.dir})`);
  const { readyMs: _readyMs, ...provided } = current;
  project.provide('testbed', provided);
}

export async function teardown(): Promise<void> {
  if (!current) return;
  const dir = current.dir;
  current = undefined;
  process.removeListener('exit', killLeftovers);
  await down(dir);
}

// Last resort when vitest exits without running teardown (an uncaught error,
// a second Ctrl-C): nothing asynchronous runs any more, so kill outright.
function killLeftovers(): void {
  if (!current) return;
  try {
    const state = JSON.parse(readFileSync(stateFile(current.dir), 'utf8')) as TestbedState;
    for (const p of state.processes) killNow(p);
  } catch {
    // No state, no processes to kill; the folder still goes.
  }
  rmSync(current.dir, { recursive: true, force: true });
}
