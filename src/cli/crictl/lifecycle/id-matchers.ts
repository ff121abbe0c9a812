import type { CrictlContext } from '../context.js';
import { matchId } from '../resolve-id.js';

/** A function from a user's ID or ID prefix to a full container ID, listing the runtime's containers once. */
export async function containerIdMatcher(ctx: CrictlContext): Promise<(query: string) => string> {
  const client = await ctx.client();
  const { containers } = await client.runtime.call('ListContainers', {}, { signal: ctx.io.signal });
  const ids = containers.map((c) => c.id);
  return (query) => matchId(ids, query, 'container');
}

/** The same for pod sandboxes. */
export async function podIdMatcher(ctx: CrictlContext): Promise<(query: string) => string> {
  const client = await ctx.client();
  const { items } = await client.runtime.call('ListPodSandbox', {}, { signal: ctx.io.signal });
  const ids = items.map((p) => p.id);
  return (query) => matchId(ids, query, 'pod sandbox');
}
