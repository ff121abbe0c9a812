// List + watch of one resource into a Store, resuming watches from the last
// resourceVersion and relisting on 410 Gone; see reflector-plan.ts for the decisions.
// The handler runs inline, in event order; it must not block (hand work to a queue).
import { TskubeError } from '../common/errors.js';
import { isResourceExpired, KubeApiError } from './api-error.js';
import type { BackoffPolicy } from '../common/backoff.js';
import { type Logger, defaultLogger } from '../common/logger.js';
import type { ListerWatcher, ListResult, Selectors } from './list-watch.js';
import { restListerWatcher } from './list-watch.js';
import type { KubeObject } from './object-meta.js';
import {
  initialReflectorState,
  listResourceVersion,
  nextStep,
  type Outcome,
  type ReflectorState,
  reflectorBackoff,
  watchTimeoutSeconds,
} from './reflector-plan.js';
import type { RestClient } from './rest-client.js';
import { sleep } from '../common/sleep.js';
import { Store, type StoreChange } from './store.js';

export interface ReflectorHandler<T> {
  onAdd?(object: T): void;
  onUpdate?(old: T, object: T): void;
  onDelete?(object: T): void;
  /** After every completed list (the first one resolves `ready`). */
  onSynced?(): void;
}

export interface ReflectorOptions<T extends KubeObject> {
  /** For log lines: what is watched, e.g. "pods spec.nodeName=node-1". */
  name: string;
  listerWatcher: ListerWatcher<T>;
  handler?: ReflectorHandler<T>;
  store?: Store<T>;
  logger?: Logger;
  /** Server-side watch timeout lower bound (spread to [min, 2·min)); upstream 300. */
  minWatchTimeoutSeconds?: number;
  random?: () => number;
  /** Back-off between failed attempts; upstream's 800 ms doubling to 30 s by default. */
  backoff?: BackoffPolicy;
}

export class Reflector<T extends KubeObject> {
  readonly name: string;
  readonly store: Store<T>;
  /** Resolves after the first complete list; rejects only if run() ends before it. */
  readonly ready: Promise<void>;
  readonly #lw: ListerWatcher<T>;
  readonly #handler: ReflectorHandler<T>;
  readonly #log: Logger;
  readonly #minWatchTimeoutSeconds: number;
  readonly #random: () => number;
  readonly #backoff: BackoffPolicy;
  #state: ReflectorState = initialReflectorState;
  #resolveReady!: () => void;
  #rejectReady!: (err: unknown) => void;
  #lists = 0;

  constructor(options: ReflectorOptions<T>) {
    this.name = options.name;
    this.#lw = options.listerWatcher;
    this.store = options.store ?? new Store<T>();
    this.#handler = options.handler ?? {};
    this.#log = (options.logger ?? defaultLogger('reflector')).child({ reflector: options.name });
    this.#minWatchTimeoutSeconds = options.minWatchTimeoutSeconds ?? 300;
    if (!(this.#minWatchTimeoutSeconds > 0)) throw new TskubeError('invalid-argument', `reflector ${options.name}: minWatchTimeoutSeconds must be > 0`);
    this.#random = options.random ?? Math.random;
    this.#backoff = options.backoff ?? reflectorBackoff;
    this.ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // Nobody may await ready; an unobserved rejection must not crash the process.
    this.ready.catch(() => {});
  }

  /** The resourceVersion the next watch resumes from. */
  get resourceVersion(): string {
    return this.#state.resourceVersion;
  }

  /** How many lists have completed (the first sync included): a relist shows here. */
  get listCount(): number {
    return this.#lists;
  }

  async run(signal: AbortSignal): Promise<void> {
    let failing = false;
    try {
      while (!signal.aborted) {
        const outcome = this.#state.needList ? await this.#list(signal) : await this.#watch(signal);
        if (signal.aborted) break;
        const step = nextStep(this.#state, outcome, this.#random(), this.#backoff);
        this.#state = step.state;
        if (step.transition === 'failing' && outcome.kind === 'failed') {
          failing = true;
          this.#log.warn({ err: describe(outcome.error), during: outcome.during, retryInMs: step.delayMs }, 'list/watch failing; backing off');
        } else if (step.transition === 'recovered' && failing) {
          failing = false;
          this.#log.info({ resourceVersion: this.#state.resourceVersion }, 'list/watch recovered');
        }
        if (outcome.kind === 'expired' || (outcome.kind === 'failed' && isResourceExpired(outcome.error))) {
          this.#log.info({ resourceVersion: this.#state.resourceVersion }, 'watch position expired (410); relisting');
        }
        if (step.delayMs > 0) await sleep(step.delayMs, signal);
      }
    } finally {
      this.#rejectReady(new TskubeError('canceled', `reflector ${this.name} stopped before its first list`));
    }
  }

  async #list(signal: AbortSignal): Promise<Outcome> {
    let result: ListResult<T>;
    try {
      result = await this.#lw.list({ resourceVersion: listResourceVersion(this.#state) }, signal);
    } catch (error) {
      return { kind: 'failed', during: 'list', error };
    }
    const changes = this.store.replace(result.items);
    for (const change of changes) this.#deliver(change);
    this.#lists++;
    this.#log.info({ objects: result.items.length, changes: changes.length, resourceVersion: result.resourceVersion }, 'listed');
    this.#call(() => this.#handler.onSynced?.());
    this.#resolveReady();
    return { kind: 'listed', resourceVersion: result.resourceVersion };
  }

  async #watch(signal: AbortSignal): Promise<Outcome> {
    const started = Date.now();
    let events = 0;
    const options = {
      resourceVersion: this.#state.resourceVersion,
      timeoutSeconds: watchTimeoutSeconds(this.#minWatchTimeoutSeconds, this.#random()),
      allowWatchBookmarks: true,
    };
    // The server ends the watch after timeoutSeconds; if it cannot (a half-open
    // connection), this ends it a minute later and the next watch resumes.
    const deadline = AbortSignal.any([signal, AbortSignal.timeout((options.timeoutSeconds + 60) * 1000)]);
    try {
      for await (const ev of this.#lw.watch(options, deadline)) {
        events++;
        switch (ev.type) {
          case 'ERROR': {
            const err = KubeApiError.fromStatus(ev.status.code ?? 500, ev.status, `watch ${this.name}`);
            if (err.status === 410 || err.reason === 'Expired' || err.reason === 'Gone') return { kind: 'expired' };
            return { kind: 'failed', during: 'watch', error: err };
          }
          case 'BOOKMARK':
            if (ev.resourceVersion) this.#setResourceVersion(ev.resourceVersion);
            break;
          case 'ADDED':
          case 'MODIFIED':
            this.#deliver(this.store.upsert(ev.object));
            this.#setResourceVersion(ev.object.metadata?.resourceVersion);
            break;
          case 'DELETED': {
            const change = this.store.remove(ev.object);
            if (change) this.#deliver(change);
            this.#setResourceVersion(ev.object.metadata?.resourceVersion);
            break;
          }
        }
      }
    } catch (error) {
      return { kind: 'failed', during: 'watch', error };
    }
    return { kind: 'watch-closed', durationMs: Date.now() - started, events };
  }

  #setResourceVersion(rv: string | undefined): void {
    if (rv) this.#state = { ...this.#state, resourceVersion: rv };
  }

  #deliver(change: StoreChange<T>): void {
    switch (change.type) {
      case 'add':
        this.#call(() => this.#handler.onAdd?.(change.object));
        return;
      case 'update':
        this.#call(() => this.#handler.onUpdate?.(change.old, change.object));
        return;
      case 'delete':
        this.#call(() => this.#handler.onDelete?.(change.object));
        return;
    }
  }

  // A throwing handler is a bug in the caller; it must not stop the stream for everyone.
  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#log.error({ err: describe(err) }, 'reflector handler threw');
    }
  }
}

/** A reflector over one collection path of the apiserver. */
export function reflectorFor<T extends KubeObject>(
  rest: RestClient,
  path: string,
  options: Omit<ReflectorOptions<T>, 'listerWatcher' | 'name'> & Selectors & { name?: string; decode?: (raw: unknown) => T },
): Reflector<T> {
  const { fieldSelector, labelSelector, decode, name, ...rest2 } = options;
  const selectors: Selectors = {};
  if (fieldSelector) selectors.fieldSelector = fieldSelector;
  if (labelSelector) selectors.labelSelector = labelSelector;
  const label = name ?? [path, fieldSelector, labelSelector].filter(Boolean).join(' ');
  return new Reflector<T>({ ...rest2, name: label, listerWatcher: restListerWatcher(rest, path, selectors, decode) });
}

function describe(err: unknown): string {
  return TskubeError.from(err).message;
}
