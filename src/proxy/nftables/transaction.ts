// An nftables transaction as a value: operations on one table, checked as they are
// added (the first mistake is kept and fails the run), and `toString()` is exactly the
// script handed to `nft -f -`, which the kernel applies atomically or not at all.
// Consecutive element operations on one set or map share a command line: nft parses one
// `add element` with a thousand elements much faster than a thousand commands.
import { TskubeError } from '../../common/errors.js';
import type { NftElement, NftFamily, NftObject, NftOperation, NftVerb } from './objects.js';

const elementsPerLine = 1000;

/** Go's %q for the ASCII text nft comments hold. */
export const quote = (s: string) => JSON.stringify(s);

export class Transaction {
  readonly family: NftFamily;
  readonly table: string;
  readonly operations: NftOperation[] = [];
  #error: TskubeError | undefined;

  constructor(family: NftFamily, table: string) {
    this.family = family;
    this.table = table;
  }

  /** The first invalid operation, if any; `run` refuses the transaction then. */
  get error(): TskubeError | undefined {
    return this.#error;
  }

  get size(): number {
    return this.operations.length;
  }

  add(object: NftObject): this {
    return this.#push('add', object);
  }

  /** Like add, but fails if the object exists. */
  create(object: NftObject): this {
    return this.#push('create', object);
  }

  flush(object: NftObject): this {
    return this.#push('flush', object);
  }

  delete(object: NftObject): this {
    return this.#push('delete', object);
  }

  #push(verb: NftVerb, object: NftObject): this {
    if (this.#error) return this;
    const problem = validate(verb, object);
    if (problem) {
      this.#error = new TskubeError('invalid-argument', `nftables transaction: ${verb} ${object.kind}: ${problem}`);
      return this;
    }
    this.operations.push({ verb, object });
    return this;
  }

  toString(): string {
    const lines: string[] = [];
    const t = `${this.family} ${this.table}`;
    let batch: { verb: NftVerb; element: NftElement; items: string[] } | undefined;
    const flushBatch = () => {
      if (!batch) return;
      lines.push(`${batch.verb} element ${t} ${batch.element.name} { ${batch.items.join(', ')} }`);
      batch = undefined;
    };
    for (const { verb, object } of this.operations) {
      if (object.kind === 'element') {
        if (!batch || batch.verb !== verb || batch.element.name !== object.name || batch.items.length >= elementsPerLine) {
          flushBatch();
          batch = { verb, element: object, items: [] };
        }
        batch.items.push(elementText(verb, object));
        continue;
      }
      flushBatch();
      lines.push(operationText(t, verb, object));
    }
    flushBatch();
    if (this.#error) lines.push(`# ERROR: ${this.#error.detail}`);
    return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
  }
}

function validate(verb: NftVerb, o: NftObject): string | undefined {
  switch (o.kind) {
    case 'table':
      return undefined;
    case 'chain':
      if (!o.name) return 'no chain name';
      if ((o.hook === undefined) !== (o.type === undefined) || (o.hook !== undefined && o.priority === undefined)) {
        return `chain ${o.name}: a base chain needs type, hook and priority; a regular chain none of them`;
      }
      return undefined;
    case 'rule':
      if (verb !== 'add' && verb !== 'create') return 'rules are only added here (a flushed chain is rewritten)';
      if (!o.chain || !o.rule) return 'a rule needs a chain and its text';
      return undefined;
    case 'set':
    case 'map':
      if (!o.name) return 'no name';
      if ((verb === 'add' || verb === 'create') && !o.type === !o.typeof) return `${o.kind} ${o.name}: give exactly one of type and typeof`;
      return undefined;
    case 'element':
      if (verb === 'flush') return 'flush the set or map instead';
      if (o.key.length === 0) return `element of ${o.name} without a key`;
      if (o.container === 'map' && verb !== 'delete' && (o.value ?? []).length === 0) return `element ${o.key.join(' . ')} of map ${o.name} needs a value`;
      return undefined;
  }
}

const commentPart = (comment: string | undefined) => (comment === undefined ? '' : ` comment ${quote(comment)} ;`);

function operationText(t: string, verb: NftVerb, o: Exclude<NftObject, NftElement>): string {
  switch (o.kind) {
    case 'table':
      return verb === 'add' || verb === 'create' ? `${verb} table ${t}${o.comment === undefined ? '' : ` {${commentPart(o.comment)} }`}` : `${verb} table ${t}`;
    case 'chain': {
      if (verb !== 'add' && verb !== 'create') return `${verb} chain ${t} ${o.name}`;
      const base = o.type === undefined ? '' : ` type ${o.type} hook ${o.hook} priority ${o.priority} ;`;
      const body = base + commentPart(o.comment);
      return `${verb} chain ${t} ${o.name}${body ? ` {${body} }` : ''}`;
    }
    case 'rule':
      return `${verb} rule ${t} ${o.chain} ${o.rule}${o.comment === undefined ? '' : ` comment ${quote(o.comment)}`}`;
    case 'set':
    case 'map': {
      if (verb !== 'add' && verb !== 'create') return `${verb} ${o.kind} ${t} ${o.name}`;
      const parts = [o.type !== undefined ? ` type ${o.type} ;` : ` typeof ${o.typeof} ;`];
      if (o.flags && o.flags.length > 0) parts.push(` flags ${o.flags.join(',')} ;`);
      if (o.timeout !== undefined) parts.push(` timeout ${o.timeout}s ;`);
      parts.push(commentPart(o.comment));
      return `${verb} ${o.kind} ${t} ${o.name} {${parts.join('')} }`;
    }
  }
}

function elementText(verb: NftVerb, e: NftElement): string {
  const key = e.key.join(' . ');
  if (verb === 'delete') return key;
  const comment = e.comment === undefined ? '' : ` comment ${quote(e.comment)}`;
  return e.container === 'map' ? `${key}${comment} : ${(e.value ?? []).join(' . ')}` : `${key}${comment}`;
}
