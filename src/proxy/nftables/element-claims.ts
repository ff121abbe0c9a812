// Which element each key of the shared sets and maps holds, when service ports may want
// the same key (two Services sharing an external IP and port, the ports of one Service
// sharing its ClusterIP in @cluster-ips): each port claims its elements, the port with the
// smallest key wins whatever order they came in, and the kernel holds the winner's. One
// owner per key is the rule and costs one map entry (the element carries its owner); only
// contested keys keep every claim.
import type { NftElement } from './objects.js';

export const elementId = (e: NftElement) => e.id ?? `${e.name}\u0000${e.key.join(' . ')}`;

/** An element as a claim of `owner`. */
export type Claim = NftElement & { owner?: string };

export class ElementClaims {
  /** Element id → the element the kernel holds (the winning claim). */
  readonly elements = new Map<string, Claim>();
  readonly #contested = new Map<string, Map<string, Claim>>();

  get size(): number {
    return this.elements.size;
  }

  /** `e.owner` must be `owner` (renderers set it), so a single claim needs no other record. */
  claim(owner: string, e: Claim, id = elementId(e)): void {
    const current = this.elements.get(id);
    const contested = this.#contested.get(id);
    if (!contested && (current === undefined || (current.owner ?? '') === owner)) {
      this.elements.set(id, e);
      return;
    }
    const claims = contested ?? new Map([[current!.owner ?? '', current!]]);
    if (!contested) this.#contested.set(id, claims);
    claims.set(owner, e);
    this.#settle(id, claims);
  }

  release(owner: string, id: string): void {
    const claims = this.#contested.get(id);
    if (claims) {
      claims.delete(owner);
      if (claims.size === 1) {
        this.#contested.delete(id);
        this.elements.set(id, claims.values().next().value!);
      } else this.#settle(id, claims);
      return;
    }
    if ((this.elements.get(id)?.owner ?? '') === owner) this.elements.delete(id);
  }

  #settle(id: string, claims: Map<string, Claim>): void {
    let best: string | undefined;
    for (const o of claims.keys()) if (best === undefined || o < best) best = o;
    this.elements.set(id, claims.get(best!)!);
  }
}
