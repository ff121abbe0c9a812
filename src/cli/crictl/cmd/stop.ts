import { TskubeError } from '../../../common/errors.js';
import { parseFlags, parseInteger } from '../../args.js';
import type { CrictlContext } from '../context.js';
import { eachId } from '../lifecycle/each-id.js';
import { containerIdMatcher } from '../lifecycle/id-matchers.js';

/** `crictl stop [-t SECONDS] [-a] ID...`: stops running containers, printing each ID. */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    timeout: { type: 'string', short: 't' },
    all: { type: 'boolean', short: 'a' },
  });
  const graceSeconds = parseInteger(values.timeout, '--timeout', 0);
  if (graceSeconds < 0) throw new TskubeError('invalid-argument', `--timeout: want seconds >= 0, got ${graceSeconds}`);
  if (values.all && positionals.length > 0) throw new TskubeError('invalid-argument', 'cannot give CONTAINER-IDs with --all');
  if (!values.all && positionals.length === 0) {
    throw new TskubeError('invalid-argument', 'want at least one CONTAINER-ID, or --all (usage: tskube crictl stop [-t SECONDS] CONTAINER-ID...)');
  }
  const client = await ctx.client();

  let match: (query: string) => string;
  let queries: string[];
  if (values.all) {
    const { containers } = await client.runtime.call('ListContainers', { filter: { state: { state: 'CONTAINER_RUNNING' } } }, { signal: ctx.io.signal });
    if (containers.length === 0) {
      ctx.io.stdout.write('No running containers found.\n');
      return 0;
    }
    queries = containers.map((c) => c.id);
    match = (id) => id;
  } else {
    queries = positionals;
    match = await containerIdMatcher(ctx);
  }
  await eachId(queries, async (query) => {
    const id = match(query);
    // The runtime may wait out the whole grace period before it answers.
    await client.runtime.call(
      'StopContainer',
      { containerId: id, timeout: graceSeconds },
      { signal: ctx.io.signal, timeoutMs: ctx.settings.timeoutMs + graceSeconds * 1000 },
    );
    ctx.io.stdout.write(`${id}\n`);
  });
  return 0;
}
