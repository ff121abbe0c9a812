import { TskubeError } from '../../../common/errors.js';
import { parseFlags } from '../../args.js';
import type { CrictlContext } from '../context.js';
import { buildContainerQuery } from '../list/container-filter.js';
import { parseInspectFormat } from '../list/inspect-format.js';
import { containerQueryOptions, listContainers } from '../list/list-containers.js';
import { printStatusDocuments, statusDocument } from '../list/proto-json.js';
import { containerStatusJson } from '../list/status-json.js';
import { containerStatusTable } from '../list/status-table.js';
import { resolveContainerIds } from '../resolve-id.js';

/** `crictl inspect [ID...]`: the status of the named containers, or of those the filters select. */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    ...containerQueryOptions,
    output: { type: 'string', short: 'o' },
    quiet: { type: 'boolean', short: 'q' },
    template: { type: 'string' },
  });
  const format = parseInspectFormat(values.output, values.template);
  const ids =
    positionals.length > 0
      ? await resolveContainerIds(ctx, positionals)
      : (await listContainers(ctx, buildContainerQuery(values), { podNames: false })).containers.map((c) => c.id);
  if (ids.length === 0) throw new TskubeError('not-found', 'no container IDs given and no container matched the filters (running only, unless -a or --state)');

  const client = await ctx.client();
  const verbose = !values.quiet;
  const replies = await Promise.all(ids.map((containerId) => client.runtime.call('ContainerStatus', { containerId, verbose }, { signal: ctx.io.signal })));
  if (format === 'table') {
    const now = new Date();
    ctx.io.stdout.write(replies.map((r) => containerStatusTable(r, verbose, now)).join(''));
    return 0;
  }
  const docs = replies.map((r) => statusDocument(r.status ? containerStatusJson(r.status) : null, r.info));
  await printStatusDocuments(ctx.io.stdout, format, docs);
  return 0;
}
