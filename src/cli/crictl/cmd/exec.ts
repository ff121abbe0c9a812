import { TskubeError } from '../../../common/errors.js';
import { streamRemoteCommand, streamTransports, type StreamTransport } from '../../../cri-client/streaming/index.js';
import { parseDuration, parseFlags } from '../../args.js';
import type { CrictlContext } from '../context.js';
import { resolveContainerIds } from '../resolve-id.js';

/** The deadline of an ExecSync without --timeout: a day, as the client has no "none". */
const untimedCallMs = 24 * 3600_000;

const usage = 'usage: crictl exec [-s] [-i] [-t] [--timeout SECONDS] [--transport websocket|spdy] CONTAINER-ID COMMAND [ARG...]';

/**
 * `crictl exec`: runs a command in a running container. With -s it is one ExecSync call;
 * otherwise the command runs over the runtime's streaming server, and its exit code
 * becomes ours.
 */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const [flagArgs, rest] = splitAtFirstPositional(argv, new Set(['--timeout', '--transport', '-r']));
  const { values } = parseFlags(flagArgs, {
    sync: { type: 'boolean', short: 's' },
    interactive: { type: 'boolean', short: 'i' },
    tty: { type: 'boolean', short: 't' },
    timeout: { type: 'string' },
    transport: { type: 'string', short: 'r' },
  });
  const [query, ...cmd] = rest;
  if (query === undefined) throw new TskubeError('invalid-argument', `container ID cannot be empty (${usage})`);
  if (cmd.length === 0) throw new TskubeError('invalid-argument', `no command given (${usage})`);
  const transport = parseTransport(values.transport);
  const timeoutMs = values.timeout === undefined ? 0 : parseDuration(values.timeout, '--timeout');
  const [containerId] = (await resolveContainerIds(ctx, [query])) as [string];
  const client = await ctx.client();

  if (values.sync) {
    const seconds = Math.ceil(timeoutMs / 1000);
    const reply = await client.runtime.call(
      'ExecSync',
      { containerId, cmd, timeout: seconds },
      // The RPC must outlive the command's own timeout; with none, the command may run for long.
      { signal: ctx.io.signal, timeoutMs: seconds > 0 ? seconds * 1000 + 10_000 : untimedCallMs },
    );
    ctx.io.stdout.write(reply.stdout);
    ctx.io.stderr.write(reply.stderr);
    return reply.exitCode;
  }

  const tty = values.tty === true;
  const interactive = values.interactive === true;
  if (timeoutMs > 0) ctx.debug('--timeout applies to exec -s only; ignored');
  const { url } = await client.runtime.call('Exec', { containerId, cmd, tty, stdin: interactive, stdout: true, stderr: !tty }, { signal: ctx.io.signal });
  ctx.debug(`exec URL: ${url}`);
  return streamToTerminal(ctx, url, { interactive, tty, transport });
}

export interface StreamChoice {
  interactive: boolean;
  tty: boolean;
  transport: StreamTransport | undefined;
}

/**
 * Wires an exec/attach stream to the command's I/O. With a TTY the local terminal goes
 * into raw mode for the session (so keys reach the remote side as typed) and is restored
 * however the session ends.
 */
export async function streamToTerminal(ctx: CrictlContext, url: string, choice: StreamChoice): Promise<number> {
  const { io } = ctx;
  if (choice.tty && !choice.interactive) throw new TskubeError('invalid-argument', 'tty=true must be specified with interactive=true (add -i)');
  if (choice.tty && (!io.stdin.isTTY || !io.stdin.setRawMode))
    throw new TskubeError('invalid-argument', 'input is not a terminal (-t needs a terminal on stdin)');
  const raw = choice.tty ? io.stdin.setRawMode : undefined;
  raw?.call(io.stdin, true);
  try {
    const status = await streamRemoteCommand(
      url,
      {
        stdin: choice.interactive ? io.stdin : undefined,
        stdout: io.stdout,
        stderr: choice.tty ? undefined : io.stderr,
        tty: choice.tty,
        terminalSize: io.terminalSize,
        onResize: io.onResize,
        signal: io.signal,
        debug: (m) => ctx.debug(m),
      },
      choice.transport,
    );
    return status.exitCode;
  } finally {
    raw?.call(io.stdin, false);
  }
}

export function parseTransport(text: string | undefined): StreamTransport | undefined {
  if (text === undefined) return undefined;
  if ((streamTransports as readonly string[]).includes(text)) return text as StreamTransport;
  throw new TskubeError('invalid-argument', `--transport: invalid value "${text}" (want ${streamTransports.join(' or ')})`);
}

/**
 * Splits `[flags] ID COMMAND [ARG...]` at the first positional, so the command's own
 * flags (`sh -c ...`) are never read as ours, as crictl does.
 */
export function splitAtFirstPositional(argv: readonly string[], valueFlags: ReadonlySet<string>): [string[], string[]] {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') return [argv.slice(0, i), argv.slice(i + 1)];
    if (!arg.startsWith('-') || arg === '-') return [argv.slice(0, i), argv.slice(i)];
    if (valueFlags.has(arg)) i++;
  }
  return [[...argv], []];
}
