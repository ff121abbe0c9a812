// The reflector's cache of one resource: objects keyed by namespace/name. Every write
// returns the change it made, so the reflector hands exactly those to its handler,
// including the deletes a relist synthesizes for objects that vanished while no watch
// was open (client-go's DeletedFinalStateUnknown, delivered as a plain delete here).
import { type KubeObject, objectKey, resourceVersionOf } from './object-meta.js';

export type StoreChange<T> = { type: 'add'; object: T } | { type: 'update'; old: T; object: T } | { type: 'delete'; object: T };

export class Store<T extends KubeObject> {
  readonly #objects = new Map<string, T>();

  get(key: string): T | undefined {
    return this.#objects.get(key);
  }

  list(): T[] {
    return [...this.#objects.values()];
  }

  keys(): string[] {
    return [...this.#objects.keys()];
  }

  get size(): number {
    return this.#objects.size;
  }

  /** Add or replace one object (a watch ADDED or MODIFIED). */
  upsert(object: T): StoreChange<T> {
    const key = objectKey(object);
    const old = this.#objects.get(key);
    this.#objects.set(key, object);
    return old === undefined ? { type: 'add', object } : { type: 'update', old, object };
  }

  /** Remove one object (a watch DELETED); the change carries the object as the server sent it. */
  remove(object: T): StoreChange<T> | undefined {
    const key = objectKey(object);
    if (!this.#objects.has(key)) return undefined;
    this.#objects.delete(key);
    return { type: 'delete', object };
  }

  /** Replace everything with a fresh list; returns the changes that turn the old into the new. */
  replace(items: readonly T[]): StoreChange<T>[] {
    const changes = diffReplace(this.#objects, items);
    this.#objects.clear();
    for (const item of items) this.#objects.set(objectKey(item), item);
    return changes;
  }
}

/**
 * What a relist changed: new keys are adds, keys whose resourceVersion moved are
 * updates, keys no longer listed are deletes carrying their last known state.
 * An object deleted and recreated under the same name shows as an update with a new uid.
 */
export function diffReplace<T extends KubeObject>(current: ReadonlyMap<string, T>, items: readonly T[]): StoreChange<T>[] {
  const changes: StoreChange<T>[] = [];
  const seen = new Set<string>();
  for (const object of items) {
    const key = objectKey(object);
    seen.add(key);
    const old = current.get(key);
    if (old === undefined) changes.push({ type: 'add', object });
    else if (resourceVersionOf(old) !== resourceVersionOf(object) || resourceVersionOf(object) === '') {
      changes.push({ type: 'update', old, object });
    }
  }
  for (const [key, old] of current) if (!seen.has(key)) changes.push({ type: 'delete', object: old });
  return changes;
}
