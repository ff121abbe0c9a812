import { TskubeError } from '../common/errors.js';

/**
 * Turns a CRI endpoint as users write it (`unix:///run/containerd/containerd.sock`,
 * a bare socket path, or the deprecated `tcp://host:port`) into a gRPC target.
 */
export function grpcTarget(endpoint: string): string {
  const e = endpoint.trim();
  if (e === '') throw new TskubeError('invalid-argument', 'runtime endpoint is empty');
  if (e.startsWith('unix://')) {
    const path = e.slice('unix://'.length);
    if (!path.startsWith('/')) throw new TskubeError('invalid-argument', `runtime endpoint "${endpoint}": unix socket path must be absolute`);
    return `unix://${path}`;
  }
  if (e.startsWith('/')) return `unix://${e}`;
  if (e.startsWith('tcp://')) return e.slice('tcp://'.length);
  if (e.startsWith('npipe://')) throw new TskubeError('invalid-argument', `runtime endpoint "${endpoint}": named pipes exist only on Windows`);
  throw new TskubeError('invalid-argument', `runtime endpoint "${endpoint}": want unix:///path/to/socket`);
}

/** The socket path of a unix endpoint, or undefined for other kinds. */
export function socketPath(endpoint: string): string | undefined {
  const target = grpcTarget(endpoint);
  return target.startsWith('unix://') ? target.slice('unix://'.length) : undefined;
}
