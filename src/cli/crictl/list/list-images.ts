import type { Image__Output } from '../../../gen/cri/runtime/v1/Image.js';
import type { CrictlContext } from '../context.js';
import { applyImageFilters, matchesReference, sortImages } from './image-filter.js';

/**
 * Lists images named by REPOSITORY[:TAG] (all when undefined) and --filter conditions.
 * The name is matched here too: not every runtime honours ListImages' filter.
 */
export async function listImages(ctx: CrictlContext, name: string | undefined, filters: readonly string[]): Promise<Image__Output[]> {
  const client = await ctx.client();
  const { images } = await client.image.call('ListImages', name ? { filter: { image: { image: name } } } : {}, { signal: ctx.io.signal });
  const named = name ? images.filter((i) => matchesReference(i, name)) : images;
  return applyImageFilters(sortImages(named), filters);
}
