import { TskubeError } from '../../../common/errors.js';
import type { CriClient } from '../../../cri-client/index.js';
import type { ImageStatusResponse__Output } from '../../../gen/cri/runtime/v1/ImageStatusResponse.js';
import { parseFlags } from '../../args.js';
import type { CrictlContext } from '../context.js';
import { parseInspectFormat } from '../list/inspect-format.js';
import { listImages } from '../list/list-images.js';
import { printStatusDocuments, statusDocument, withoutNulls } from '../list/proto-json.js';
import { imageStatusTable } from '../list/status-table.js';
import { matchId } from '../resolve-id.js';

/** ImageStatus by reference or ID; an ID prefix the runtime does not know is resolved against the list. */
async function imageStatus(client: CriClient, ref: string, verbose: boolean, signal: AbortSignal): Promise<ImageStatusResponse__Output> {
  const reply = await client.image.call('ImageStatus', { image: { image: ref }, verbose }, { signal });
  if (reply.image) return reply;
  const { images } = await client.image.call('ListImages', {}, { signal });
  let id: string;
  try {
    id = matchId(
      images.map((i) => i.id),
      ref,
      'image',
    );
  } catch (err) {
    if (TskubeError.from(err).code === 'not-found') throw new TskubeError('not-found', `no such image "${ref}" present`);
    throw err;
  }
  return client.image.call('ImageStatus', { image: { image: id }, verbose }, { signal });
}

/** `crictl inspecti [IMAGE...]`: the status of the named images, or of those --name / --filter select. */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    output: { type: 'string', short: 'o' },
    quiet: { type: 'boolean', short: 'q' },
    template: { type: 'string' },
    name: { type: 'string' },
    filter: { type: 'string', short: 'f', multiple: true },
  });
  const format = parseInspectFormat(values.output, values.template);
  const refs = positionals.length > 0 ? positionals : (await listImages(ctx, values.name, values.filter ?? [])).map((i) => i.id);
  if (refs.length === 0) throw new TskubeError('not-found', 'no image given and no image matched --name / --filter');

  const client = await ctx.client();
  const verbose = !values.quiet;
  const replies = await Promise.all(refs.map((ref) => imageStatus(client, ref, verbose, ctx.io.signal)));
  if (format === 'table') {
    ctx.io.stdout.write(replies.map((r) => imageStatusTable(r, verbose)).join(''));
    return 0;
  }
  await printStatusDocuments(
    ctx.io.stdout,
    format,
    replies.map((r) => statusDocument(withoutNulls(r.image), r.info)),
  );
  return 0;
}
