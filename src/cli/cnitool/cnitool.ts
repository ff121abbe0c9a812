// `tskube cnitool`: upstream cnitool's add, check, del, gc and status on a network and a
// namespace, with its environment (CNI_PATH, NETCONFPATH, CAP_ARGS, CNI_ARGS,
// CNI_IFNAME), plus `list` and `cache` for finding out why a pod has no network.
import { TskubeError } from '../../common/errors.js';
import type { CommandIo } from '../io.js';
import type { CnitoolContext, CnitoolDeps } from './context.js';

type SubcommandRun = (argv: string[], ctx: CnitoolContext) => Promise<number>;

const subcommands: { name: string; usage: string; summary: string; load: () => Promise<SubcommandRun> }[] = [
  {
    name: 'add',
    usage: 'add NETWORK NETNS',
    summary: 'Add an interface in NETNS to the network; prints the result',
    load: async () => (await import('./cmd/add.js')).run,
  },
  {
    name: 'check',
    usage: 'check NETWORK NETNS',
    summary: "Check that NETNS's attachment is as ADD left it",
    load: async () => (await import('./cmd/check.js')).run,
  },
  {
    name: 'del',
    usage: 'del NETWORK NETNS|--container-id ID',
    summary: 'Delete the attachment (cached CAP_ARGS/CNI_ARGS when unset)',
    load: async () => (await import('./cmd/del.js')).run,
  },
  {
    name: 'gc',
    usage: 'gc NETWORK',
    summary: 'Delete attachments of the network that belong to no live sandbox',
    load: async () => (await import('./cmd/gc.js')).run,
  },
  {
    name: 'status',
    usage: 'status NETWORK',
    summary: 'Ask the plugins whether the network can serve ADD (CNI 1.1)',
    load: async () => (await import('./cmd/status.js')).run,
  },
  {
    name: 'list',
    usage: 'list [-o json|yaml]',
    summary: 'The configs in NETCONFPATH, their problems, and which one wins',
    load: async () => (await import('./cmd/list.js')).run,
  },
  {
    name: 'cache',
    usage: 'cache [--stale] [-r ENDPOINT]',
    summary: 'The result cache, and which entries belong to no live sandbox',
    load: async () => (await import('./cmd/cache.js')).run,
  },
];

function usage(io: CommandIo): void {
  io.stdout.write('Usage: tskube cnitool COMMAND [ARGS...]\n\nCommands:\n');
  for (const s of subcommands) io.stdout.write(`  ${s.usage.padEnd(38)} ${s.summary}\n`);
  io.stdout.write(
    '\nFlags: -i IFNAME (add/check/del), --container-id ID (add/check/del), --cache-dir DIR (default /var/lib/cni),\n' +
      '       -r ENDPOINT, --no-runtime (gc/cache: where the pod sandboxes come from), -o json|yaml (list/cache)\n' +
      '\nEnvironment: CNI_PATH (default /opt/cni/bin:/usr/lib/cni), NETCONFPATH (default /etc/cni/net.d),\n' +
      '             CAP_ARGS (JSON capability arguments), CNI_ARGS (K=V;K=V), CNI_IFNAME (default eth0)\n',
  );
}

/** The command with its dependencies given (tests run plugins in a namespace of their own). */
export async function runCnitool(argv: string[], io: CommandIo, deps: CnitoolDeps = {}): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    usage(io);
    return name === undefined ? 1 : 0;
  }
  const entry = subcommands.find((s) => s.name === name);
  if (!entry) {
    io.stderr.write(`tskube cnitool: no such command "${name}"; run "tskube cnitool help" for the list\n`);
    return 1;
  }
  try {
    return await (await entry.load())(rest, { io, deps });
  } catch (err) {
    io.stderr.write(`tskube cnitool ${name}: ${TskubeError.from(err).message}\n`);
    return 1;
  }
}

export function cnitool(argv: string[], io: CommandIo): Promise<number> {
  return runCnitool(argv, io);
}
