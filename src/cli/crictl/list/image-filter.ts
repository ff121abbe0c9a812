import { errorMessage, TskubeError } from '../../../common/errors.js';
import type { Image__Output } from '../../../gen/cri/runtime/v1/Image.js';

/** crictl's order: by first tag, else first digest, else ID. */
export function sortImages(images: readonly Image__Output[]): Image__Output[] {
  return [...images].sort((a, b) => {
    const [ta, tb] = [a.repoTags[0], b.repoTags[0]];
    if (ta !== undefined && tb !== undefined) return compare(ta, tb);
    const [da, db] = [a.repoDigests[0], b.repoDigests[0]];
    if (da !== undefined && db !== undefined) return compare(da, db);
    return compare(a.id, b.id);
  });
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Splits "host:5000/repo:tag" into repository and tag (the tag colon comes after the last slash). */
export function splitRepoTag(repoTag: string): { repo: string; tag?: string } {
  const colon = repoTag.lastIndexOf(':');
  if (colon === -1 || colon < repoTag.lastIndexOf('/')) return { repo: repoTag };
  return { repo: repoTag.slice(0, colon), tag: repoTag.slice(colon + 1) };
}

/** The spellings a short reference may have in the runtime: busybox, docker.io/library/busybox. */
function referenceVariants(ref: string): string[] {
  const first = ref.split('/')[0] ?? '';
  const hasDomain = ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasDomain) return [ref];
  return ref.includes('/') ? [ref, `docker.io/${ref}`] : [ref, `docker.io/library/${ref}`];
}

/** Whether an image is named by REPOSITORY[:TAG] or REPOSITORY@DIGEST (the `crictl images NAME` argument). */
export function matchesReference(image: Image__Output, ref: string): boolean {
  const tagged = ref.includes('@') || splitRepoTag(ref).tag !== undefined;
  return referenceVariants(ref).some(
    (want) =>
      image.repoTags.some((t) => t === want || (!tagged && splitRepoTag(t).repo === want)) ||
      image.repoDigests.some((d) => d === want || (!tagged && d.split('@')[0] === want)),
  );
}

function repositories(image: Image__Output): string[] {
  return [...image.repoTags.map((t) => splitRepoTag(t).repo), ...image.repoDigests.map((d) => d.split('@')[0] ?? d)];
}

function isNamedBy(image: Image__Output, value: string): boolean {
  if (value.includes(':') || value.includes('@')) return image.repoTags.includes(value) || image.repoDigests.some((d) => d.startsWith(value));
  return image.id.startsWith(value) || image.id.startsWith(`sha256:${value}`);
}

/**
 * Applies `--filter` conditions in order, as crictl: dangling=true|false,
 * reference=REGEX, and before= / since= (relative to the named image in listing order).
 */
export function applyImageFilters(images: readonly Image__Output[], filters: readonly string[]): Image__Output[] {
  let out = [...images];
  for (const filter of filters) {
    const eq = filter.indexOf('=');
    const [key, value] = eq === -1 ? [filter, ''] : [filter.slice(0, eq), filter.slice(eq + 1)];
    switch (key) {
      case 'dangling':
        if (value !== 'true' && value !== 'false') throw new TskubeError('invalid-argument', `--filter: dangling wants true or false, got "${value}"`);
        out = out.filter((i) => (i.repoTags.length === 0) === (value === 'true'));
        break;
      case 'reference': {
        let re: RegExp;
        try {
          re = new RegExp(value);
        } catch (err) {
          throw new TskubeError('invalid-argument', `--filter: invalid reference pattern "${value}": ${errorMessage(err)}`);
        }
        out = out.filter((i) => repositories(i).some((r) => re.test(r)));
        break;
      }
      case 'before':
      case 'since': {
        const at = out.findIndex((i) => isNamedBy(i, value));
        if (at !== -1) out = key === 'since' ? out.slice(0, at) : out.slice(at + 1);
        break;
      }
      default:
        throw new TskubeError('invalid-argument', `--filter: unknown filter "${filter}" (want dangling=, reference=, before= or since=)`);
    }
  }
  return out;
}
