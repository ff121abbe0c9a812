import type { V1Container, V1HTTPGetAction } from '@kubernetes/client-node';
import { httpGet } from './http-get.js';
import { buildHttpGetRequest, probeUserAgent } from './http-request.js';
import { errored, failure, type ProbeOutcome, success } from './probe-outcome.js';

/** Upstream reads at most this much of a probe's response body. */
export const maxProbeBodyBytes = 10 * 1024;

/**
 * An httpGet probe: 200–399 passes (a 3xx that ended the redirects, which only happens
 * when one pointed at another host, passes with a warning), anything else fails with the
 * status code; no response at all fails with Go's client error.
 */
export async function runHttpProbe(
  action: V1HTTPGetAction,
  container: V1Container | undefined,
  podIP: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ProbeOutcome> {
  const built = buildHttpGetRequest(action, container, podIP, probeUserAgent);
  if (!built.ok) return errored(built.message);
  const r = await httpGet(built.request, { timeoutMs, maxBodyBytes: maxProbeBodyBytes, ...(signal ? { signal } : {}) });
  if (r.kind === 'failed') return failure(r.message);
  if (r.kind === 'body-failed') return errored(r.message, 'failure');
  if (r.status >= 200 && r.status < 400) {
    if (r.status >= 300) return { result: 'warning', output: `Probe terminated redirects, Response body: ${r.body}` };
    return success(r.body);
  }
  return failure(`HTTP probe failed with statuscode: ${r.status}`);
}
