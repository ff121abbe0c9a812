import { fromJSON, type Options } from '@grpc/proto-loader';
import descriptor from '../gen/cri/descriptor.json' with { type: 'json' };
import type { ImageServiceDefinition } from '../gen/cri/runtime/v1/ImageService.js';
import type { RuntimeServiceDefinition } from '../gen/cri/runtime/v1/RuntimeService.js';

/**
 * The options the generated types were made with (scripts/gen-proto.ts): int64 as
 * decimal strings so nanosecond timestamps stay exact, enums as their names, defaults
 * filled in so every field of a reply is present.
 */
export const criLoaderOptions: Options = {
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
};

export interface CriDefinitions {
  runtime: RuntimeServiceDefinition;
  image: ImageServiceDefinition;
}

let cached: CriDefinitions | undefined;

/** The runtime.v1 service definitions, from the descriptor generated at build time. */
export function criDefinitions(): CriDefinitions {
  if (cached) return cached;
  const pkg = fromJSON(descriptor as Parameters<typeof fromJSON>[0], criLoaderOptions);
  cached = {
    runtime: pkg['runtime.v1.RuntimeService'] as unknown as RuntimeServiceDefinition,
    image: pkg['runtime.v1.ImageService'] as unknown as ImageServiceDefinition,
  };
  return cached;
}
