import { TskubeError } from '../../../common/errors.js';
import type { PodSandbox__Output } from '../../../gen/cri/runtime/v1/PodSandbox.js';
import type { PodSandboxFilter } from '../../../gen/cri/runtime/v1/PodSandboxFilter.js';
import type { PodSandboxState__Output } from '../../../gen/cri/runtime/v1/PodSandboxState.js';
import { matchesLabels, parseLabelSelector } from './label-selector.js';
import { compilePattern, matchesPattern } from './name-pattern.js';
import { newestFirst, parseLast, recentLimit } from './recent.js';

/** The pod filters of pods / inspectp, as their flags spell them. */
export interface PodQueryFlags {
  id?: string | undefined;
  name?: string | undefined;
  namespace?: string | undefined;
  state?: string | undefined;
  label?: string[] | undefined;
  latest?: boolean | undefined;
  last?: string | undefined;
}

/** Validated filters. One value feeds every output format, so they cannot disagree. */
export interface PodQuery {
  id?: string;
  name?: RegExp;
  namespace?: RegExp;
  state?: PodSandboxState__Output;
  labels: Record<string, string>;
  limit?: number;
}

export function parsePodState(text: string): PodSandboxState__Output {
  switch (text.toLowerCase()) {
    case 'ready':
      return 'SANDBOX_READY';
    case 'notready':
      return 'SANDBOX_NOTREADY';
    default:
      throw new TskubeError('invalid-argument', `--state: invalid value "${text}" (want ready or notready)`);
  }
}

export function buildPodQuery(flags: PodQueryFlags): PodQuery {
  const query: PodQuery = { labels: parseLabelSelector(flags.label) };
  if (flags.id) query.id = flags.id;
  const name = compilePattern(flags.name, '--name');
  if (name) query.name = name;
  const namespace = compilePattern(flags.namespace, '--namespace');
  if (namespace) query.namespace = namespace;
  if (flags.state) query.state = parsePodState(flags.state);
  const limit = recentLimit(flags.latest ?? false, parseLast(flags.last));
  if (limit !== undefined) query.limit = limit;
  return query;
}

/** The part of the query the runtime can apply itself. */
export function runtimePodFilter(query: PodQuery): PodSandboxFilter {
  const filter: PodSandboxFilter = { labelSelector: query.labels };
  if (query.state) filter.state = { state: query.state };
  return filter;
}

/** Applies every filter of the query, newest first, then --latest / --last. Pure. */
export function selectPods(pods: readonly PodSandbox__Output[], query: PodQuery): PodSandbox__Output[] {
  const kept = pods.filter(
    (p) =>
      (!query.id || p.id.startsWith(query.id)) &&
      (!query.state || p.state === query.state) &&
      matchesLabels(p.labels, query.labels) &&
      matchesPattern(query.name, p.metadata?.name ?? '') &&
      matchesPattern(query.namespace, p.metadata?.namespace ?? ''),
  );
  const sorted = newestFirst(kept, (p) => p.createdAt);
  return query.limit === undefined ? sorted : sorted.slice(0, query.limit);
}
