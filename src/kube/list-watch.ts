// The reflector's only seam to the apiserver, as client-go's ListerWatcher: list at a
// resourceVersion, watch from one. The REST implementation pages through large lists
// and turns watch lines into typed events; tests can wrap it to cut a watch or to ask
// for a resourceVersion the server no longer has.
import type { ApiStatus } from './api-error.js';
import { isResourceExpired } from './api-error.js';
import type { KubeObject } from './object-meta.js';
import type { Query, RestClient } from './rest-client.js';

export interface ListOptions {
  /** "" = a consistent read from etcd; "0" = any (the watch cache); else not older than. */
  resourceVersion: string;
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

export interface WatchOptions {
  resourceVersion: string;
  timeoutSeconds: number;
  allowWatchBookmarks: boolean;
}

export type WatchEvent<T> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T }
  | { type: 'BOOKMARK'; resourceVersion: string }
  | { type: 'ERROR'; status: ApiStatus };

export interface ListerWatcher<T> {
  list(opts: ListOptions, signal: AbortSignal): Promise<ListResult<T>>;
  /** Ends when the server closes the watch; throws on a failed request. */
  watch(opts: WatchOptions, signal: AbortSignal): AsyncIterable<WatchEvent<T>>;
}

export interface Selectors {
  fieldSelector?: string;
  labelSelector?: string;
}

const PAGE_SIZE = 500;

interface RawList {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: unknown[];
}

interface RawEvent {
  type?: string;
  object?: unknown;
}

/**
 * List+watch of one collection path, e.g. "/api/v1/pods" or
 * "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases".
 */
export function restListerWatcher<T extends KubeObject>(
  rest: RestClient,
  path: string,
  selectors: Selectors = {},
  decode: (raw: unknown) => T = (raw) => raw as T,
): ListerWatcher<T> {
  const base: Query = { fieldSelector: selectors.fieldSelector, labelSelector: selectors.labelSelector };
  return {
    async list(opts, signal) {
      try {
        return await listPages(rest, path, base, opts.resourceVersion, PAGE_SIZE, decode, signal);
      } catch (err) {
        // A continue token that expired mid-list: upstream's pager falls back to one
        // unpaged list rather than failing the whole relist.
        if (!isResourceExpired(err) || opts.resourceVersion !== '') throw err;
        return await listPages(rest, path, base, '', 0, decode, signal);
      }
    },
    async *watch(opts, signal) {
      const query: Query = {
        ...base,
        resourceVersion: opts.resourceVersion,
        timeoutSeconds: opts.timeoutSeconds,
        allowWatchBookmarks: opts.allowWatchBookmarks,
      };
      for await (const raw of rest.stream(path, query, signal)) {
        const ev = raw as RawEvent;
        switch (ev.type) {
          case 'ADDED':
          case 'MODIFIED':
          case 'DELETED':
            yield { type: ev.type, object: decode(ev.object) };
            break;
          case 'BOOKMARK':
            yield { type: 'BOOKMARK', resourceVersion: (ev.object as KubeObject | undefined)?.metadata?.resourceVersion ?? '' };
            break;
          case 'ERROR':
            yield { type: 'ERROR', status: (ev.object ?? {}) as ApiStatus };
            break;
          default:
          // An event type this client does not know: skip it rather than guess.
        }
      }
    },
  };
}

async function listPages<T>(
  rest: RestClient,
  path: string,
  base: Query,
  resourceVersion: string,
  limit: number,
  decode: (raw: unknown) => T,
  signal: AbortSignal,
): Promise<ListResult<T>> {
  const items: T[] = [];
  let cont: string | undefined;
  let rv = '';
  do {
    const query: Query = { ...base };
    if (limit > 0) query['limit'] = limit;
    if (cont) query['continue'] = cont;
    else if (resourceVersion !== '') {
      query['resourceVersion'] = resourceVersion;
      if (resourceVersion !== '0') query['resourceVersionMatch'] = 'NotOlderThan';
    }
    const page = await rest.request<RawList>('GET', path, { query, signal, timeoutMs: 60_000 });
    for (const raw of page.items ?? []) items.push(decode(raw));
    rv = page.metadata?.resourceVersion ?? rv;
    cont = page.metadata?.continue || undefined;
  } while (cont);
  return { items, resourceVersion: rv };
}
