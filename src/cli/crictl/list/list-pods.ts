import type { PodSandbox__Output } from '../../../gen/cri/runtime/v1/PodSandbox.js';
import type { CrictlContext } from '../context.js';
import { runtimePodFilter, selectPods, type PodQuery } from './pod-filter.js';

/** The pod filter flags pods and inspectp share (parseFlags options). */
export const podQueryOptions = {
  id: { type: 'string' },
  name: { type: 'string' },
  namespace: { type: 'string' },
  state: { type: 'string', short: 's' },
  label: { type: 'string', multiple: true },
  latest: { type: 'boolean', short: 'l' },
  last: { type: 'string', short: 'n' },
} as const;

/** Lists pod sandboxes and applies the whole query. */
export async function listPods(ctx: CrictlContext, query: PodQuery): Promise<PodSandbox__Output[]> {
  const client = await ctx.client();
  const { items } = await client.runtime.call('ListPodSandbox', { filter: runtimePodFilter(query) }, { signal: ctx.io.signal });
  return selectPods(items, query);
}
