// Seeding a running testbed: API objects written straight into its etcd while its
// kube-apiserver is stopped, then the apiserver started again with the same command
// line, so the objects are ordinary ones it serves. For benchmarks at sizes the API
// cannot be given in time (each Service create costs the ClusterIP allocator more
// CPU the more Services exist: docs/testbed.md). The objects must be complete, as the
// apiserver would have stored them (a Service's ClusterIP, its IPAddress object).
//
//   apiserver stopped ─► etcd-seed (ndjson on stdin, protobuf into etcd) ─► apiserver started ─► /readyz
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { checkHealth } from './health.ts';
import { BUILD_SCRIPT } from './paths.ts';
import { isRunning, startProcess, stopProcess } from './processes.ts';
import { readState, writeState } from './state.ts';
import { waitFor } from './up.ts';

export interface SeedOptions {
  /** The etcd-seed binary (default: `build.sh tools`, a link once the control plane is built). */
  seedBin?: string;
  /** For the apiserver to be ready again. */
  timeoutMs?: number;
}

export interface SeedResult {
  objects: number;
  /** Writing into etcd alone. */
  seedMs: number;
  /** From stopping the apiserver to its /readyz after the restart. */
  totalMs: number;
}

export function etcdSeedBinary(): string {
  const dir = execFileSync('bash', [BUILD_SCRIPT, 'tools'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return join(dir.split('\n').pop()!, 'etcd-seed');
}

export async function seed(dir: string, objects: Iterable<object>, options: SeedOptions = {}): Promise<SeedResult> {
  const started = performance.now();
  const seedBin = options.seedBin ?? etcdSeedBinary();
  const state = await readState(dir);
  const index = state.processes.findIndex((p) => p.name === 'kube-apiserver');
  const apiserver = state.processes[index];
  if (!apiserver || !isRunning(apiserver)) throw new Error(`testbed seed: no running kube-apiserver in ${dir}`);
  // The command line it runs now (under `ip netns exec` the pid is the apiserver's own).
  const [file, ...args] = readFileSync(`/proc/${apiserver.pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  await stopProcess(apiserver, 10_000);

  const t = performance.now();
  // Started again (and waited for) even when the seeding fails: the testbed stays usable.
  const seeding = await runSeeder(seedBin, `http://127.0.0.1:${state.ports.etcdClient}`, state.network?.netns, objects).then(
    (written) => ({ written }),
    (err: unknown) => ({ err }),
  );
  const seedMs = performance.now() - t;
  const restarted = startProcess('kube-apiserver', file!, args, apiserver.log, state.network?.netns);
  state.processes[index] = restarted;
  await writeState(state);
  const pki = join(dir, 'pki');
  const target = { url: `${state.apiserverUrl}/readyz`, caFile: state.files.caFile, certFile: join(pki, 'admin.crt'), keyFile: join(pki, 'admin.key') };
  const deadline = Date.now() + (options.timeoutMs ?? 300_000);
  await waitFor(restarted, 'kube-apiserver /readyz after the seeding', () => checkHealth(target), [restarted], deadline, undefined, 'testbed seed');
  if ('err' in seeding) throw seeding.err;
  return { objects: seeding.written, seedMs, totalMs: performance.now() - started };
}

/** Pipes the objects to etcd-seed (in the testbed's network namespace, where etcd listens); the count it wrote. */
async function runSeeder(seedBin: string, etcdUrl: string, netns: string | undefined, objects: Iterable<object>): Promise<number> {
  const argv = [seedBin, '-endpoint', etcdUrl];
  const [command, commandArgs] = netns ? ['ip', ['netns', 'exec', netns, ...argv]] : [argv[0]!, argv.slice(1)];
  const child = spawn(command, commandArgs, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err = (err + c).slice(-4000)));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  const lines = Readable.from(
    (function* () {
      for (const o of objects) yield `${JSON.stringify(o)}\n`;
    })(),
  );
  const piped = await pipeline(lines, child.stdin).then(
    () => undefined,
    (e: unknown) => e,
  );
  const code = await exited;
  // A seeder that fails early closes its stdin: its exit status says why, not the EPIPE.
  if (code !== 0) throw new Error(`testbed seed: etcd-seed exited ${String(code)}: ${err.trim()}`);
  if (piped !== undefined) throw new Error('testbed seed: writing the objects to etcd-seed failed', { cause: piped });
  return Number(out.trim());
}
