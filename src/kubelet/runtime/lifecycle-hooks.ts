import type { V1Container, V1LifecycleHandler } from '@kubernetes/client-node';
import { TskubeError } from '../../common/errors.js';
import { sleep } from '../../common/sleep.js';
import { httpGet } from '../../probes/http-get.js';
import { buildHttpGetRequest, lifecycleUserAgent } from '../../probes/http-request.js';
import type { CriRuntime } from './cri-runtime.js';

export interface HookTarget {
  containerId: string;
  /** The pod's IP for httpGet without a host (host network pods: the node's). */
  podIP: string;
  /** The container's spec, for an httpGet port given by name. */
  container?: V1Container | undefined;
  /** A warning about the hook that is not a failure (an HTTPS hook answered over plain HTTP). */
  warn?: (reason: string, message: string) => void;
}

/** Upstream reads at most this much of a hook's response body. */
const maxHookBodyBytes = 10 * 1024;

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
  if (handler.httpGet) return runHttpHook(handler.httpGet, target, timeoutMs, signal);
  if (handler.sleep) {
    await sleep(Math.min(handler.sleep.seconds * 1000, timeoutMs), signal);
    return;
  }
  // Upstream never ran tcpSocket hooks: the field stays in the API for old objects only, and such a hook fails.
  if (handler.tcpSocket) throw new TskubeError('invalid-argument', 'Cannot run handler: invalid handler: tcpSocket is not supported as a lifecycle handler');
  throw new TskubeError('invalid-argument', 'Cannot run handler: invalid handler: none of exec, httpGet, sleep');
}

/**
 * An httpGet hook, through the probes' HTTP client with the lifecycle User-Agent. As
 * upstream, any answer counts as the hook having run (the status code is not judged); an
 * HTTPS hook whose server speaks plain HTTP is tried again over HTTP.
 */
async function runHttpHook(action: NonNullable<V1LifecycleHandler['httpGet']>, target: HookTarget, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const fail = (why: string) => new TskubeError('unavailable', `HTTP lifecycle hook (${action.path ?? ''}) for Container in Pod failed - error: ${why}`);
  const built = buildHttpGetRequest(action, target.container, target.podIP, lifecycleUserAgent);
  if (!built.ok) throw fail(built.message);
  const options = { timeoutMs, maxBodyBytes: maxHookBodyBytes, ...(signal ? { signal } : {}) };
  const r = await httpGet(built.request, options);
  if (r.kind !== 'failed') return;
  if (built.request.scheme === 'https' && r.message.endsWith('server gave HTTP response to HTTPS client')) {
    const plain = { ...built.request, scheme: 'http', headers: built.request.headers.filter(([n]) => n !== 'Authorization') };
    const retry = await httpGet(plain, options);
    if (retry.kind !== 'failed') {
      const host = built.request.url.replace(/^https:\/\/([^/]*).*$/, '$1');
      target.warn?.('LifecycleHTTPFallback', `request to HTTPS lifecycle hook ${host} got HTTP response, retry with HTTP succeeded`);
      return;
    }
  }
  throw fail(r.message);
}
