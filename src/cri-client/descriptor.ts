import protobuf from 'protobufjs/light.js';
import descriptor from '../gen/cri/descriptor.json' with { type: 'json' };
import type { ImageServiceDefinition } from '../gen/cri/runtime/v1/ImageService.js';
import type { RuntimeServiceDefinition } from '../gen/cri/runtime/v1/RuntimeService.js';

/**
 * The conversion the generated types were made with (scripts/gen-proto.ts): int64 as
 * decimal strings so nanosecond timestamps stay exact, enums as their names, defaults
 * filled in so every field of a reply is present, bytes as Buffers.
 */
export const criConversion: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  bytes: Buffer as unknown as protobuf.IConversionOptions['bytes'],
  defaults: true,
  oneofs: true,
};

export interface CriDefinitions {
  runtime: RuntimeServiceDefinition;
  image: ImageServiceDefinition;
}

type Definition = Record<string, unknown>;
type JsonNamespace = { nested?: Record<string, JsonNode> };
type JsonNode = JsonNamespace & {
  fields?: Record<string, { type: string; keyType?: string }>;
  methods?: Record<string, { requestType: string; responseType: string; requestStream?: boolean; responseStream?: boolean }>;
};

const packagePath = ['runtime', 'v1'] as const;

function packageTypes(): Record<string, JsonNode> {
  const root = descriptor as unknown as JsonNamespace;
  return root.nested?.['runtime']?.nested?.['v1']?.nested ?? {};
}

/** The names of the package's types that `names` need, transitively (message fields, map values, nested types). */
function typeClosure(types: Record<string, JsonNode>, names: string[]): Set<string> {
  const seen = new Set<string>();
  const visit = (name: string) => {
    const node = types[name];
    if (!node || seen.has(name)) return;
    seen.add(name);
    const walk = (n: JsonNode) => {
      for (const f of Object.values(n.fields ?? {})) {
        if (n.nested?.[f.type]) continue; // a type nested in this one: kept with it
        visit(f.type);
      }
      for (const inner of Object.values(n.nested ?? {})) walk(inner);
    };
    walk(node);
  };
  for (const n of names) visit(n);
  return seen;
}

/**
 * The gRPC method definition of one RPC, made from a protobufjs root holding only the
 * types that RPC uses: building all ~180 CRI types up front cost more than the rest of a
 * CLI call. Wire behaviour is protobufjs's: fromObject + encode out, decode + toObject
 * (with criConversion) in.
 */
function methodDefinition(service: string, method: string): Definition {
  const types = packageTypes();
  const m = types[service]?.methods?.[method];
  if (!m) throw new Error(`${service}/${method}: not in the CRI descriptor`);
  const nested: Record<string, JsonNode> = {};
  for (const name of typeClosure(types, [m.requestType, m.responseType])) nested[name] = types[name] as JsonNode;
  const root = protobuf.Root.fromJSON({ nested: { [packagePath[0]]: { nested: { [packagePath[1]]: { nested } } } } } as protobuf.INamespace);
  const req = root.lookupType(`${packagePath.join('.')}.${m.requestType}`);
  const res = root.lookupType(`${packagePath.join('.')}.${m.responseType}`);
  const encoder = (type: protobuf.Type) => (value: object) => Buffer.from(type.encode(type.fromObject(value)).finish());
  const decoder = (type: protobuf.Type) => (bytes: Buffer) => type.toObject(type.decode(bytes), criConversion);
  return {
    path: `/${packagePath.join('.')}.${service}/${method}`,
    requestStream: m.requestStream === true,
    responseStream: m.responseStream === true,
    requestSerialize: encoder(req),
    requestDeserialize: decoder(req),
    responseSerialize: encoder(res),
    responseDeserialize: decoder(res),
    originalName: method.charAt(0).toLowerCase() + method.slice(1),
  };
}

/** A service definition whose methods are built on first use. */
function serviceDefinition(service: string): Definition {
  const def: Definition = {};
  for (const method of Object.keys(packageTypes()[service]?.methods ?? {})) {
    let built: Definition | undefined;
    Object.defineProperty(def, method, { enumerable: true, get: () => (built ??= methodDefinition(service, method)) });
  }
  return def;
}

let cached: CriDefinitions | undefined;

/** The runtime.v1 service definitions, from the descriptor generated at build time. */
export function criDefinitions(): CriDefinitions {
  if (cached) return cached;
  cached = {
    runtime: serviceDefinition('RuntimeService') as unknown as RuntimeServiceDefinition,
    image: serviceDefinition('ImageService') as unknown as ImageServiceDefinition,
  };
  return cached;
}
