// Records core/v1 Events for objects without ever blocking the caller: `event()` only
// queues; run() correlates (see event-correlator.ts) and writes one at a time. When the
// API cannot be reached events are dropped after a few retries, with one log line per
// outage, and one when writes work again: events are best effort, as upstream's are.
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { TskubeError } from '../common/errors.js';
import { isNamespaceTerminating, KubeApiError } from './api-error.js';
import { backoffDelay } from '../common/backoff.js';
import { type CorrelatorLimits, EventCorrelator, type EventType, type ObjectReference } from './event-correlator.js';
import { defaultLogger } from '../common/logger.js';
import type { RestClient } from './rest-client.js';
import { sleep } from '../common/sleep.js';

export type { EventType, ObjectReference };

export interface EventRecorderOptions {
  rest: RestClient;
  /** source.component, e.g. "kubelet". */
  component: string;
  /** source.host: the node name. */
  host: string;
  logger?: Logger;
  /** Events waiting to be written beyond this are dropped (upstream: 1000). */
  queueSize?: number;
  /** Attempts per event when the API is unreachable before it is dropped. */
  attempts?: number;
  limits?: Partial<CorrelatorLimits>;
  now?: () => Date;
  random?: () => number;
}

interface Queued {
  ref: ObjectReference;
  type: EventType;
  reason: string;
  message: string;
  at: Date;
}

const retryBackoff = { initialMs: 500, maxMs: 5_000, factor: 2, jitter: 0.5 };

export class EventRecorder {
  /** Resolved at once: the recorder needs no list before it can take events. */
  readonly ready: Promise<void> = Promise.resolve();
  readonly #o: Required<Omit<EventRecorderOptions, 'logger' | 'limits'>>;
  readonly #log: Logger;
  readonly #correlator: EventCorrelator;
  readonly #queue: Queued[] = [];
  #wake: (() => void) | undefined;
  #idle: (() => void)[] = [];
  #dropping = false;
  #overflowing = false;
  #busy = false;

  constructor(options: EventRecorderOptions) {
    const { logger: _logger, limits: _limits, ...rest } = options;
    this.#o = { queueSize: 1000, attempts: 3, now: () => new Date(), random: Math.random, ...rest };
    this.#log = (options.logger ?? defaultLogger(options.component)).child({ component: 'events' });
    this.#correlator = new EventCorrelator(options.limits);
  }

  /** Queues an Event about `ref`; returns at once. */
  event(ref: ObjectReference, type: EventType, reason: string, message: string): void {
    if (this.#queue.length >= this.#o.queueSize) {
      if (!this.#overflowing) this.#log.warn({ queueSize: this.#o.queueSize }, 'event queue full; dropping events');
      this.#overflowing = true;
      return;
    }
    this.#overflowing = false;
    this.#queue.push({ ref, type, reason, message, at: this.#o.now() });
    this.#wake?.();
  }

  normal(ref: ObjectReference, reason: string, message: string): void {
    this.event(ref, 'Normal', reason, message);
  }

  warning(ref: ObjectReference, reason: string, message: string): void {
    this.event(ref, 'Warning', reason, message);
  }

  /** Resolves once everything queued so far has been written or dropped. */
  flush(): Promise<void> {
    if (this.#queue.length === 0 && !this.#busy) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const next = this.#queue.shift();
      if (!next) {
        for (const r of this.#idle.splice(0)) r();
        await sleep(Infinity, signal, (wake) => (this.#wake = wake));
        this.#wake = undefined;
        continue;
      }
      this.#busy = true;
      try {
        await this.#write(next, signal);
      } finally {
        this.#busy = false;
      }
    }
    for (const r of this.#idle.splice(0)) r();
  }

  async #write(q: Queued, signal: AbortSignal): Promise<void> {
    const input = { involvedObject: q.ref, type: q.type, reason: q.reason, message: q.message, source: { component: this.#o.component, host: this.#o.host } };
    const c = this.#correlator.correlate(input, q.at);
    if (c.kind === 'drop') return;
    const path = `/api/v1/namespaces/${c.event.metadata.namespace}/events`;
    for (let attempt = 0; ; attempt++) {
      try {
        if (c.kind === 'patch') {
          try {
            await this.#o.rest.request('PATCH', `${path}/${c.event.metadata.name}`, {
              body: c.patch,
              contentType: 'application/strategic-merge-patch+json',
              signal,
            });
          } catch (err) {
            // The Event expired (1 h TTL) or was deleted: write it anew, count and all.
            if (!(err instanceof KubeApiError && err.status === 404)) throw err;
            await this.#o.rest.request('POST', path, { body: c.event, signal });
          }
        } else {
          await this.#o.rest.request('POST', path, { body: c.event, signal });
        }
        this.#correlator.remember(c.key, c.event);
        if (this.#dropping) this.#log.info('events are being written again');
        this.#dropping = false;
        return;
      } catch (err) {
        if (signal.aborted) return;
        const e = TskubeError.from(err, 'unavailable');
        const retryable = e.code === 'unavailable' || e.code === 'deadline-exceeded' || e.code === 'resource-exhausted';
        // During an outage each event gets one try, so the queue drains instead of waiting.
        if (retryable && !this.#dropping && attempt + 1 < this.#o.attempts) {
          await sleep(backoffDelay(retryBackoff, attempt, this.#o.random()), signal);
          continue;
        }
        if (retryable) {
          if (!this.#dropping) this.#log.warn({ err: e.message }, 'cannot reach the API; dropping events until it answers');
          this.#dropping = true;
        } else {
          // A rejected event (namespace gone, forbidden) is dropped alone; the API itself is fine.
          // Into a namespace being deleted that is expected (its pods are being killed), so it is
          // only a debug line, as in client-go.
          const level = isNamespaceTerminating(err) ? 'debug' : 'warn';
          this.#log[level]({ err: e.message, reason: q.reason, object: `${q.ref.namespace ?? ''}/${q.ref.name ?? ''}` }, 'event rejected; dropped');
          this.#correlator.forget(c.key);
        }
        return;
      }
    }
  }
}

/** The reference for Events about a pod. */
export function podReference(pod: V1Pod, fieldPath?: string): ObjectReference {
  const ref: ObjectReference = {
    apiVersion: 'v1',
    kind: 'Pod',
    namespace: pod.metadata?.namespace ?? 'default',
    name: pod.metadata?.name ?? '',
  };
  if (pod.metadata?.uid) ref.uid = pod.metadata.uid;
  if (pod.metadata?.resourceVersion) ref.resourceVersion = pod.metadata.resourceVersion;
  if (fieldPath) ref.fieldPath = fieldPath;
  return ref;
}

/** The kubelet's reference for Events about its node: upstream uses the node name as the UID. */
export function nodeReference(nodeName: string): ObjectReference {
  return { apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeName };
}
