import { describe, expect, it } from 'vitest';
import { diffReplace, Store } from '../../src/kube/store.js';
import type { KubeObject } from '../../src/kube/object-meta.js';

const obj = (name: string, rv: string, namespace = 'ns'): KubeObject => ({ metadata: { name, namespace, resourceVersion: rv } });

describe('store', () => {
  it('keys objects by namespace/name, and cluster objects by name', () => {
    const s = new Store<KubeObject>();
    s.upsert(obj('a', '1'));
    s.upsert({ metadata: { name: 'node-1', resourceVersion: '1' } });
    expect(s.keys().sort()).toEqual(['node-1', 'ns/a']);
    expect(s.get('ns/a')?.metadata?.resourceVersion).toBe('1');
  });

  it('reports add, then update with the old object, then delete', () => {
    const s = new Store<KubeObject>();
    expect(s.upsert(obj('a', '1')).type).toBe('add');
    const u = s.upsert(obj('a', '2'));
    expect(u).toEqual({ type: 'update', old: obj('a', '1'), object: obj('a', '2') });
    expect(s.remove(obj('a', '3'))).toEqual({ type: 'delete', object: obj('a', '3') });
    expect(s.remove(obj('a', '3'))).toBeUndefined();
    expect(s.size).toBe(0);
  });

  it('on replace, synthesizes deletes for what vanished, with its last known state', () => {
    const s = new Store<KubeObject>();
    s.replace([obj('keep', '1'), obj('change', '1'), obj('gone', '1')]);
    const changes = s.replace([obj('keep', '1'), obj('change', '5'), obj('new', '6')]);
    expect(changes).toEqual([
      { type: 'update', old: obj('change', '1'), object: obj('change', '5') },
      { type: 'add', object: obj('new', '6') },
      { type: 'delete', object: obj('gone', '1') },
    ]);
    expect(s.keys().sort()).toEqual(['ns/change', 'ns/keep', 'ns/new']);
  });

  it('diffs an empty list against everything as deletes', () => {
    const current = new Map([['ns/a', obj('a', '1')]]);
    expect(diffReplace(current, [])).toEqual([{ type: 'delete', object: obj('a', '1') }]);
  });
});
