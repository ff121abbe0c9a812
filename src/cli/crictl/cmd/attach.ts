import { TskubeError } from '../../../common/errors.js';
import { parseFlags } from '../../args.js';
import type { CrictlContext } from '../context.js';
import { resolveContainerIds } from '../resolve-id.js';
import { parseTransport, streamToTerminal } from './exec.js';

/** `crictl attach`: connects to a running container's main process streams. */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    stdin: { type: 'boolean', short: 'i' },
    tty: { type: 'boolean', short: 't' },
    transport: { type: 'string', short: 'r' },
  });
  const [query, ...extra] = positionals;
  if (query === undefined) throw new TskubeError('invalid-argument', 'container ID cannot be empty (usage: crictl attach [-i] [-t] CONTAINER-ID)');
  if (extra.length > 0) throw new TskubeError('invalid-argument', `attach takes one container ID, got ${positionals.length}`);
  const transport = parseTransport(values.transport);
  const [containerId] = (await resolveContainerIds(ctx, [query])) as [string];
  const tty = values.tty === true;
  const interactive = values.stdin === true;
  const client = await ctx.client();
  const { url } = await client.runtime.call('Attach', { containerId, stdin: interactive, tty, stdout: true, stderr: !tty }, { signal: ctx.io.signal });
  ctx.debug(`attach URL: ${url}`);
  return streamToTerminal(ctx, url, { interactive, tty, transport });
}
