import { TskubeError } from '../../../common/errors.js';
import { parseFlags } from '../../args.js';
import type { CrictlContext } from '../context.js';
import { eachId } from '../lifecycle/each-id.js';
import { podIdMatcher } from '../lifecycle/id-matchers.js';

/**
 * `crictl rmp [-f] [-a] POD-ID...`: removes pods and their containers. A ready pod
 * is an error unless -f, which stops it first.
 */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    force: { type: 'boolean', short: 'f' },
    all: { type: 'boolean', short: 'a' },
  });
  if (values.all && positionals.length > 0) throw new TskubeError('invalid-argument', 'cannot give POD-IDs with --all');
  if (!values.all && positionals.length === 0) {
    throw new TskubeError('invalid-argument', 'want at least one POD-ID, or --all (usage: tskube crictl rmp [-f] POD-ID...)');
  }
  const client = await ctx.client();
  const signal = ctx.io.signal;
  let queries = positionals;
  let match: (query: string) => string;
  if (values.all) {
    const { items } = await client.runtime.call('ListPodSandbox', {}, { signal });
    if (items.length === 0) {
      ctx.io.stderr.write('No pods to remove\n');
      return 0;
    }
    queries = items.map((p) => p.id);
    match = (id) => id;
  } else {
    match = await podIdMatcher(ctx);
  }

  await eachId(queries, async (query) => {
    const id = match(query);
    const { status } = await client.runtime.call('PodSandboxStatus', { podSandboxId: id }, { signal });
    if (status?.state === 'SANDBOX_READY') {
      if (!values.force) throw new TskubeError('failed-precondition', `pod sandbox "${id}" is running: stop it first (stopp), or use rmp -f`);
      await client.runtime.call('StopPodSandbox', { podSandboxId: id }, { signal });
    }
    await client.runtime.call('RemovePodSandbox', { podSandboxId: id }, { signal });
    ctx.io.stdout.write(`Removed sandbox ${id}\n`);
  });
  return 0;
}
