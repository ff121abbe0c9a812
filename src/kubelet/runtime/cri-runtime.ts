/*
 * The kubelet's one seam to the container runtime: the CRI RuntimeService and
 * ImageService calls it makes, typed from the generated runtime.v1 definitions. The
 * concrete CriClient satisfies it over gRPC; unit tests use an in-memory runtime behind
 * the same interface (test/support/in-memory-runtime.ts). Requests and replies are the
 * generated wire types, so a stand-in cannot drift from what a runtime really sends.
 */
import { criApiVersion } from '../../cri-client/cri-client.js';
import type { CallOptions, ReplyOf, RequestOf } from '../../cri-client/service-caller.js';
import type { ImageServiceDefinition } from '../../gen/cri/runtime/v1/ImageService.js';
import type { RuntimeServiceDefinition } from '../../gen/cri/runtime/v1/RuntimeService.js';
import type { VersionResponse__Output } from '../../gen/cri/runtime/v1/VersionResponse.js';

/** The RuntimeService RPCs the kubelet makes. */
export type RuntimeRpc =
  | 'Version'
  | 'Status'
  | 'RuntimeConfig'
  | 'RunPodSandbox'
  | 'StopPodSandbox'
  | 'RemovePodSandbox'
  | 'PodSandboxStatus'
  | 'ListPodSandbox'
  | 'CreateContainer'
  | 'StartContainer'
  | 'StopContainer'
  | 'RemoveContainer'
  | 'ListContainers'
  | 'ContainerStatus'
  | 'UpdateContainerResources'
  | 'ExecSync';

/** The ImageService RPCs the kubelet makes. */
export type ImageRpc = 'ImageStatus' | 'PullImage' | 'ListImages';

/** Unary calls to one CRI service, limited to the RPCs named by `K`. */
export interface RpcCaller<D, K extends keyof D & string> {
  call<N extends K>(name: N, request: RequestOf<D[N]>, options?: CallOptions): Promise<ReplyOf<D[N]>>;
}

export interface CriRuntime {
  /** The runtime endpoint, for messages ("… at unix:///run/containerd/containerd.sock"). */
  readonly endpoint: string;
  readonly runtime: RpcCaller<RuntimeServiceDefinition, RuntimeRpc>;
  readonly image: RpcCaller<ImageServiceDefinition, ImageRpc>;
}

/** Version, asked the way the upstream kubelet asks (the CRI API version it speaks). */
export function askVersion(rt: CriRuntime, options?: CallOptions): Promise<VersionResponse__Output> {
  return rt.runtime.call('Version', { version: criApiVersion }, options);
}
