// The `testbed` command: up, down, status, env. Takes its output streams as
// arguments and returns an exit code, so it can be tested without a process.
import { readFile } from 'node:fs/promises';
import { down } from './down.ts';
import { findTestbeds, status } from './status.ts';
import { up } from './up.ts';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const USAGE = `usage: testbed <command>

  up [--timeout SECONDS] [--keep-on-failure] [--json] [--netns]
        start a control plane (builds the binaries first if needed);
        --netns: in a network namespace of its own with a routed address
  down [DIR | --all]     stop a testbed and remove its folder
  status [DIR]           what runs, and whether the apiserver is ready
  env [DIR]              shell exports; use as: eval "$(testbed env)"

DIR defaults to $TSKUBE_TESTBED_DIR, else to the only testbed there is.
`;

export async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'up':
        return await cmdUp(args, io);
      case 'down':
        return await cmdDown(args, io);
      case 'status':
        return await cmdStatus(args, io);
      case 'env':
        io.out(await readFile(`${await pickDir(args)}/env`, 'utf8'));
        return 0;
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return 0;
      default:
        io.err(command === undefined ? USAGE : `testbed: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    io.err(`${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

async function cmdUp(args: string[], io: Io): Promise<number> {
  let timeoutMs: number | undefined;
  let keepOnFailure = false;
  let json = false;
  let netns = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--keep-on-failure') keepOnFailure = true;
    else if (a === '--json') json = true;
    else if (a === '--netns') netns = true;
    else if (a === '--timeout') {
      const v = Number(args[++i]);
      if (!(v > 0)) throw new Error(`testbed up: --timeout wants a positive number of seconds, got ${JSON.stringify(args[i])}`);
      timeoutMs = v * 1000;
    } else throw new Error(`testbed up: unknown argument ${JSON.stringify(a)}`);
  }
  // Ctrl-C during `up` removes the half-made testbed instead of leaving
  // detached processes behind (they are in their own session and do not get
  // the terminal's SIGINT).
  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => abort.abort(new Error(`testbed up: interrupted by ${sig}; removed the half-made testbed`));
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  let tb: Awaited<ReturnType<typeof up>>;
  try {
    tb = await up({ keepOnFailure, netns, signal: abort.signal, log: (m) => io.err(`[testbed] ${m}\n`), ...(timeoutMs ? { timeoutMs } : {}) });
  } finally {
    process.removeListener('SIGINT', onSignal).removeListener('SIGTERM', onSignal);
  }
  if (json) {
    io.out(`${JSON.stringify(tb, null, 2)}\n`);
    return 0;
  }
  io.out(
    [
      `testbed ready in ${(tb.readyMs / 1000).toFixed(1)}s: Kubernetes ${tb.kubeVersion}`,
      `  dir:                  ${tb.dir}`,
      `  apiserver:            ${tb.apiserverUrl}`,
      `  admin kubeconfig:     ${tb.adminKubeconfig}`,
      `  bootstrap kubeconfig: ${tb.bootstrapKubeconfig}`,
      `  env file:             ${tb.envFile}`,
      `  kubectl:              ${tb.kubectl}`,
      `use it:  eval "$(test/testbed/testbed env ${tb.dir})"`,
      `stop it: test/testbed/testbed down ${tb.dir}`,
      '',
    ].join('\n'),
  );
  return 0;
}

async function cmdDown(args: string[], io: Io): Promise<number> {
  const dirs = args[0] === '--all' ? await findTestbeds() : [await pickDir(args)];
  let code = 0;
  for (const dir of dirs) {
    try {
      await down(dir);
      io.err(`[testbed] stopped and removed ${dir}\n`);
    } catch (err) {
      io.err(`${err instanceof Error ? err.message : String(err)}\n`);
      code = 1;
    }
  }
  return code;
}

async function cmdStatus(args: string[], io: Io): Promise<number> {
  const dirs = args.length > 0 || process.env['TSKUBE_TESTBED_DIR'] ? [await pickDir(args)] : await findTestbeds();
  if (dirs.length === 0) {
    io.out('no testbeds\n');
    return 0;
  }
  let code = 0;
  for (const dir of dirs) {
    try {
      const s = await status(dir);
      io.out(`${s.dir}: ${s.ready ? 'ready' : `not ready (${s.detail.split('\n')[0]})`}, apiserver ${s.apiserverUrl}\n`);
      for (const p of s.processes) {
        const state = p.running ? `running  ${mib(p.rssKiB).padStart(7)} RSS` : 'NOT RUNNING';
        io.out(`  ${p.name.padEnd(24)} pid ${String(p.pid).padEnd(8)} ${state}  log ${p.log}\n`);
      }
      io.out(`  ${'total'.padEnd(24)} ${''.padEnd(12)} ${mib(s.processes.reduce((n, p) => n + p.rssKiB, 0)).padStart(16)} RSS\n`);
      if (!s.ready) code = 1;
    } catch (err) {
      io.out(`${dir}: broken (${err instanceof Error ? err.message : String(err)}); remove it with: testbed down ${dir}\n`);
      code = 1;
    }
  }
  return code;
}

const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;

async function pickDir(args: string[]): Promise<string> {
  const given = args[0] ?? process.env['TSKUBE_TESTBED_DIR'];
  if (given) return given;
  const all = await findTestbeds();
  if (all.length === 1) return all[0]!;
  if (all.length === 0) throw new Error('no testbed found; start one with: testbed up');
  throw new Error(`${all.length} testbeds found; name one (or set TSKUBE_TESTBED_DIR):\n${all.map((d) => `  ${d}`).join('\n')}`);
}
