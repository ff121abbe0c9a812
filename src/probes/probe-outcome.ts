// What one run of a probe handler (exec, httpGet, tcpSocket, grpc) found, in upstream's
// terms (pkg/probe): success, warning (a success worth an event: an HTTP redirect to
// another host), failure, or unknown. `output` is what the Unhealthy event quotes.
// `error` means the probe could not run at all (a port name that resolves to nothing,
// a runtime error from ExecSync): upstream retries it and then counts nothing.

export type ProbeResult = 'success' | 'warning' | 'failure' | 'unknown';

export interface ProbeOutcome {
  result: ProbeResult;
  output: string;
  /** The probe could not run; its result does not count towards a threshold. */
  error?: string;
}

export type ProbeType = 'Liveness' | 'Readiness' | 'Startup';

export const success = (output = ''): ProbeOutcome => ({ result: 'success', output });
export const failure = (output: string): ProbeOutcome => ({ result: 'failure', output });
export const errored = (error: string, result: ProbeResult = 'unknown'): ProbeOutcome => ({ result, output: '', error });

/** The container event a probe run gives, worded as upstream's prober words it; none for a plain success. */
export function probeEvent(type: ProbeType, o: ProbeOutcome): { reason: 'Unhealthy' | 'ProbeWarning'; message: string } | undefined {
  if (o.error !== undefined) return { reason: 'Unhealthy', message: `${type} probe errored and resulted in ${o.result} state: ${o.error}` };
  if (o.result === 'failure') return { reason: 'Unhealthy', message: `${type} probe failed: ${o.output}` };
  if (o.result === 'warning') return { reason: 'ProbeWarning', message: `${type} probe warning: ${o.output}` };
  return undefined;
}
