import { TskubeError } from '../common/errors.js';
import type { Command, CommandIo } from './io.js';

/** Top-level subcommands, loaded only when called so `tskube crictl ps` loads no kubelet code. */
const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  cnitool: {
    summary: 'run CNI plugins by hand, list network configs and the result cache (like cnitool)',
    load: async () => (await import('./cnitool/cnitool.js')).cnitool,
  },
  crictl: { summary: 'CRI client for debugging the container runtime (like crictl)', load: async () => (await import('./crictl/crictl.js')).crictl },
  kubelet: { summary: 'run the node agent (flags and --config as the upstream kubelet)', load: async () => (await import('./kubelet.js')).kubelet },
  proxy: { summary: 'run the service proxy (flags and --config as the upstream kube-proxy)', load: async () => (await import('./proxy.js')).proxy },
  version: { summary: 'print the tskube version', load: async () => (await import('./version.js')).version },
};

function usage(io: CommandIo): void {
  io.stdout.write('Usage: tskube COMMAND [ARGS...]\n\nCommands:\n');
  for (const [name, c] of Object.entries(commands)) io.stdout.write(`  ${name.padEnd(10)} ${c.summary}\n`);
}

export async function main(argv: string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    usage(io);
    return name === undefined ? 1 : 0;
  }
  const command = commands[name];
  if (!command) {
    io.stderr.write(`tskube: unknown command "${name}"; run "tskube help" for the list\n`);
    return 1;
  }
  try {
    return await (await command.load())(rest, io);
  } catch (err) {
    io.stderr.write(`tskube ${name}: ${TskubeError.from(err).message}\n`);
    return 1;
  }
}
