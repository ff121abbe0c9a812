// The text go-spew prints for `%#v` with the settings upstream hashes with
// (k8s.io/utils/dump.ForHash: methods disabled, map keys sorted, no pointer addresses or
// capacities), for a value held as decoded JSON and a table of its Go types
// (pod-spew-schema.gen.ts). The upstream kubelet hashes this text of a static pod into
// its UID, so every character counts:
//
//   - a value whose type is not implied by its container is prefixed with `(type)`:
//     struct fields are, slice elements and map keys and values are not;
//   - a pointer prints its type and then its target, `(*int64)30`; a nil one `(*T)<nil>`,
//     or `<nil>` alone where no type is printed; a non-nil one there is `<*>` and its target;
//   - structs are `{Name:(T)value Other:(T)value}`, in Go's field order; strings are raw;
//   - nil slices and maps are `<nil>`, empty ones `[]` and `map[]` (JSON `[]`/`{}` versus absent).
import { type GoQuantity, goQuantity, QuantitySyntaxError } from './go-quantity.js';
import { isPlainObject } from '../../../common/field-readers.js';

export type SpewType =
  | { kind: 'struct'; fields: [goName: string, jsonName: string | null, type: string][] }
  | { kind: 'ptr' | 'slice' | 'map'; elem: string }
  | { kind: 'string' | 'bool' | 'int' | 'quantity' | 'time' | 'intOrString' };

/** Values a JSON decoder would have to refuse; the caller falls back to another UID. */
export class SpewInputError extends Error {}

export interface SpewSchema {
  types: Record<string, SpewType>;
  /** Map types whose quantities defaulting has rounded up to milli scale (upstream's SetDefaults_ResourceList). */
  milliRoundedMaps: ReadonlySet<string>;
}

/** The text for a pointer to a `typeName` holding `value` (upstream hashes a *core.Pod). */
export function spewPointerForHash(schema: SpewSchema, typeName: string, value: unknown): string {
  const out: string[] = [`(*${typeName})`];
  format(schema, typeName, value, false, out, false);
  return out.join('');
}

function typeOf(schema: SpewSchema, name: string): SpewType {
  const t = schema.types[name];
  if (t === undefined) throw new SpewInputError(`no spew type ${name}`);
  return t;
}

const isAbsent = (v: unknown): v is null | undefined => v === undefined || v === null;

function format(schema: SpewSchema, name: string, value: unknown, showType: boolean, out: string[], milli: boolean): void {
  const t = typeOf(schema, name);
  if (t.kind === 'ptr') {
    if (isAbsent(value)) {
      out.push(showType ? `(${name})<nil>` : '<nil>');
      return;
    }
    out.push(showType ? `(${name})` : '<*>');
    format(schema, t.elem, value, false, out, false);
    return;
  }
  if (showType) out.push(`(${name})`);
  switch (t.kind) {
    case 'struct': {
      const obj = isPlainObject(value) ? value : {};
      out.push('{');
      t.fields.forEach(([goName, jsonName, fieldType], i) => {
        if (i > 0) out.push(' ');
        out.push(`${goName}:`);
        format(schema, fieldType, jsonName === '' ? obj : jsonName === null ? undefined : obj[jsonName], true, out, false);
      });
      out.push('}');
      return;
    }
    case 'slice': {
      if (isAbsent(value)) {
        out.push('<nil>');
        return;
      }
      if (!Array.isArray(value)) throw new SpewInputError(`${name}: want a list, not ${JSON.stringify(value)}`);
      out.push('[');
      value.forEach((v, i) => {
        if (i > 0) out.push(' ');
        format(schema, t.elem, v, false, out, false);
      });
      out.push(']');
      return;
    }
    case 'map': {
      if (isAbsent(value)) {
        out.push('<nil>');
        return;
      }
      if (!isPlainObject(value)) throw new SpewInputError(`${name}: want a map, not ${JSON.stringify(value)}`);
      out.push('map[');
      sortedGoKeys(Object.keys(value)).forEach((k, i) => {
        if (i > 0) out.push(' ');
        out.push(`${k}:`);
        format(schema, t.elem, value[k], false, out, schema.milliRoundedMaps.has(name));
      });
      out.push(']');
      return;
    }
    case 'string':
      if (isAbsent(value)) return;
      if (typeof value !== 'string') throw new SpewInputError(`${name}: want a string, not ${JSON.stringify(value)}`);
      out.push(value);
      return;
    case 'bool':
      if (!isAbsent(value) && typeof value !== 'boolean') throw new SpewInputError(`${name}: want a boolean, not ${JSON.stringify(value)}`);
      out.push(value === true ? 'true' : 'false');
      return;
    case 'int':
      if (!isAbsent(value) && !(typeof value === 'number' && Number.isSafeInteger(value)))
        throw new SpewInputError(`${name}: want an integer, not ${JSON.stringify(value)}`);
      out.push(String(value ?? 0));
      return;
    case 'quantity':
      try {
        out.push(quantityText(isAbsent(value) ? undefined : goQuantity(value, milli)));
      } catch (err) {
        if (err instanceof QuantitySyntaxError) throw new SpewInputError(err.message);
        throw err;
      }
      return;
    case 'time':
      // metav1.Time decodes a set time into the machine's local zone, whose tables spew
      // would print too: only the zero time (absent or null, as static pods have) is exact.
      if (!isAbsent(value)) throw new SpewInputError(`${name}: a set time (${JSON.stringify(value)}) is not hashed as upstream`);
      out.push('{Time:(time.Time){wall:(uint64)0 ext:(int64)0 loc:(*time.Location)<nil>}}');
      return;
    case 'intOrString':
      out.push(intOrStringText(value));
      return;
  }
}

function quantityText(q: GoQuantity | undefined): string {
  const int = `i:(resource.int64Amount){value:(int64)${q?.int?.value ?? 0n} scale:(resource.Scale)${q?.int?.scale ?? 0}}`;
  let dec = 'Dec:(*inf.Dec)<nil>';
  if (q?.dec) {
    const { unscaled, scale } = q.dec;
    const abs = unscaled < 0n ? -unscaled : unscaled;
    dec = `Dec:(*inf.Dec){unscaled:(big.Int){neg:(bool)${unscaled < 0n} abs:(big.nat)[${natWords(abs).join(' ')}]} scale:(inf.Scale)${scale}}`;
  }
  return `{${int} d:(resource.infDecAmount){${dec}} s:(string)${q?.text ?? ''} Format:(resource.Format)${q?.format ?? ''}}`;
}

/** math/big's nat: 64-bit words, least significant first, none for zero. */
function natWords(n: bigint): bigint[] {
  const words: bigint[] = [];
  for (let v = n; v > 0n; v >>= 64n) words.push(v & 0xffff_ffff_ffff_ffffn);
  return words;
}

function intOrStringText(value: unknown): string {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new SpewInputError(`want an integer or a string, not ${value}`);
    return `{Type:(intstr.Type)0 IntVal:(int32)${value} StrVal:(string)}`;
  }
  if (typeof value === 'string') return `{Type:(intstr.Type)1 IntVal:(int32)0 StrVal:(string)${value}}`;
  return '{Type:(intstr.Type)0 IntVal:(int32)0 StrVal:(string)}';
}

/** Go compares strings bytewise (UTF-8), which differs from JavaScript's UTF-16 order past the BMP. */
function sortedGoKeys(keys: string[]): string[] {
  return keys
    .map((k) => [k, Buffer.from(k, 'utf8')] as const)
    .sort(([, a], [, b]) => Buffer.compare(a, b))
    .map(([k]) => k);
}
