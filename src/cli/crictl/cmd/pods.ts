import { TskubeError } from '../../../common/errors.js';
import { parseFlags } from '../../args.js';
import type { CrictlContext } from '../context.js';
import { listPods, podQueryOptions } from '../list/list-pods.js';
import { buildPodQuery } from '../list/pod-filter.js';
import { podTable, podVerbose } from '../list/pod-table.js';
import { printListReply } from '../list/proto-json.js';
import { parseOutputFormat } from '../output.js';

/** `crictl pods`: every filter applies to every output format alike. */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    ...podQueryOptions,
    verbose: { type: 'boolean', short: 'v' },
    quiet: { type: 'boolean', short: 'q' },
    output: { type: 'string', short: 'o' },
    'no-trunc': { type: 'boolean' },
  });
  if (positionals.length > 0)
    throw new TskubeError('invalid-argument', `pods takes no arguments, got "${positionals.join(' ')}" (filter with --id, --name, --label...)`);
  const format = parseOutputFormat(values.output);
  const pods = await listPods(ctx, buildPodQuery(values));
  if (format !== 'table') await printListReply(ctx.io.stdout, format, { items: pods });
  else if (values.quiet) ctx.io.stdout.write(pods.map((p) => `${p.id}\n`).join(''));
  else if (values.verbose) ctx.io.stdout.write(podVerbose(pods));
  else ctx.io.stdout.write(podTable(pods, { now: new Date(), noTrunc: values['no-trunc'] ?? false }));
  return 0;
}
