import type { V1Container } from '@kubernetes/client-node';
import { status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { TskubeError } from '../common/errors.js';
import { expandVars } from '../kubelet/cri-requests/expansion.js';
import type { CriRuntime } from '../kubelet/runtime/cri-runtime.js';
import { formatGoDuration } from '../common/go-duration.js';
import { errored, failure, type ProbeOutcome, success } from './probe-outcome.js';

/** Upstream keeps at most this much of an exec probe's output. */
export const maxExecOutputBytes = 10 * 1024;
/** Beyond the probe's own timeout (which the runtime enforces), how long the ExecSync call may take. */
const callSlackMs = 30_000;

/**
 * `$(VAR)` in an exec probe's command expands to the container's plain `env` values only
 * (not valueFrom, not envFrom), as upstream's ExpandContainerCommandOnlyStatic does.
 */
export function probeCommand(command: readonly string[], container: V1Container | undefined): string[] {
  const env = new Map((container?.env ?? []).filter((e) => e.value !== undefined && !e.valueFrom).map((e) => [e.name, e.value ?? '']));
  return command.map((arg) => expandVars(arg, (name) => env.get(name)));
}

/**
 * Runs the command in the container with CRI ExecSync and the probe's timeout: exit 0
 * passes, another exit code fails with the command's output, and a command the runtime
 * stopped at the timeout fails with upstream's "command timed out". Any other runtime error
 * (no such executable, the container is gone) means the probe could not run.
 */
export async function runExecProbe(cri: CriRuntime, containerId: string, cmd: string[], timeoutSeconds: number, signal?: AbortSignal): Promise<ProbeOutcome> {
  const timeoutMs = timeoutSeconds * 1000;
  try {
    const reply = await cri.runtime.call(
      'ExecSync',
      { containerId, cmd, timeout: timeoutSeconds },
      { timeoutMs: timeoutMs + callSlackMs, ...(signal ? { signal } : {}) },
    );
    const output = Buffer.concat([reply.stdout, reply.stderr]).subarray(0, maxExecOutputBytes).toString('utf8');
    return reply.exitCode === 0 ? success(output) : failure(output);
  } catch (err) {
    const e = TskubeError.from(err);
    if (e.code === 'deadline-exceeded') return failure(`command timed out: ${JSON.stringify(cmd.join(' '))} timed out after ${formatGoDuration(timeoutMs)}`);
    return errored(grpcErrorText(e));
  }
}

/** What Go's gRPC client prints for a failed call, "rpc error: code = Unknown desc = …", from the runtime's own status. */
export function grpcErrorText(e: TskubeError): string {
  const cause = e.cause as Partial<ServiceError> | undefined;
  if (typeof cause?.code === 'number') return `rpc error: code = ${goCodeName(cause.code)} desc = ${cause.details ?? ''}`;
  return e.detail;
}

/** grpc-go's codes.Code.String(): "Unknown", "DeadlineExceeded", "NotFound", ... */
export function goCodeName(code: number): string {
  if (code === grpcStatus.OK) return 'OK';
  const name = grpcStatus[code];
  if (!name) return `Code(${code})`;
  return name
    .toLowerCase()
    .split('_')
    .map((w) => (w === 'ok' ? 'OK' : w.charAt(0).toUpperCase() + w.slice(1)))
    .join('');
}
