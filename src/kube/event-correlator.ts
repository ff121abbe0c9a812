// client-go's EventCorrelator (tools/record/events_cache.go), without I/O: decides for
// each new event whether it is a new Event object, a repeat of one already written
// (count++, lastTimestamp, via PATCH), or spam to drop. Time comes in as an argument.
//
//   aggregate  more than 10 events in 10 min that differ only in message → one Event
//              whose message says "(combined from similar events): <latest>"
//   dedupe     the same object + type + reason + message → PATCH count and lastTimestamp
//   spam       per object + source: a token bucket of 25, refilled 1 per 5 min
export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

export type EventType = 'Normal' | 'Warning';

export interface EventInput {
  involvedObject: ObjectReference;
  type: EventType;
  reason: string;
  message: string;
  source: { component: string; host: string };
}

/** A core/v1 Event as written to the API. */
export interface EventBody {
  apiVersion: 'v1';
  kind: 'Event';
  metadata: { name: string; namespace: string };
  involvedObject: ObjectReference;
  type: EventType;
  reason: string;
  message: string;
  source: { component: string; host: string };
  reportingComponent: string;
  reportingInstance: string;
  firstTimestamp: string;
  lastTimestamp: string;
  count: number;
}

export type Correlation =
  | { kind: 'create'; key: string; event: EventBody }
  | { kind: 'patch'; key: string; event: EventBody; patch: { count: number; lastTimestamp: string; message: string } }
  | { kind: 'drop'; why: 'spam' };

export interface CorrelatorLimits {
  /** LRU size of the dedupe and aggregate caches (client-go: 4096). */
  maxKeys: number;
  aggregateMaxEvents: number;
  aggregateIntervalMs: number;
  spamBurst: number;
  spamRefillMs: number;
}

export const defaultCorrelatorLimits: CorrelatorLimits = {
  maxKeys: 4096,
  aggregateMaxEvents: 10,
  aggregateIntervalMs: 10 * 60_000,
  spamBurst: 25,
  spamRefillMs: 5 * 60_000,
};

const MAX_MESSAGE = 1024;

/** getEventKey: everything that makes two events "the same event". */
export function eventKey(e: EventInput): string {
  const o = e.involvedObject;
  return [e.source.component, e.source.host, o.kind, o.namespace, o.name, o.fieldPath, o.uid, o.apiVersion, e.type, e.reason, e.message].join('\u0000');
}

/** EventAggregatorByReasonFunc: the same, without the message. */
export function aggregateKey(e: EventInput): string {
  const o = e.involvedObject;
  return [e.source.component, e.source.host, o.kind, o.namespace, o.name, o.fieldPath, o.uid, o.apiVersion, e.type, e.reason].join('\u0000');
}

/** getSpamKey: per source and object. */
export function spamKey(e: EventInput): string {
  const o = e.involvedObject;
  return [e.source.component, e.source.host, o.kind, o.namespace, o.name, o.uid, o.apiVersion].join('\u0000');
}

export function formatTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

interface Written {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
}

class Lru<V> {
  readonly #map = new Map<string, V>();
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  get(key: string): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    this.#map.delete(key);
    this.#map.set(key, v);
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value as string);
  }
  delete(key: string): void {
    this.#map.delete(key);
  }
}

export class EventCorrelator {
  readonly #limits: CorrelatorLimits;
  readonly #written: Lru<Written>;
  readonly #aggregates: Lru<{ messages: Set<string>; since: number }>;
  readonly #buckets: Lru<{ tokens: number; at: number }>;
  #seq = 0;

  constructor(limits: Partial<CorrelatorLimits> = {}) {
    this.#limits = { ...defaultCorrelatorLimits, ...limits };
    this.#written = new Lru(this.#limits.maxKeys);
    this.#aggregates = new Lru(this.#limits.maxKeys);
    this.#buckets = new Lru(this.#limits.maxKeys);
  }

  correlate(input: EventInput, now: Date): Correlation {
    if (!this.#takeToken(spamKey(input), now.getTime())) return { kind: 'drop', why: 'spam' };
    const e = this.#aggregate(input, now.getTime());
    const key = eventKey(e);
    const ts = formatTime(now);
    const prev = this.#written.get(key);
    if (prev) {
      const event = this.#body(e, prev.name, prev.namespace, prev.firstTimestamp, ts, prev.count + 1);
      return { kind: 'patch', key, event, patch: { count: event.count, lastTimestamp: ts, message: event.message } };
    }
    const namespace = e.involvedObject.namespace || 'default';
    return { kind: 'create', key, event: this.#body(e, this.#eventName(e.involvedObject.name ?? 'unknown', now), namespace, ts, ts, 1) };
  }

  /** After a successful write: later repeats patch this Event. */
  remember(key: string, event: EventBody): void {
    this.#written.set(key, { name: event.metadata.name, namespace: event.metadata.namespace, count: event.count, firstTimestamp: event.firstTimestamp });
  }

  /** The Event is gone from the API (expired): the next repeat creates a new one. */
  forget(key: string): void {
    this.#written.delete(key);
  }

  #aggregate(input: EventInput, now: number): EventInput {
    const key = aggregateKey(input);
    let rec = this.#aggregates.get(key);
    if (!rec || now - rec.since > this.#limits.aggregateIntervalMs) rec = { messages: new Set(), since: now };
    rec.messages.add(input.message);
    this.#aggregates.set(key, rec);
    if (rec.messages.size <= this.#limits.aggregateMaxEvents) return input;
    return { ...input, message: `(combined from similar events): ${input.message}` };
  }

  #takeToken(key: string, now: number): boolean {
    const { spamBurst, spamRefillMs } = this.#limits;
    const b = this.#buckets.get(key) ?? { tokens: spamBurst, at: now };
    const refilled = Math.min(spamBurst, b.tokens + (now - b.at) / spamRefillMs);
    const ok = refilled >= 1;
    this.#buckets.set(key, { tokens: ok ? refilled - 1 : refilled, at: now });
    return ok;
  }

  // client-go: "<name>.<unix nanos in hex>"; a sequence keeps two in one millisecond apart.
  #eventName(objectName: string, now: Date): string {
    const nanos = BigInt(now.getTime()) * 1_000_000n + BigInt(this.#seq++ % 1_000_000);
    return `${objectName}.${nanos.toString(16)}`;
  }

  #body(e: EventInput, name: string, namespace: string, first: string, last: string, count: number): EventBody {
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: e.involvedObject,
      type: e.type,
      reason: e.reason,
      message: e.message.length > MAX_MESSAGE ? `${e.message.slice(0, MAX_MESSAGE - 3)}...` : e.message,
      source: e.source,
      reportingComponent: e.source.component,
      reportingInstance: e.source.host,
      firstTimestamp: first,
      lastTimestamp: last,
      count,
    };
  }
}
