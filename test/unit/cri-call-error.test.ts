import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { callError, describeTarget } from '../../src/cri-client/call-error.js';
import { grpcTarget, socketPath } from '../../src/cri-client/endpoint.js';

function serviceError(code: status, details: string): ServiceError {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata: new Metadata() });
}

const ctx = { method: 'ContainerStatus', request: { containerId: 'abc123' }, endpoint: 'unix:///run/containerd/containerd.sock', timeoutMs: 2000 };

describe('callError', () => {
  it('names the object the request was about', () => {
    const e = callError(serviceError(status.NOT_FOUND, 'an error occurred when try to find container "abc123": not found'), ctx);
    expect(e.code).toBe('not-found');
    expect(e.message).toBe('not-found: ContainerStatus container "abc123": an error occurred when try to find container "abc123": not found');
  });

  it('says the runtime is unreachable, where, without grpc-js resolver noise', () => {
    const e = callError(serviceError(status.UNAVAILABLE, 'No connection established. Last error: Error: connect ENOENT /run/x.sock. Resolution note: '), {
      ...ctx,
      method: 'Version',
      request: {},
    });
    expect(e.code).toBe('unavailable');
    expect(e.message).toBe(
      'unavailable: Version: cannot reach the container runtime at unix:///run/containerd/containerd.sock: No connection established: connect ENOENT /run/x.sock (is it running?)',
    );
  });

  it('gives the deadline that passed', () => {
    const e = callError(serviceError(status.DEADLINE_EXCEEDED, 'Deadline exceeded'), ctx);
    expect(e.code).toBe('deadline-exceeded');
    expect(e.message).toContain('did not answer within 2000 ms');
  });

  it('explains a runtime without runtime.v1 (v1alpha2 only)', () => {
    for (const details of ['unknown service runtime.v1.RuntimeService', 'The server does not implement the method /runtime.v1.RuntimeService/Version']) {
      const e = callError(serviceError(status.UNIMPLEMENTED, details), { ...ctx, method: 'Version', request: {} });
      expect(e.code).toBe('unimplemented');
      expect(e.message).toMatch(/does not serve CRI runtime\.v1 \(it may speak only v1alpha2\)/);
    }
  });

  it('keeps other codes', () => {
    expect(callError(serviceError(status.ALREADY_EXISTS, 'name reserved'), ctx).code).toBe('already-exists');
    expect(callError(serviceError(status.FAILED_PRECONDITION, 'x'), ctx).code).toBe('failed-precondition');
    expect(callError(new Error('boom'), ctx).message).toBe('unknown: ContainerStatus: boom');
  });
});

describe('describeTarget', () => {
  it('finds container, sandbox and image references', () => {
    expect(describeTarget({ podSandboxId: 'p1' })).toBe('pod sandbox "p1"');
    expect(describeTarget({ image: { image: 'busybox:1' } })).toBe('image "busybox:1"');
    expect(describeTarget({ filter: {} })).toBe('');
    expect(describeTarget(null)).toBe('');
  });
});

describe('endpoints', () => {
  it('accepts the forms users write', () => {
    expect(grpcTarget('unix:///run/containerd/containerd.sock')).toBe('unix:///run/containerd/containerd.sock');
    expect(grpcTarget('/run/crio/crio.sock')).toBe('unix:///run/crio/crio.sock');
    expect(grpcTarget('tcp://127.0.0.1:1234')).toBe('127.0.0.1:1234');
    expect(socketPath('unix:///a/b.sock')).toBe('/a/b.sock');
    expect(socketPath('tcp://127.0.0.1:1')).toBeUndefined();
  });

  it('rejects the ones that cannot work, naming them', () => {
    expect(() => grpcTarget('')).toThrow('runtime endpoint is empty');
    expect(() => grpcTarget('unix://relative.sock')).toThrow('unix socket path must be absolute');
    expect(() => grpcTarget('npipe:////./pipe/containerd')).toThrow('named pipes exist only on Windows');
    expect(() => grpcTarget('containerd')).toThrow('runtime endpoint "containerd": want unix:///path/to/socket');
  });
});
