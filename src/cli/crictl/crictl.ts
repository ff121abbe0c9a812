import { TskubeError } from '../../common/errors.js';
import type { CommandIo } from '../io.js';
import { findSubcommand, subcommands } from './commands.js';
import { createContext } from './context.js';
import { resolveSettings, type GlobalFlags } from './settings.js';
import { loadConfigFile, loadKubeletEndpoint } from './settings-files.js';

const valueFlags: Record<string, keyof GlobalFlags> = {
  '--runtime-endpoint': 'runtimeEndpoint',
  '-r': 'runtimeEndpoint',
  '--image-endpoint': 'imageEndpoint',
  '-i': 'imageEndpoint',
  '--timeout': 'timeout',
  '-t': 'timeout',
  '--config': 'config',
  '-c': 'config',
};

export interface GlobalParse {
  flags: GlobalFlags;
  help: boolean;
  version: boolean;
  /** The subcommand and its own arguments. */
  rest: string[];
}

/** Splits `crictl [global flags] SUBCOMMAND [args]`; global flags must come first, as in crictl. */
export function parseGlobalFlags(argv: string[]): GlobalParse {
  const flags: GlobalFlags = {};
  let help = false;
  let version = false;
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('-')) break;
    if (arg === '--') {
      i++;
      break;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (name === '--debug' || name === '-D') {
      flags.debug = eq > 0 ? arg.slice(eq + 1) !== 'false' : true;
      continue;
    }
    if (name === '--help' || name === '-h') {
      help = true;
      continue;
    }
    if (name === '--version' || name === '-v') {
      version = true;
      continue;
    }
    const key = valueFlags[name];
    if (!key) throw new TskubeError('invalid-argument', `flag provided but not defined: ${name}`);
    let value: string | undefined;
    if (eq > 0) value = arg.slice(eq + 1);
    else value = argv[++i];
    if (value === undefined) throw new TskubeError('invalid-argument', `flag needs an argument: ${name}`);
    (flags as Record<string, string>)[key] = value;
  }
  return { flags, help, version, rest: argv.slice(i) };
}

function usage(io: CommandIo): void {
  io.stdout.write(
    'NAME:\n   tskube crictl - client for CRI\n\nUSAGE:\n   tskube crictl [global options] command [command options] [arguments...]\n\nCOMMANDS:\n',
  );
  for (const s of subcommands) {
    const names = [s.name, ...(s.aliases ?? [])].join(', ');
    io.stdout.write(`   ${names.padEnd(20)} ${s.summary}\n`);
  }
  io.stdout.write(
    '\nGLOBAL OPTIONS:\n' +
      '   --config value, -c value            Location of the client config file (default: "/etc/crictl.yaml") [$CRI_CONFIG_FILE]\n' +
      '   --debug, -D                         Enable debug mode (default: false)\n' +
      '   --image-endpoint value, -i value    Endpoint of CRI image manager service (default: uses runtime-endpoint setting) [$IMAGE_SERVICE_ENDPOINT]\n' +
      '   --runtime-endpoint value, -r value  Endpoint of CRI container runtime service (default: uses the first default endpoint that answers) [$CONTAINER_RUNTIME_ENDPOINT]\n' +
      '   --timeout value, -t value           Timeout of connecting to the server in seconds (e.g. 2s, 20s.) (default: 2s)\n' +
      '   --help, -h                          show help\n' +
      '   --version, -v                       print the version\n',
  );
}

/** `tskube crictl`: errors print as one line prefixed with the subcommand, exit 1. */
export async function crictl(argv: string[], io: CommandIo): Promise<number> {
  let parsed: GlobalParse;
  try {
    parsed = parseGlobalFlags(argv);
  } catch (err) {
    io.stderr.write(`tskube crictl: ${TskubeError.from(err).detail}\n`);
    return 1;
  }
  if (parsed.version) {
    const { tskubeVersion } = await import('../version.js');
    io.stdout.write(`crictl version tskube-${tskubeVersion}\n`);
    return 0;
  }
  const [name, ...rest] = parsed.rest;
  if (name === undefined || parsed.help || name === 'help') {
    usage(io);
    return name === undefined && !parsed.help ? 1 : 0;
  }
  const entry = findSubcommand(name);
  if (!entry) {
    io.stderr.write(`tskube crictl: no such command "${name}"; run "tskube crictl help" for the list\n`);
    return 1;
  }
  let ctx: ReturnType<typeof createContext> | undefined;
  try {
    const [configFile, kubelet] = await Promise.all([
      // `config` and `completion` must work where the config file is missing or broken:
      // `config --set` is how a user creates or repairs it.
      entry.needsRuntime ? loadConfigFile(parsed.flags, io.env) : loadConfigFile(parsed.flags, io.env).catch(() => undefined),
      entry.needsRuntime ? loadKubeletEndpoint() : Promise.resolve(undefined),
    ]);
    const settings = resolveSettings({ flags: parsed.flags, env: io.env, ...(configFile ? { configFile } : {}), ...(kubelet ? { kubelet } : {}) });
    ctx = createContext(io, settings);
    return await (await entry.load())(rest, ctx);
  } catch (err) {
    io.stderr.write(`tskube crictl ${entry.name}: ${TskubeError.from(err).message}\n`);
    return 1;
  } finally {
    ctx?.close();
  }
}
