import { parseFlags } from '../../args.js';
import type { CrictlContext } from '../context.js';
import { eachId } from '../lifecycle/each-id.js';
import { containerIdMatcher } from '../lifecycle/id-matchers.js';
import { expectArgs } from '../lifecycle/usage.js';

/** `crictl start ID...`: starts created containers, printing each ID. */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const { positionals } = parseFlags(argv, {});
  expectArgs(positionals, { min: 1 }, 'tskube crictl start CONTAINER-ID [CONTAINER-ID...]');
  const client = await ctx.client();
  const match = await containerIdMatcher(ctx);
  await eachId(positionals, async (query) => {
    const id = match(query);
    await client.runtime.call('StartContainer', { containerId: id }, { signal: ctx.io.signal });
    ctx.io.stdout.write(`${id}\n`);
  });
  return 0;
}
