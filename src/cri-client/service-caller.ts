import { Metadata, type Client, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import { TskubeError } from '../common/errors.js';
import { callError } from './call-error.js';

/** Told of every unary call when it ends: the RPC, how long it took, and its error if it failed (for metrics). */
export type CallObserver = (method: string, durationMs: number, error: TskubeError | undefined) => void;

/** Per-call options: a deadline (defaults to the client's) and cancellation. */
export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

type AnyMethod = MethodDefinition<never, never, unknown, unknown>;
type ServiceDefinitionShape = { [method: string]: AnyMethod };

/** The request type a caller may pass (the generated "permissive" type). */
export type RequestOf<M> = M extends MethodDefinition<infer I, infer _R, infer _OI, infer _O> ? I : never;
/** The reply type (the generated "__Output" type: every field present). */
export type ReplyOf<M> = M extends MethodDefinition<infer _I, infer _R, infer _OI, infer O> ? O : never;

/** The server-streaming RPCs of runtime.v1; every other RPC is unary. */
export const streamingMethods = [
  'GetContainerEvents',
  'StreamContainerStats',
  'StreamContainers',
  'StreamPodSandboxMetrics',
  'StreamPodSandboxStats',
  'StreamPodSandboxes',
  'StreamImages',
] as const;
export type StreamingName = (typeof streamingMethods)[number];

export type UnaryName<D> = Exclude<keyof D & string, StreamingName>;
export type StreamName<D> = Extract<keyof D & string, StreamingName>;

/**
 * Calls the RPCs of one CRI service, typed from the generated definition:
 * `call('ContainerStatus', { containerId })` resolves to a ContainerStatusResponse__Output.
 * Every call has a deadline; an AbortSignal cancels it; failures are TskubeErrors.
 */
export class ServiceCaller<D extends object> {
  readonly #client: Client;
  readonly #definition: D;
  readonly #endpoint: string;
  readonly #timeoutMs: number;
  readonly #observe: CallObserver | undefined;

  constructor(client: Client, definition: D, endpoint: string, timeoutMs: number, observe?: CallObserver) {
    this.#client = client;
    this.#definition = definition;
    this.#endpoint = endpoint;
    this.#timeoutMs = timeoutMs;
    this.#observe = observe;
  }

  #method(name: string): AnyMethod {
    const def = (this.#definition as ServiceDefinitionShape)[name];
    if (!def) throw new TskubeError('unimplemented', `${name}: not in the CRI runtime.v1 definition`);
    return def;
  }

  call<K extends UnaryName<D>>(name: K, request: RequestOf<D[K]>, options: CallOptions = {}): Promise<ReplyOf<D[K]>> {
    const def = this.#method(name);
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const ctx = { method: name, request, endpoint: this.#endpoint, timeoutMs };
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(TskubeError.from(signal.reason, 'canceled').wrap(name));
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const onAbort = () => call.cancel();
      const call = this.#client.makeUnaryRequest(
        def.path,
        def.requestSerialize as (value: RequestOf<D[K]>) => Buffer,
        def.responseDeserialize as (bytes: Buffer) => ReplyOf<D[K]>,
        request,
        new Metadata(),
        { deadline: Date.now() + timeoutMs },
        (err: ServiceError | null, value?: ReplyOf<D[K]>) => {
          signal?.removeEventListener('abort', onAbort);
          const error = err ? callError(err, ctx) : value === undefined ? new TskubeError('internal', `${name}: empty reply`) : undefined;
          this.#observe?.(name, performance.now() - started, error);
          if (error) reject(error);
          else resolve(value as ReplyOf<D[K]>);
        },
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Opens a server-streaming RPC. The stream has no deadline unless one is given
   * (these RPCs are long-lived by design); end it with the signal.
   */
  async *stream<K extends StreamName<D>>(name: K, request: RequestOf<D[K]>, options: CallOptions = {}): AsyncGenerator<ReplyOf<D[K]>> {
    const def = this.#method(name);
    const ctx = { method: name, request, endpoint: this.#endpoint, timeoutMs: options.timeoutMs ?? 0 };
    const callOptions = options.timeoutMs ? { deadline: Date.now() + options.timeoutMs } : {};
    const call: ClientReadableStream<ReplyOf<D[K]>> = this.#client.makeServerStreamRequest(
      def.path,
      def.requestSerialize as (value: RequestOf<D[K]>) => Buffer,
      def.responseDeserialize as (bytes: Buffer) => ReplyOf<D[K]>,
      request,
      new Metadata(),
      callOptions,
    );
    const onAbort = () => call.cancel();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const item of call) yield item as ReplyOf<D[K]>;
    } catch (err) {
      if (options.signal?.aborted) return;
      throw callError(err, ctx);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      call.cancel();
    }
  }
}
