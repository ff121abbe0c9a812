import type { V1Container, V1LifecycleHandler } from '@kubernetes/client-node';
import { errorMessage, TskubeError } from '../../common/errors.js';
import { sleep } from '../../common/sleep.js';
import type { CriRuntime } from './cri-runtime.js';

export interface HookTarget {
  containerId: string;
  /** The pod's IP for httpGet without a host (host network pods: the node's). */
  podIP: string;
  /** Named ports of the container, for httpGet.port given by name. */
  ports: Record<string, number>;
}

/** The container's named ports, for an httpGet handler whose port is a name. */
export function namedPorts(container: V1Container | undefined): Record<string, number> {
  return Object.fromEntries((container?.ports ?? []).filter((p) => p.name).map((p) => [p.name as string, p.containerPort]));
}

/**
 * Runs a postStart or preStop handler (exec, httpGet, sleep) within `timeoutSeconds`.
 * Throws a TskubeError whose message is what upstream puts in the
 * FailedPostStartHook / FailedPreStopHook event.
 */
export async function runLifecycleHandler(
  cri: CriRuntime,
  handler: V1LifecycleHandler,
  target: HookTarget,
  timeoutSeconds: number,
  signal?: AbortSignal,
): Promise<void> {
  const timeoutMs = Math.max(1, timeoutSeconds) * 1000;
  if (handler.exec) {
    const cmd = handler.exec.command ?? [];
    const reply = await cri.runtime.call(
      'ExecSync',
      { containerId: target.containerId, cmd, timeout: Math.ceil(timeoutMs / 1000) },
      { timeoutMs: timeoutMs + 2000, ...(signal ? { signal } : {}) },
    );
    if (reply.exitCode !== 0) {
      const output = Buffer.concat([reply.stdout, reply.stderr]).toString('utf8').trim();
      throw new TskubeError(
        'failed-precondition',
        `Exec lifecycle hook (${JSON.stringify(cmd)}) for Container in Pod failed - error: command '${cmd.join(' ')}' exited with ${reply.exitCode}: ${output}`,
      );
    }
    return;
  }
  if (handler.httpGet) {
    const h = handler.httpGet;
    const port = typeof h.port === 'number' ? h.port : (target.ports[String(h.port)] ?? Number(h.port));
    if (!Number.isInteger(port) || port <= 0)
      throw new TskubeError('invalid-argument', `httpGet lifecycle hook: port ${JSON.stringify(h.port)} is not a number or a named container port`);
    const host = h.host || target.podIP;
    const scheme = (h.scheme ?? 'HTTP').toLowerCase();
    const path = h.path?.startsWith('/') ? h.path : `/${h.path ?? ''}`;
    const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
    const headers = Object.fromEntries((h.httpHeaders ?? []).map((x) => [x.name, x.value]));
    const timeout = AbortSignal.timeout(timeoutMs);
    const res = await fetch(url, { headers, signal: signal ? AbortSignal.any([signal, timeout]) : timeout }).catch((err: unknown) => {
      throw new TskubeError('unavailable', `HTTP lifecycle hook (${path}) for Container in Pod failed - error: ${errorMessage(err)}`);
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status >= 400)
      throw new TskubeError('failed-precondition', `HTTP lifecycle hook (${path}) for Container in Pod failed - error: HTTP ${res.status}`);
    return;
  }
  if (handler.sleep) {
    await sleep(Math.min(handler.sleep.seconds * 1000, timeoutMs), signal);
    return;
  }
  throw new TskubeError('invalid-argument', 'lifecycle handler has none of exec, httpGet, sleep');
}
