import { TskubeError } from '../../../common/errors.js';
import { parseFlags } from '../../args.js';
import type { CriClient } from '../../../cri-client/index.js';
import type { CrictlContext } from '../context.js';
import { eachId } from '../lifecycle/each-id.js';
import { deletedNames, planImageRemoval } from '../lifecycle/image-removal.js';
import { matchId } from '../resolve-id.js';

/**
 * `crictl rmi [-a] [--prune|-q] IMAGE...`: removes images by reference, ID or ID
 * prefix, printing `Deleted: <tag>` per name removed.
 */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    all: { type: 'boolean', short: 'a' },
    prune: { type: 'boolean', short: 'q' },
  });
  const all = values.all ?? false;
  const prune = values.prune ?? false;
  if (positionals.length === 0 && !all && !prune) {
    throw new TskubeError('invalid-argument', 'want at least one IMAGE, or --all or --prune (usage: tskube crictl rmi [-a] [--prune] IMAGE-ID...)');
  }
  const client = await ctx.client();
  const signal = ctx.io.signal;
  const { images } = await client.image.call('ListImages', {}, { signal });

  const requested: string[] = [];
  const failures: TskubeError[] = [];
  await eachId(positionals, async (name) => {
    requested.push(
      await resolveImage(
        client,
        signal,
        images.map((i) => i.id),
        name,
      ),
    );
  }).catch((err: unknown) => failures.push(TskubeError.from(err)));

  const inUse = prune ? await imagesInUse(ctx, client) : new Set<string>();
  const plan = planImageRemoval({ images, requested, all, prune, inUse });
  if (plan.length === 0 && failures.length === 0) {
    ctx.io.stderr.write('No images to remove\n');
    return 0;
  }
  await eachId(
    plan.map((i) => i.id),
    async (id) => {
      const image = plan.find((i) => i.id === id);
      try {
        await client.image.call('RemoveImage', { image: { image: id } }, { signal });
      } catch (err) {
        // Another client may have removed or started using it since we listed; prune does not mind.
        if (prune && !requested.includes(id)) return;
        throw err;
      }
      for (const name of image ? deletedNames(image) : [id]) ctx.io.stdout.write(`Deleted: ${name}\n`);
    },
  ).catch((err: unknown) => failures.push(TskubeError.from(err)));

  const [first] = failures;
  if (first) throw failures.length === 1 ? first : new TskubeError(first.code, failures.map((f) => f.detail).join('; '));
  return 0;
}

/** An image the user named: a reference the runtime knows, else an ID or ID prefix. */
async function resolveImage(client: CriClient, signal: AbortSignal, ids: string[], name: string): Promise<string> {
  const { image } = await client.image.call('ImageStatus', { image: { image: name } }, { signal });
  if (image) return image.id;
  try {
    return matchId(ids, name, 'image');
  } catch (err) {
    if (TskubeError.from(err).code === 'not-found') throw new TskubeError('not-found', `no such image "${name}"`);
    throw err;
  }
}

/** IDs of the images any container uses, whatever its state. */
async function imagesInUse(ctx: CrictlContext, client: CriClient): Promise<Set<string>> {
  const signal = ctx.io.signal;
  const { containers } = await client.runtime.call('ListContainers', {}, { signal });
  const used = new Set<string>();
  for (const c of containers) {
    if (c.imageRef) used.add(c.imageRef);
    const ref = c.image?.image;
    if (!ref) continue;
    const { image } = await client.image.call('ImageStatus', { image: { image: ref } }, { signal }).catch(() => ({ image: null }));
    if (image) used.add(image.id);
  }
  return used;
}
