import { TskubeError } from '../../../common/errors.js';
import type { Container__Output } from '../../../gen/cri/runtime/v1/Container.js';
import type { ContainerFilter } from '../../../gen/cri/runtime/v1/ContainerFilter.js';
import type { ContainerState__Output } from '../../../gen/cri/runtime/v1/ContainerState.js';
import { matchesLabels, parseLabelSelector } from './label-selector.js';
import { compilePattern, matchesPattern } from './name-pattern.js';
import { newestFirst, parseLast, recentLimit } from './recent.js';

const stateByFlag: Record<string, ContainerState__Output> = {
  created: 'CONTAINER_CREATED',
  running: 'CONTAINER_RUNNING',
  exited: 'CONTAINER_EXITED',
  unknown: 'CONTAINER_UNKNOWN',
};

/** The container filters of ps / inspect / stats, as their flags spell them. */
export interface ContainerQueryFlags {
  id?: string | undefined;
  pod?: string | undefined;
  name?: string | undefined;
  namespace?: string | undefined;
  state?: string | undefined;
  all?: boolean | undefined;
  label?: string[] | undefined;
  image?: string | undefined;
  latest?: boolean | undefined;
  last?: string | undefined;
}

/** Validated filters. One value feeds every output format, so they cannot disagree. */
export interface ContainerQuery {
  id?: string;
  podId?: string;
  name?: RegExp;
  namespace?: RegExp;
  /** Only this state; undefined lists every state. */
  state?: ContainerState__Output;
  labels: Record<string, string>;
  /** The --image value as given; the command resolves it to an image ID. */
  image?: string;
  /** Keep only the newest N (--latest, --last). */
  limit?: number;
}

export function parseContainerState(text: string): ContainerState__Output {
  const state = stateByFlag[text.toLowerCase()];
  if (!state) throw new TskubeError('invalid-argument', `--state: invalid value "${text}" (want one of created, running, exited, unknown)`);
  return state;
}

export function buildContainerQuery(flags: ContainerQueryFlags): ContainerQuery {
  const limit = recentLimit(flags.latest ?? false, parseLast(flags.last));
  const query: ContainerQuery = { labels: parseLabelSelector(flags.label) };
  if (flags.id) query.id = flags.id;
  if (flags.pod) query.podId = flags.pod;
  const name = compilePattern(flags.name, '--name');
  if (name) query.name = name;
  const namespace = compilePattern(flags.namespace, '--namespace');
  if (namespace) query.namespace = namespace;
  if (flags.image) query.image = flags.image;
  if (limit !== undefined) query.limit = limit;
  // As crictl: running only by default; --latest/--last look at every state.
  const explicit = flags.state ? parseContainerState(flags.state) : undefined;
  if (limit === undefined) {
    if (explicit) query.state = explicit;
    else if (!flags.all) query.state = 'CONTAINER_RUNNING';
  }
  return query;
}

/** The part of the query the runtime can apply itself, to keep replies small. */
export function runtimeContainerFilter(query: ContainerQuery): ContainerFilter {
  const filter: ContainerFilter = { labelSelector: query.labels };
  if (query.state) filter.state = { state: query.state };
  return filter;
}

export interface PodNames {
  name: string;
  namespace: string;
}

/** What the listing needs besides the containers themselves, looked up by the command. */
export interface ContainerFacts {
  /** Pod name and namespace by sandbox ID, for containers whose labels do not carry them. */
  pods?: ReadonlyMap<string, PodNames>;
  /** The image ID --image resolved to; null when no such image exists. */
  imageId?: string | null;
  /** Image IDs of container image references the runtime did not resolve itself. */
  imageIdOf?: ReadonlyMap<string, string>;
}

const podNameLabel = 'io.kubernetes.pod.name';
const podNamespaceLabel = 'io.kubernetes.pod.namespace';

/** The pod a container belongs to: the kubelet's labels, else the sandbox's metadata, else "unknown". */
export function containerPod(c: Container__Output, pods?: ReadonlyMap<string, PodNames>): PodNames {
  const pod = pods?.get(c.podSandboxId);
  return {
    name: c.labels[podNameLabel] ?? pod?.name ?? 'unknown',
    namespace: c.labels[podNamespaceLabel] ?? pod?.namespace ?? 'unknown',
  };
}

/**
 * The image IDs a container runs: what the runtime reports, else what its image
 * reference resolves to now (a tag may have moved since, so the runtime's word wins).
 */
export function containerImageIds(c: Container__Output, imageIdOf?: ReadonlyMap<string, string>): string[] {
  const reported = [c.imageId, c.imageRef].filter((id) => id !== '');
  if (reported.length > 0) return reported;
  const resolved = imageIdOf?.get(c.image?.image ?? '');
  return resolved ? [resolved] : [];
}

/** Applies every filter of the query, newest first, then --latest / --last. Pure. */
export function selectContainers(containers: readonly Container__Output[], query: ContainerQuery, facts: ContainerFacts = {}): Container__Output[] {
  const kept = containers.filter((c) => {
    if (query.id && !c.id.startsWith(query.id)) return false;
    if (query.podId && !c.podSandboxId.startsWith(query.podId)) return false;
    if (query.state && c.state !== query.state) return false;
    if (!matchesLabels(c.labels, query.labels)) return false;
    if (!matchesPattern(query.name, c.metadata?.name ?? '')) return false;
    if (!matchesPattern(query.namespace, containerPod(c, facts.pods).namespace)) return false;
    if (query.image !== undefined) {
      if (!facts.imageId) return false;
      if (!containerImageIds(c, facts.imageIdOf).includes(facts.imageId) && c.image?.image !== query.image) return false;
    }
    return true;
  });
  const sorted = newestFirst(kept, (c) => c.createdAt);
  return query.limit === undefined ? sorted : sorted.slice(0, query.limit);
}
