import { TskubeError } from '../../../common/errors.js';
import descriptor from '../../../gen/cri/descriptor.json' with { type: 'json' };

/**
 * Reads a runtime.v1 message written as protojson (crictl's pod and container config
 * files) into the shape the CRI client sends, checking every field against the
 * .proto. Keys may be camelCase (protojson) or snake_case (the .proto names, what
 * crictl's own examples use). A wrong field gets one line naming its path and value:
 * `metadata.attempt: want an integer, got "one"`.
 */

interface FieldDescriptor {
  type: string;
  rule?: string;
  keyType?: string;
}
interface TypeDescriptor {
  fields?: Record<string, FieldDescriptor>;
  values?: Record<string, number>;
  nested?: Record<string, TypeDescriptor>;
}

const v1 = (descriptor as { nested: { runtime: { nested: { v1: { nested: Record<string, TypeDescriptor> } } } } }).nested.runtime.nested.v1.nested;

const int32Types = new Set(['int32', 'sint32', 'sfixed32']);
const uint32Types = new Set(['uint32', 'fixed32']);
const int64Types = new Set(['int64', 'sint64', 'sfixed64']);
const uint64Types = new Set(['uint64', 'fixed64']);
const floatTypes = new Set(['double', 'float']);

/** Finds a message or enum by the name a field uses ("Mount", "SecurityProfile.ProfileType"). */
function lookupType(name: string): TypeDescriptor {
  let found: TypeDescriptor | undefined;
  let scope: Record<string, TypeDescriptor> | undefined = v1;
  for (const part of name.split('.')) {
    found = scope?.[part];
    scope = found?.nested;
  }
  if (!found) throw new TskubeError('internal', `runtime.v1 has no type ${name}`);
  return found;
}

/** The protojson (camelCase) name of a .proto field name: port_mappings -> portMappings, CDI_devices -> CDIDevices. */
export function camelCase(name: string): string {
  return name.replace(/_([a-zA-Z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function fail(path: string, message: string): never {
  throw new TskubeError('invalid-argument', `${path}: ${message}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

function decodeInteger(value: unknown, path: string, type: string): number | string {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : undefined;
  if (text === undefined || !/^-?\d+$/.test(text)) fail(path, `want an integer, got ${show(value)}`);
  const n = BigInt(text);
  const unsigned = uint32Types.has(type) || uint64Types.has(type);
  if (unsigned && n < 0n) fail(path, `want a non-negative integer, got ${show(value)}`);
  const bits = int32Types.has(type) || uint32Types.has(type) ? 32n : 64n;
  const max = unsigned ? (1n << bits) - 1n : (1n << (bits - 1n)) - 1n;
  const min = unsigned ? 0n : -(1n << (bits - 1n));
  if (n > max || n < min) fail(path, `${show(value)} is out of range for ${type}`);
  // 64-bit values travel as decimal strings so nothing above 2^53 loses precision.
  return bits === 64n ? n.toString() : Number(n);
}

function decodeEnum(value: unknown, path: string, typeName: string, values: Record<string, number>): string {
  const names = Object.keys(values);
  if (typeof value === 'string' && names.includes(value)) return value;
  if (typeof value === 'number') {
    const name = names.find((n) => values[n] === value);
    if (name !== undefined) return name;
  }
  const listed = names.length > 8 ? `${names.slice(0, 8).join(', ')}, ...` : names.join(', ');
  return fail(path, `want a ${typeName} (${listed}), got ${show(value)}`);
}

function decodeScalar(value: unknown, path: string, type: string): unknown {
  if (type === 'string') {
    if (typeof value !== 'string') fail(path, `want a string, got ${show(value)}`);
    return value;
  }
  if (type === 'bool') {
    if (typeof value !== 'boolean') fail(path, `want true or false, got ${show(value)}`);
    return value;
  }
  if (type === 'bytes') {
    // crictl writes bytes fields (KeyValue.value, i.e. env values) as plain text, not base64.
    if (typeof value !== 'string') fail(path, `want a string, got ${show(value)}`);
    return Buffer.from(value, 'utf8');
  }
  if (floatTypes.has(type)) {
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n !== 'number' || Number.isNaN(n)) fail(path, `want a number, got ${show(value)}`);
    return n;
  }
  if (int32Types.has(type) || uint32Types.has(type) || int64Types.has(type) || uint64Types.has(type)) return decodeInteger(value, path, type);
  const t = lookupType(type);
  if (t.values) return decodeEnum(value, path, type.split('.').pop() ?? type, t.values);
  return decodeMessageOf(t, value, path);
}

function decodeField(field: FieldDescriptor, value: unknown, path: string): unknown {
  if (field.keyType !== undefined) {
    if (!isPlainObject(value)) fail(path, `want a mapping, got ${show(value)}`);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === null) continue;
      out[k] = decodeScalar(v, `${path}[${JSON.stringify(k)}]`, field.type);
    }
    return out;
  }
  if (field.rule === 'repeated') {
    if (!Array.isArray(value)) fail(path, `want a list, got ${show(value)}`);
    return value.map((item, i) => decodeScalar(item, `${path}[${i}]`, field.type));
  }
  return decodeScalar(value, path, field.type);
}

function decodeMessageOf(type: TypeDescriptor, value: unknown, path: string): Record<string, unknown> {
  const where = path || 'the file';
  if (!isPlainObject(value)) fail(where, `want a mapping of fields, got ${show(value)}`);
  const fields = type.fields ?? {};
  const out: Record<string, unknown> = {};
  const seen = new Map<string, string>();
  for (const [key, raw] of Object.entries(value)) {
    const name = key in fields ? key : camelCase(key);
    const field = fields[name];
    const at = path ? `${path}.${key}` : key;
    if (!field) fail(at, `unknown field (known fields: ${Object.keys(fields).join(', ')})`);
    const other = seen.get(name);
    if (other !== undefined) fail(at, `given twice, also as "${other}"`);
    seen.set(name, key);
    // protojson reads null as "not set".
    if (raw === null) continue;
    out[name] = decodeField(field, raw, at);
  }
  return out;
}

/**
 * Decodes `value` as the runtime.v1 message `typeName` (e.g. "PodSandboxConfig").
 * Field paths in errors are the keys as the file spells them.
 */
export function decodeCriMessage(typeName: string, value: unknown): Record<string, unknown> {
  const type = lookupType(typeName);
  if (!type.fields) throw new TskubeError('internal', `runtime.v1.${typeName} is not a message`);
  return decodeMessageOf(type, value, '');
}
