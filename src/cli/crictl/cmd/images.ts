import { TskubeError } from '../../../common/errors.js';
import { parseFlags } from '../../args.js';
import type { CrictlContext } from '../context.js';
import { imageTable, imageVerbose } from '../list/image-table.js';
import { listImages } from '../list/list-images.js';
import { printListReply } from '../list/proto-json.js';
import { parseOutputFormat } from '../output.js';

/** `crictl images [REPOSITORY[:TAG]]`. */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    verbose: { type: 'boolean', short: 'v' },
    quiet: { type: 'boolean', short: 'q' },
    filter: { type: 'string', short: 'f', multiple: true },
    output: { type: 'string', short: 'o' },
    digests: { type: 'boolean' },
    'no-trunc': { type: 'boolean' },
    pinned: { type: 'boolean' },
  });
  if (positionals.length > 1)
    throw new TskubeError('invalid-argument', `images takes at most one REPOSITORY[:TAG], got ${positionals.length}: ${positionals.join(' ')}`);
  const format = parseOutputFormat(values.output);
  const images = await listImages(ctx, positionals[0], values.filter ?? []);
  if (format !== 'table') await printListReply(ctx.io.stdout, format, { images });
  else if (values.quiet) ctx.io.stdout.write(images.map((i) => `${i.id}\n`).join(''));
  else if (values.verbose) ctx.io.stdout.write(imageVerbose(images));
  else ctx.io.stdout.write(imageTable(images, { digests: values.digests ?? false, pinned: values.pinned ?? false, noTrunc: values['no-trunc'] ?? false }));
  return 0;
}
