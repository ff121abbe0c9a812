import { TskubeError } from '../../../common/errors.js';
import { parseFlags } from '../../args.js';
import type { CrictlContext } from '../context.js';
import { buildContainerQuery } from '../list/container-filter.js';
import { containerTable, containerVerbose } from '../list/container-table.js';
import { containerQueryOptions, listContainers } from '../list/list-containers.js';
import { printListReply } from '../list/proto-json.js';
import { parseOutputFormat } from '../output.js';

/** `crictl ps`: every filter applies to every output format alike. */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    ...containerQueryOptions,
    verbose: { type: 'boolean', short: 'v' },
    quiet: { type: 'boolean', short: 'q' },
    output: { type: 'string', short: 'o' },
    'no-trunc': { type: 'boolean' },
    'resolve-image-path': { type: 'boolean', short: 'r' },
  });
  if (positionals.length > 0)
    throw new TskubeError('invalid-argument', `ps takes no arguments, got "${positionals.join(' ')}" (filter with --id, --name, --pod...)`);
  const format = parseOutputFormat(values.output);
  const query = buildContainerQuery(values);
  const table = format === 'table' && !values.quiet;
  const { containers, facts } = await listContainers(ctx, query, { podNames: table });

  if (format !== 'table') {
    await printListReply(ctx.io.stdout, format, { containers });
    return 0;
  }
  if (values.quiet) {
    ctx.io.stdout.write(containers.map((c) => `${c.id}\n`).join(''));
    return 0;
  }
  const view = { now: new Date(), noTrunc: values['no-trunc'] ?? false, ...(facts.pods ? { pods: facts.pods } : {}) };
  if (values.verbose) {
    ctx.io.stdout.write(containerVerbose(containers, view));
    return 0;
  }
  let imageNames: Map<string, string> | undefined;
  if (values['resolve-image-path']) {
    const client = await ctx.client();
    const refs = [...new Set(containers.map((c) => c.image?.image ?? '').filter((r) => r !== ''))];
    const tags = await Promise.all(
      refs.map(async (ref) => {
        const { image } = await client.image.call('ImageStatus', { image: { image: ref } }, { signal: ctx.io.signal });
        return [ref, image?.repoTags[0] ?? ref] as const;
      }),
    );
    imageNames = new Map(tags);
  }
  ctx.io.stdout.write(containerTable(containers, { ...view, ...(imageNames ? { imageNames } : {}) }));
  return 0;
}
