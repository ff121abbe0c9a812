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

/**
 * gRPC method definitions for one service, made straight from the protobufjs schema.
 * @grpc/proto-loader would also build reflection descriptors for every type of the
 * package, which costs more than the rest of a CLI call; the wire behaviour is the same:
 * fromObject + encode out, decode + toObject (with criConversion) in.
 */
function serviceDefinition(root: protobuf.Root, name: string): Definition {
  const service = root.lookupService(name);
  const def: Definition = {};
  for (const method of service.methodsArray) {
    method.resolve();
    const req = method.resolvedRequestType as protobuf.Type;
    const res = method.resolvedResponseType as protobuf.Type;
    const encoder = (type: protobuf.Type) => (value: object) => Buffer.from(type.encode(type.fromObject(value)).finish());
    const decoder = (type: protobuf.Type) => (bytes: Buffer) => type.toObject(type.decode(bytes), criConversion);
    def[method.name] = {
      path: `/${name}/${method.name}`,
      requestStream: method.requestStream === true,
      responseStream: method.responseStream === true,
      requestSerialize: encoder(req),
      requestDeserialize: decoder(req),
      responseSerialize: encoder(res),
      responseDeserialize: decoder(res),
      originalName: method.name.charAt(0).toLowerCase() + method.name.slice(1),
    };
  }
  return def;
}

let cached: CriDefinitions | undefined;

/** The runtime.v1 service definitions, from the descriptor generated at build time. */
export function criDefinitions(): CriDefinitions {
  if (cached) return cached;
  const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
  cached = {
    runtime: serviceDefinition(root, 'runtime.v1.RuntimeService') as unknown as RuntimeServiceDefinition,
    image: serviceDefinition(root, 'runtime.v1.ImageService') as unknown as ImageServiceDefinition,
  };
  return cached;
}
