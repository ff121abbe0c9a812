import { TskubeError } from '../../../common/errors.js';
import type { ContainerStatsFilter } from '../../../gen/cri/runtime/v1/ContainerStatsFilter.js';
import { parseFlags } from '../../args.js';
import type { CrictlContext } from '../context.js';
import { parseLabelSelector } from '../list/label-selector.js';
import { displayLoop, parseSeconds, statsScreen } from '../list/sample-loop.js';
import { containerStatsTable, selectContainerStats } from '../list/stats-table.js';
import { parseOutputFormat } from '../output.js';
import { resolveContainerIds, resolvePodIds } from '../resolve-id.js';

/** `crictl stats [ID]`: CPU, memory and writable-layer usage of containers. */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    all: { type: 'boolean', short: 'a' },
    id: { type: 'string' },
    pod: { type: 'string', short: 'p' },
    label: { type: 'string', multiple: true },
    output: { type: 'string', short: 'o' },
    seconds: { type: 'string', short: 's' },
    watch: { type: 'boolean', short: 'w' },
  });
  if (positionals.length > 1) throw new TskubeError('invalid-argument', `stats takes at most one container ID, got ${positionals.length}`);
  const format = parseOutputFormat(values.output);
  const seconds = parseSeconds(values.seconds);
  const filter: ContainerStatsFilter = { labelSelector: parseLabelSelector(values.label) };
  const id = values.id ?? positionals[0];
  if (id) filter.id = (await resolveContainerIds(ctx, [id]))[0] as string;
  if (values.pod) filter.podSandboxId = (await resolvePodIds(ctx, [values.pod]))[0] as string;

  const client = await ctx.client();
  const all = values.all ?? false;
  const sample = async () => selectContainerStats((await client.runtime.call('ListContainerStats', { filter }, { signal: ctx.io.signal })).stats, all);
  await displayLoop(ctx.io, values.watch ?? false, () => statsScreen(format, seconds, ctx.io.signal, sample, containerStatsTable));
  return 0;
}
