import { parseFlags } from '../../args.js';
import type { CrictlContext } from '../context.js';
import { eachId } from '../lifecycle/each-id.js';
import { podIdMatcher } from '../lifecycle/id-matchers.js';
import { expectArgs } from '../lifecycle/usage.js';

/** `crictl stopp POD-ID...`: stops pods (their containers and network), as crictl prints it. */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const { positionals } = parseFlags(argv, {});
  expectArgs(positionals, { min: 1 }, 'tskube crictl stopp POD-ID [POD-ID...]');
  const client = await ctx.client();
  const match = await podIdMatcher(ctx);
  await eachId(positionals, async (query) => {
    const id = match(query);
    await client.runtime.call('StopPodSandbox', { podSandboxId: id }, { signal: ctx.io.signal });
    ctx.io.stdout.write(`Stopped sandbox ${id}\n`);
  });
  return 0;
}
