import type { Image__Output } from '../../../gen/cri/runtime/v1/Image.js';

export interface ImageRemovalInput {
  /** Every image the runtime has. */
  images: readonly Image__Output[];
  /** IDs of the images the user named. */
  requested: readonly string[];
  /** -a: every image. */
  all: boolean;
  /** --prune: every image no container uses, except pinned ones. */
  prune: boolean;
  /** IDs of the images containers (in any state) use. */
  inUse: ReadonlySet<string>;
}

/**
 * Which images `rmi` removes, in the runtime's list order. On --prune an image a
 * container uses is kept even when named, as crictl does: prune never breaks a container.
 */
export function planImageRemoval(input: ImageRemovalInput): Image__Output[] {
  const wanted = new Set(input.requested);
  if (input.all || input.prune) {
    for (const image of input.images) {
      if (input.prune && image.pinned) continue;
      wanted.add(image.id);
    }
  }
  if (input.prune) for (const id of input.inUse) wanted.delete(id);
  return input.images.filter((image) => wanted.has(image.id));
}

/** The names crictl prints for a removed image: its tags, or its digests when it has none. */
export function deletedNames(image: Image__Output): string[] {
  return image.repoTags.length > 0 ? image.repoTags : image.repoDigests;
}
