import { TskubeError } from '../../common/errors.js';
import type { CrictlContext } from './context.js';

export type IdKind = 'container' | 'pod sandbox' | 'image';

/**
 * Finds the one ID a user means by a full ID or a unique prefix of one, as crictl
 * does. An ambiguous prefix is an error that lists what it matched.
 */
export function matchId(ids: readonly string[], query: string, kind: IdKind): string {
  const q = query.startsWith('sha256:') && kind !== 'image' ? query.slice('sha256:'.length) : query;
  if (q === '') throw new TskubeError('invalid-argument', `${kind} ID is empty`);
  if (ids.includes(q)) return q;
  const hits = ids.filter((id) => id.startsWith(q) || (kind === 'image' && id.startsWith(`sha256:${q}`)));
  if (hits.length === 1) return hits[0] as string;
  if (hits.length === 0) throw new TskubeError('not-found', `no ${kind} with ID or ID prefix "${query}"`);
  throw new TskubeError('invalid-argument', `${kind} ID prefix "${query}" is ambiguous: it matches ${hits.map((h) => h.slice(0, 13)).join(', ')}`);
}

/** Resolves container ID prefixes against the runtime's list (all states). */
export async function resolveContainerIds(ctx: CrictlContext, queries: readonly string[]): Promise<string[]> {
  const client = await ctx.client();
  const { containers } = await client.runtime.call('ListContainers', {}, { signal: ctx.io.signal });
  const ids = containers.map((c) => c.id);
  return queries.map((q) => matchId(ids, q, 'container'));
}

/** Resolves pod sandbox ID prefixes against the runtime's list (all states). */
export async function resolvePodIds(ctx: CrictlContext, queries: readonly string[]): Promise<string[]> {
  const client = await ctx.client();
  const { items } = await client.runtime.call('ListPodSandbox', {}, { signal: ctx.io.signal });
  const ids = items.map((p) => p.id);
  return queries.map((q) => matchId(ids, q, 'pod sandbox'));
}
