import { TskubeError } from '../../../common/errors.js';
import { parseFlags } from '../../args.js';
import type { CrictlContext } from '../context.js';
import { parseInspectFormat } from '../list/inspect-format.js';
import { listPods, podQueryOptions } from '../list/list-pods.js';
import { buildPodQuery } from '../list/pod-filter.js';
import { printStatusDocuments, statusDocument } from '../list/proto-json.js';
import { podStatusJson } from '../list/status-json.js';
import { podStatusTable } from '../list/status-table.js';
import { resolvePodIds } from '../resolve-id.js';

/** `crictl inspectp [POD-ID...]`: the status of the named pods, or of those the filters select. */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    ...podQueryOptions,
    output: { type: 'string', short: 'o' },
    quiet: { type: 'boolean', short: 'q' },
    template: { type: 'string' },
  });
  const format = parseInspectFormat(values.output, values.template);
  const ids = positionals.length > 0 ? await resolvePodIds(ctx, positionals) : (await listPods(ctx, buildPodQuery(values))).map((p) => p.id);
  if (ids.length === 0) throw new TskubeError('not-found', 'no pod IDs given and no pod matched the filters');

  const client = await ctx.client();
  const verbose = !values.quiet;
  const replies = await Promise.all(ids.map((podSandboxId) => client.runtime.call('PodSandboxStatus', { podSandboxId, verbose }, { signal: ctx.io.signal })));
  if (format === 'table') {
    ctx.io.stdout.write(replies.map((r) => podStatusTable(r, verbose)).join(''));
    return 0;
  }
  const docs = replies.map((r) => statusDocument(r.status ? podStatusJson(r.status) : null, r.info));
  await printStatusDocuments(ctx.io.stdout, format, docs);
  return 0;
}
