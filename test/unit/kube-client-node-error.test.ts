import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { isNamespaceTerminating, KubeApiError } from '../../src/kube/api-error.js';
import { clientNodeError } from '../../src/kube/client-node-error.js';

const status = (code: number, reason: string, message: string) => JSON.stringify({ kind: 'Status', status: 'Failure', code, reason, message });

describe('clientNodeError', () => {
  it('keeps the Status message, reason and code of an answer', () => {
    const err = clientNodeError(
      new ApiException(404, 'not found', status(404, 'NotFound', 'pods "web" not found'), {}),
      'patching the status of pod default/web',
    );
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err.code).toBe('not-found');
    expect((err as KubeApiError).reason).toBe('NotFound');
    expect(err.message).toBe('not-found: patching the status of pod default/web: pods "web" not found (HTTP 404, NotFound)');
  });

  it('makes a UID precondition conflict a failed precondition, and AlreadyExists its own code', () => {
    expect(clientNodeError(new ApiException(409, 'conflict', status(409, 'Conflict', 'Precondition failed: UID in precondition'), {}), 'x').code).toBe(
      'failed-precondition',
    );
    expect(clientNodeError(new ApiException(409, 'exists', status(409, 'AlreadyExists', 'exists'), {}), 'x').code).toBe('already-exists');
  });

  it('quotes a body that is not a Status, shortened', () => {
    const err = clientNodeError(new ApiException(502, 'bad gateway', `<html>${'x'.repeat(500)}</html>`, {}), 'reading');
    expect(err.code).toBe('unavailable');
    expect(err.detail).toMatch(/^reading: <html>x+ \(HTTP 502, Unknown\)$/);
    expect(err.detail.length).toBeLessThan(260);
  });

  it('names the network failure behind fetch\'s bare "fetch failed"', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
    const err = clientNodeError(new TypeError('fetch failed', { cause: refused }), 'reading CertificateSigningRequest csr-1');
    expect(err.code).toBe('unavailable');
    expect(err.detail).toBe('reading CertificateSigningRequest csr-1: connect ECONNREFUSED 127.0.0.1:6443');
  });

  it('keeps an abort as canceled', () => {
    const abort = new DOMException('This operation was aborted', 'AbortError');
    expect(clientNodeError(abort, 'x').code).toBe('canceled');
  });
});

describe('isNamespaceTerminating', () => {
  it('knows the refusal by its Status cause, or by the 403 wording when the cause is missing', () => {
    const withCause = KubeApiError.fromStatus(
      403,
      { reason: 'Forbidden', message: 'forbidden', details: { causes: [{ type: 'NamespaceTerminating', field: 'metadata.namespace' }] } },
      'POST',
    );
    expect(withCause.causes).toEqual(['NamespaceTerminating']);
    expect(isNamespaceTerminating(withCause)).toBe(true);
    const wordingOnly = KubeApiError.fromStatus(
      403,
      { reason: 'Forbidden', message: 'unable to create new content in namespace x because it is being terminated' },
      'POST',
    );
    expect(isNamespaceTerminating(wordingOnly)).toBe(true);
    expect(isNamespaceTerminating(KubeApiError.fromStatus(403, { reason: 'Forbidden', message: 'user cannot create events' }, 'POST'))).toBe(false);
  });
});
