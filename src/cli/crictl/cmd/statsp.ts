import { TskubeError } from '../../../common/errors.js';
import type { PodSandboxStatsFilter } from '../../../gen/cri/runtime/v1/PodSandboxStatsFilter.js';
import { parseFlags } from '../../args.js';
import type { CrictlContext } from '../context.js';
import { parseLabelSelector } from '../list/label-selector.js';
import { displayLoop, parseSeconds, statsScreen } from '../list/sample-loop.js';
import { podStatsTable, sortPodStats } from '../list/stats-table.js';
import { parseOutputFormat } from '../output.js';
import { resolvePodIds } from '../resolve-id.js';

/** `crictl statsp [ID]`: CPU and memory usage of pods. */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    id: { type: 'string' },
    label: { type: 'string', multiple: true },
    output: { type: 'string', short: 'o' },
    seconds: { type: 'string', short: 's' },
    watch: { type: 'boolean', short: 'w' },
  });
  if (positionals.length > 1) throw new TskubeError('invalid-argument', `statsp takes at most one pod ID, got ${positionals.length}`);
  const format = parseOutputFormat(values.output);
  const seconds = parseSeconds(values.seconds);
  const filter: PodSandboxStatsFilter = { labelSelector: parseLabelSelector(values.label) };
  const id = values.id ?? positionals[0];
  if (id) filter.id = (await resolvePodIds(ctx, [id]))[0] as string;

  const client = await ctx.client();
  const sample = async () => sortPodStats((await client.runtime.call('ListPodSandboxStats', { filter }, { signal: ctx.io.signal })).stats);
  await displayLoop(ctx.io, values.watch ?? false, () => statsScreen(format, seconds, ctx.io.signal, sample, podStatsTable));
  return 0;
}
