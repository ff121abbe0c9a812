import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { TskubeError } from '../../common/errors.js';
import type { ExecutorDeps } from './executor-deps.js';
import { runLifecycleHandler } from './lifecycle-hooks.js';

/**
 * Stops one container gracefully: preStop hook first (bounded by the grace period), then
 * CRI StopContainer with what is left of the grace period (SIGTERM, then SIGKILL).
 */
export async function killContainer(
  deps: ExecutorDeps,
  pod: V1Pod,
  target: { id: string; name: string; spec?: V1Container; podIP?: string },
  gracePeriodSeconds: number,
  message: string,
  signal?: AbortSignal,
): Promise<void> {
  const started = Date.now();
  deps.events.normal(pod, 'Killing', message);
  const preStop = target.spec?.lifecycle?.preStop;
  if (preStop && gracePeriodSeconds > 0) {
    try {
      const hook = {
        containerId: target.id,
        podIP: target.podIP ?? '127.0.0.1',
        container: target.spec,
        warn: (reason: string, message: string) => deps.events.warning(pod, reason, message),
      };
      await runLifecycleHandler(deps.cri, preStop, hook, gracePeriodSeconds, signal);
    } catch (err) {
      deps.events.warning(pod, 'FailedPreStopHook', TskubeError.from(err).detail);
    }
  }
  const left = Math.max(0, gracePeriodSeconds - Math.floor((Date.now() - started) / 1000));
  // The runtime waits `left` seconds after SIGTERM; give the call that long plus slack.
  await deps.cri.runtime.call('StopContainer', { containerId: target.id, timeout: left }, { timeoutMs: (left + 30) * 1000, ...(signal ? { signal } : {}) });
}
