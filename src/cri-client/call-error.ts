import { status, type ServiceError } from '@grpc/grpc-js';
import { TskubeError, type ErrorCode } from '../common/errors.js';

const codeOfStatus: Partial<Record<status, ErrorCode>> = {
  [status.INVALID_ARGUMENT]: 'invalid-argument',
  [status.NOT_FOUND]: 'not-found',
  [status.ALREADY_EXISTS]: 'already-exists',
  [status.FAILED_PRECONDITION]: 'failed-precondition',
  [status.PERMISSION_DENIED]: 'permission-denied',
  [status.UNAUTHENTICATED]: 'permission-denied',
  [status.UNAVAILABLE]: 'unavailable',
  [status.DEADLINE_EXCEEDED]: 'deadline-exceeded',
  [status.UNIMPLEMENTED]: 'unimplemented',
  [status.CANCELLED]: 'canceled',
  [status.RESOURCE_EXHAUSTED]: 'resource-exhausted',
  [status.INTERNAL]: 'internal',
};

export interface CallContext {
  /** The RPC's name, e.g. "ContainerStatus". */
  method: string;
  request: unknown;
  endpoint: string;
  timeoutMs: number;
}

/** Names the object a request is about, so an error says which container or image. */
export function describeTarget(request: unknown): string {
  if (typeof request !== 'object' || request === null) return '';
  const r = request as Record<string, unknown>;
  if (typeof r['containerId'] === 'string' && r['containerId']) return `container "${r['containerId']}"`;
  if (typeof r['podSandboxId'] === 'string' && r['podSandboxId']) return `pod sandbox "${r['podSandboxId']}"`;
  const image = r['image'];
  if (typeof image === 'object' && image !== null) {
    const ref = (image as Record<string, unknown>)['image'];
    if (typeof ref === 'string' && ref) return `image "${ref}"`;
  }
  return '';
}

function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number';
}

/** Maps a failed gRPC call to a TskubeError whose message says what failed and where. */
export function callError(err: unknown, ctx: CallContext): TskubeError {
  if (!isServiceError(err)) return TskubeError.from(err).wrap(ctx.method);
  const target = describeTarget(ctx.request);
  const what = target ? `${ctx.method} ${target}` : ctx.method;
  // grpc-js appends resolver notes that say nothing to a user; keep the first sentence.
  const details = (err.details || err.message).replace(/\.?\s*Resolution note:.*$/s, '').replace(/\.\s*Last error: (Error: )?/, ': ');
  switch (err.code) {
    case status.UNAVAILABLE:
      return new TskubeError('unavailable', `${what}: cannot reach the container runtime at ${ctx.endpoint}: ${details} (is it running?)`, { cause: err });
    case status.DEADLINE_EXCEEDED:
      return new TskubeError('deadline-exceeded', `${what}: the runtime at ${ctx.endpoint} did not answer within ${ctx.timeoutMs} ms`, { cause: err });
    case status.UNIMPLEMENTED:
      // Version is the first call anyone makes; UNIMPLEMENTED there (Go servers say
      // "unknown service runtime.v1...", grpc-js "does not implement the method") means
      // the whole runtime.v1 API is missing, which is what a v1alpha2-only runtime looks like.
      if (ctx.method === 'Version' || /unknown service runtime\.v1\./.test(details)) {
        return new TskubeError(
          'unimplemented',
          `the runtime at ${ctx.endpoint} does not serve CRI runtime.v1 (it may speak only v1alpha2); tskube needs runtime.v1, as served by containerd >= 1.6 or CRI-O >= 1.23`,
          { cause: err },
        );
      }
      return new TskubeError('unimplemented', `${what}: the runtime at ${ctx.endpoint} does not implement it: ${details}`, { cause: err });
    default:
      return new TskubeError(codeOfStatus[err.code as status] ?? 'unknown', `${what}: ${details}`, { cause: err });
  }
}
