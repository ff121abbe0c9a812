import type { CriClient } from '../../../cri-client/index.js';
import type { Container__Output } from '../../../gen/cri/runtime/v1/Container.js';
import type { CrictlContext } from '../context.js';
import { containerImageIds, runtimeContainerFilter, selectContainers, type ContainerFacts, type ContainerQuery, type PodNames } from './container-filter.js';

/** The container filter flags ps, inspect and friends share (parseFlags options). */
export const containerQueryOptions = {
  id: { type: 'string' },
  pod: { type: 'string', short: 'p' },
  name: { type: 'string' },
  namespace: { type: 'string' },
  state: { type: 'string', short: 's' },
  label: { type: 'string', multiple: true },
  image: { type: 'string' },
  all: { type: 'boolean', short: 'a' },
  latest: { type: 'boolean', short: 'l' },
  last: { type: 'string', short: 'n' },
} as const;

/** The image ID a reference or ID names, or null when the runtime has no such image. */
async function imageIdOf(client: CriClient, ref: string, signal: AbortSignal): Promise<string | null> {
  const { image } = await client.image.call('ImageStatus', { image: { image: ref } }, { signal });
  return image?.id || null;
}

/**
 * Lists containers and applies the whole query, fetching only what the query needs
 * (pod names for --namespace and the table, image IDs for --image).
 */
export async function listContainers(
  ctx: CrictlContext,
  query: ContainerQuery,
  options: { podNames: boolean },
): Promise<{ containers: Container__Output[]; facts: ContainerFacts }> {
  const client = await ctx.client();
  const signal = ctx.io.signal;
  const needPods = options.podNames || query.namespace !== undefined;
  const [list, pods, wantedImage] = await Promise.all([
    client.runtime.call('ListContainers', { filter: runtimeContainerFilter(query) }, { signal }),
    needPods ? client.runtime.call('ListPodSandbox', {}, { signal }) : undefined,
    query.image !== undefined ? imageIdOf(client, query.image, signal) : undefined,
  ]);
  const facts: ContainerFacts = {};
  if (pods)
    facts.pods = new Map<string, PodNames>(
      pods.items.map((p) => [p.id, { name: p.metadata?.name ?? 'unknown', namespace: p.metadata?.namespace ?? 'unknown' }]),
    );
  if (wantedImage !== undefined) {
    facts.imageId = wantedImage;
    // Only references the runtime did not resolve to an ID need a lookup.
    const unresolved = new Set(list.containers.filter((c) => containerImageIds(c).length === 0 && c.image?.image).map((c) => c.image?.image as string));
    const resolved = await Promise.all([...unresolved].map(async (ref) => [ref, await imageIdOf(client, ref, signal)] as const));
    facts.imageIdOf = new Map(resolved.filter((r): r is readonly [string, string] => r[1] !== null));
  }
  return { containers: selectContainers(list.containers, query, facts), facts };
}
