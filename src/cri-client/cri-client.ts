import { Client, credentials } from '@grpc/grpc-js';
import type { ImageServiceDefinition } from '../gen/cri/runtime/v1/ImageService.js';
import type { RuntimeServiceDefinition } from '../gen/cri/runtime/v1/RuntimeService.js';
import type { VersionResponse__Output } from '../gen/cri/runtime/v1/VersionResponse.js';
import { criDefinitions } from './descriptor.js';
import { grpcTarget } from './endpoint.js';
import { ServiceCaller, type CallObserver, type CallOptions } from './service-caller.js';

export interface CriClientOptions {
  /** Runtime endpoint, e.g. unix:///run/containerd/containerd.sock. */
  endpoint: string;
  /** Image endpoint; the runtime endpoint when not set. */
  imageEndpoint?: string;
  /** Default deadline of each unary call. */
  timeoutMs?: number;
  /** Told of every unary call's duration and outcome (the kubelet's runtime operation metrics). */
  observe?: CallObserver;
}

/** The CRI API version this client speaks (VersionRequest.version). */
export const criApiVersion = 'v1';

/** 16 MiB, the kubelet's limit for CRI replies (large ListContainers on busy nodes). */
const maxMessageBytes = 16 * 1024 * 1024;

function dial(endpoint: string): Client {
  return new Client(grpcTarget(endpoint), credentials.createInsecure(), {
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
    // grpc-js backs off up to 120 s between reconnects by default; a node agent wants
    // to find a restarted runtime within a second or two.
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 2000,
    'grpc.enable_retries': 0,
  });
}

/**
 * A typed client for a CRI runtime.v1 RuntimeService and ImageService over a unix socket.
 * The underlying channel reconnects on its own after the runtime restarts.
 */
export class CriClient {
  readonly endpoint: string;
  readonly imageEndpoint: string;
  readonly runtime: ServiceCaller<RuntimeServiceDefinition>;
  readonly image: ServiceCaller<ImageServiceDefinition>;
  readonly #clients: Client[];

  constructor(options: CriClientOptions) {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const defs = criDefinitions();
    this.endpoint = options.endpoint;
    this.imageEndpoint = options.imageEndpoint || options.endpoint;
    const runtimeClient = dial(this.endpoint);
    const imageClient = this.imageEndpoint === this.endpoint ? runtimeClient : dial(this.imageEndpoint);
    this.#clients = imageClient === runtimeClient ? [runtimeClient] : [runtimeClient, imageClient];
    this.runtime = new ServiceCaller(runtimeClient, defs.runtime, this.endpoint, timeoutMs, options.observe);
    this.image = new ServiceCaller(imageClient, defs.image, this.imageEndpoint, timeoutMs, options.observe);
  }

  /** Version, asked the way the kubelet asks; fails clearly on a v1alpha2-only runtime. */
  version(options?: CallOptions): Promise<VersionResponse__Output> {
    return this.runtime.call('Version', { version: criApiVersion }, options);
  }

  close(): void {
    for (const c of this.#clients) c.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
