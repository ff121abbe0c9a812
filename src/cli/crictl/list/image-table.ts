import type { Image__Output } from '../../../gen/cri/runtime/v1/Image.js';
import { formatTable, shortId } from '../output.js';
import { humanSize } from './go-format.js';
import { splitRepoTag } from './image-filter.js';

export interface ImageView {
  digests: boolean;
  pinned: boolean;
  noTrunc: boolean;
}

export function imageColumns(view: Pick<ImageView, 'digests' | 'pinned'>): string[] {
  return ['IMAGE', 'TAG', ...(view.digests ? ['DIGEST'] : []), 'IMAGE ID', 'SIZE', ...(view.pinned ? ['PINNED'] : [])];
}

/** The repository and digest of the first repo digest, "<none>" when there is none. */
function firstRepoDigest(image: Image__Output): { repo: string; digest: string } {
  const first = image.repoDigests[0];
  if (first === undefined) return { repo: '<none>', digest: '<none>' };
  const parts = first.split('@');
  return parts.length === 2 ? { repo: parts[0] as string, digest: parts[1] as string } : { repo: 'errorName', digest: 'errorRepoDigest' };
}

/** (repository, tag) rows: one per tag; an untagged image shows its digest's repository and <none>. */
function repoTagPairs(image: Image__Output, fallbackRepo: string): [string, string][] {
  if (image.repoTags.length === 0) return [[fallbackRepo, '<none>']];
  return image.repoTags.map((t) => {
    const { repo, tag } = splitRepoTag(t);
    return [repo === '<none>' ? fallbackRepo : repo, tag ?? 'errorRepoTag'];
  });
}

/** `crictl images` as a table: one row per tag. */
export function imageTable(images: readonly Image__Output[], view: ImageView): string {
  const rows: string[][] = [];
  for (const image of images) {
    const { repo, digest } = firstRepoDigest(image);
    const id = shortId(image.id, view.noTrunc);
    const shownDigest = view.noTrunc ? digest : shortId(digest);
    const size = humanSize(image.size, 3);
    for (const [name, tag] of repoTagPairs(image, repo)) {
      rows.push([name, tag, ...(view.digests ? [shownDigest] : []), id, size, ...(view.pinned ? [String(image.pinned)] : [])]);
    }
  }
  return formatTable(imageColumns(view), rows);
}

/** `crictl images -v`: one block per image. */
export function imageVerbose(images: readonly Image__Output[]): string {
  return images
    .map((i) => {
      let s = `ID: ${i.id}\n`;
      for (const t of i.repoTags) s += `RepoTags: ${t}\n`;
      for (const d of i.repoDigests) s += `RepoDigests: ${d}\n`;
      if (i.size !== '0') s += `Size: ${i.size}\n`;
      if (i.uid) s += `Uid: ${i.uid.value}\n`;
      if (i.username) s += `Username: ${i.username}\n`;
      if (i.pinned) s += `Pinned: true\n`;
      return `${s}\n`;
    })
    .join('');
}
