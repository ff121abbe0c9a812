import * as models from '@kubernetes/client-node';
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { describe, expect, it } from 'vitest';
import { dateFields, decode, decodePod, encode } from '../../src/kube/codec.js';

type Attribute = { name: string; baseName: string; type: string };
type Model = { getAttributeTypeMap?: () => Attribute[] };

/** Every date-time field path of a client-node model, walking its attribute maps. */
function modelDatePaths(type: string, prefix: string[] = [], seen: string[] = []): string[][] {
  const model = (models as unknown as Record<string, Model | undefined>)[type];
  if (!model?.getAttributeTypeMap || seen.includes(type)) return [];
  return model.getAttributeTypeMap().flatMap((a) => {
    let t = a.type;
    const path = [...prefix, a.baseName];
    if (t.startsWith('Array<')) {
      t = t.slice('Array<'.length, -1);
      path.push('[]');
    }
    return t === 'Date' ? [path] : modelDatePaths(t, path, [...seen, type]);
  });
}

const key = (p: readonly string[]) => p.join('.');

describe('codec', () => {
  it("lists every date-time field of client-node's models for each type", () => {
    for (const type of Object.keys(dateFields) as (keyof typeof dateFields)[]) {
      expect(dateFields[type].map(key).sort(), type).toEqual(modelDatePaths(type).map(key).sort());
    }
  });

  const raw = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'p',
      creationTimestamp: '2026-01-02T03:04:05Z',
      deletionTimestamp: '2026-01-02T03:05:05Z',
      managedFields: [{ manager: 'kubectl', time: '2026-01-02T03:04:05Z', fieldsV1: { 'f:spec': {} } }],
      labels: { a: 'b' },
    },
    spec: { containers: [{ name: 'c', image: 'i', resources: { limits: { cpu: '100m' } } }], newFieldFromTheFuture: { x: 1 } },
    status: {
      phase: 'Running',
      startTime: '2026-01-02T03:04:06Z',
      conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-01-02T03:04:07Z' }],
      containerStatuses: [
        {
          name: 'c',
          state: { running: { startedAt: '2026-01-02T03:04:08Z' } },
          lastState: { terminated: { exitCode: 1, startedAt: '2026-01-02T03:04:01Z', finishedAt: '2026-01-02T03:04:02Z' } },
        },
      ],
    },
  };

  it("decodes a pod's dates as client-node's ObjectSerializer does, keeping the input and unknown fields", () => {
    const before = JSON.stringify(raw);
    const pod = decodePod(raw);
    expect(JSON.stringify(raw)).toBe(before);
    const theirs = ObjectSerializer.deserialize(structuredClone(raw), 'V1Pod', '') as models.V1Pod;
    for (const get of [
      (p: models.V1Pod) => p.metadata?.creationTimestamp,
      (p: models.V1Pod) => p.metadata?.deletionTimestamp,
      (p: models.V1Pod) => p.metadata?.managedFields?.[0]?.time,
      (p: models.V1Pod) => p.status?.startTime,
      (p: models.V1Pod) => p.status?.conditions?.[0]?.lastTransitionTime,
      (p: models.V1Pod) => p.status?.containerStatuses?.[0]?.state?.running?.startedAt,
      (p: models.V1Pod) => p.status?.containerStatuses?.[0]?.lastState?.terminated?.finishedAt,
    ]) {
      expect(get(pod)).toBeInstanceOf(Date);
      expect(get(pod)).toEqual(get(theirs));
    }
    expect(pod.status?.conditions?.[0]?.lastProbeTime).toBeNull();
    expect(pod.spec?.containers[0]?.resources).toEqual({ limits: { cpu: '100m' } });
    expect((pod.spec as unknown as Record<string, unknown>)['newFieldFromTheFuture']).toEqual({ x: 1 });
    // What is not on a date's way is shared, not copied.
    expect(pod.spec).toBe(raw.spec);
    expect(decode('V1Service', { metadata: { name: 's' } })).toEqual({ metadata: { name: 's' } });
  });

  it('encodes Dates as RFC 3339 strings, as the ObjectSerializer did, and drops undefined fields', () => {
    const { newFieldFromTheFuture: _, ...knownSpec } = raw.spec;
    const pod = decodePod({ ...raw, spec: knownSpec });
    expect(encode('V1Pod', pod)).toEqual(JSON.parse(JSON.stringify(ObjectSerializer.serialize(pod, 'V1Pod', ''))) as unknown);
    // A field client-node's models do not know (the API server's newer ones) is kept, not dropped.
    expect(encode('V1Pod', decodePod(raw))).toMatchObject({ spec: { newFieldFromTheFuture: { x: 1 } } });
    const status: models.V1PodStatus = { phase: 'Running', startTime: new Date('2026-01-02T03:04:06.5Z'), message: undefined };
    expect(encode('V1PodStatus', status)).toEqual({ phase: 'Running', startTime: '2026-01-02T03:04:06.500Z' });
  });
});
