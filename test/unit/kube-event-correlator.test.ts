import { describe, expect, it } from 'vitest';
import { aggregateKey, EventCorrelator, eventKey, type EventInput } from '../../src/kube/event-correlator.js';

const input = (over: Partial<EventInput> = {}): EventInput => ({
  involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: 'ns', name: 'web', uid: 'u1' },
  type: 'Normal',
  reason: 'Pulled',
  message: 'Successfully pulled image "x"',
  source: { component: 'kubelet', host: 'node-1' },
  ...over,
});
const t0 = new Date('2026-01-01T00:00:00.000Z');
const at = (s: number) => new Date(t0.getTime() + s * 1000);

describe('event correlator', () => {
  it('creates an Event for the first occurrence, in the object namespace, named <object>.<hex nanos>', () => {
    const c = new EventCorrelator().correlate(input(), t0);
    expect(c.kind).toBe('create');
    if (c.kind !== 'create') return;
    expect(c.event.metadata.namespace).toBe('ns');
    expect(c.event.metadata.name).toMatch(/^web\.[0-9a-f]+$/);
    expect(c.event).toMatchObject({
      count: 1,
      firstTimestamp: '2026-01-01T00:00:00Z',
      lastTimestamp: '2026-01-01T00:00:00Z',
      source: { component: 'kubelet', host: 'node-1' },
    });
  });

  it('patches count and lastTimestamp for a repeat once the first was written', () => {
    const k = new EventCorrelator();
    const first = k.correlate(input(), t0);
    if (first.kind !== 'create') throw new Error('expected create');
    k.remember(first.key, first.event);
    const second = k.correlate(input(), at(30));
    expect(second).toMatchObject({ kind: 'patch', patch: { count: 2, lastTimestamp: '2026-01-01T00:00:30Z' } });
    if (second.kind !== 'patch') return;
    expect(second.event.metadata.name).toBe(first.event.metadata.name);
    expect(second.event.firstTimestamp).toBe(first.event.firstTimestamp);
    k.remember(second.key, second.event);
    expect(k.correlate(input(), at(60))).toMatchObject({ kind: 'patch', patch: { count: 3 } });
  });

  it('keys on object, type, reason and message: a different message is a different Event', () => {
    expect(eventKey(input())).not.toBe(eventKey(input({ message: 'other' })));
    expect(eventKey(input())).not.toBe(eventKey(input({ involvedObject: { ...input().involvedObject, fieldPath: 'spec.containers{web}' } })));
    expect(aggregateKey(input())).toBe(aggregateKey(input({ message: 'other' })));
  });

  it('creates anew after forget (the Event expired from the API)', () => {
    const k = new EventCorrelator();
    const first = k.correlate(input(), t0);
    if (first.kind !== 'create') throw new Error('expected create');
    k.remember(first.key, first.event);
    k.forget(first.key);
    expect(k.correlate(input(), at(1)).kind).toBe('create');
  });

  it('combines more than 10 similar events with different messages into one', () => {
    const k = new EventCorrelator();
    const results = Array.from({ length: 12 }, (_, i) => k.correlate(input({ message: `m${i}` }), at(i)));
    expect(results.slice(0, 10).every((r) => r.kind === 'create' && !r.event.message.startsWith('(combined'))).toBe(true);
    const eleventh = results[10]!;
    if (eleventh.kind !== 'create') throw new Error('expected create');
    expect(eleventh.event.message).toBe('(combined from similar events): m10');
    k.remember(eleventh.key, eleventh.event);
    // The aggregate message differs each time, so the dedupe key is the combined message's.
    expect(results[11]!.kind).toBe('create');
  });

  it('drops spam beyond a burst of 25 per object, refilling one per 5 minutes', () => {
    const k = new EventCorrelator();
    const kinds = Array.from({ length: 27 }, (_, i) => k.correlate(input({ reason: `R${i}` }), t0).kind);
    expect(kinds.filter((x) => x === 'drop')).toHaveLength(2);
    expect(k.correlate(input({ reason: 'Later' }), at(301)).kind).toBe('create');
    // Another object has its own bucket.
    expect(k.correlate(input({ involvedObject: { kind: 'Pod', namespace: 'ns', name: 'db' } }), t0).kind).toBe('create');
  });
});
