import { parseFlags } from '../../args.js';
import type { CrictlContext } from '../context.js';
import { eachId } from '../lifecycle/each-id.js';
import { containerIdMatcher } from '../lifecycle/id-matchers.js';
import { linuxResourcesFromFlags, resourceFlagSpec } from '../lifecycle/resource-flags.js';
import { expectArgs } from '../lifecycle/usage.js';

/** `crictl update [--cpu-period ... --memory BYTES] ID...`: changes running containers' resources. */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const { values, positionals } = parseFlags(argv, resourceFlagSpec);
  const linux = linuxResourcesFromFlags(values);
  expectArgs(
    positionals,
    { min: 1 },
    'tskube crictl update [--cpu-period N] [--cpu-quota N] [--cpu-share N] [--cpuset-cpus S] [--cpuset-mems S] [--memory BYTES] CONTAINER-ID...',
  );
  const client = await ctx.client();
  const match = await containerIdMatcher(ctx);
  await eachId(positionals, async (query) => {
    const id = match(query);
    await client.runtime.call('UpdateContainerResources', { containerId: id, linux }, { signal: ctx.io.signal });
    ctx.io.stdout.write(`${id}\n`);
  });
  return 0;
}
