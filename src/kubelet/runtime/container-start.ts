import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { TskubeError } from '../../common/errors.js';
import type { Mount } from '../../gen/cri/runtime/v1/Mount.js';
import { defaultTerminationGraceSeconds } from '../pods/plan-termination.js';
import type { WaitingReason } from '../pods/waiting-reason.js';
import { cleanup } from './cleanup.js';
import type { ExecutorDeps } from './executor-deps.js';
import { containerLogLinkPath, linkContainerLog } from './container-log-link.js';
import { runLifecycleHandler } from './lifecycle-hooks.js';
import { authForImage } from './pull-secrets.js';
import { prepareTerminationMessageFile, terminationMessageFile } from './termination-message.js';
import type { RunningSandbox } from './sandbox-run.js';

/** Started, or why the container waits (the reason the container status shows). */
export type StartOutcome = { ok: true; containerId: string } | ({ ok: false } & WaitingReason);

const startTimeoutMs = 4 * 60_000;
const stopAfterFailedHookTimeoutMs = 30_000;

/**
 * Pull (per policy), resolve env and mounts, create, start, then run postStart: upstream's order.
 * Each failure becomes the waiting reason upstream uses (ErrImagePull, ImagePullBackOff,
 * CreateContainerConfigError, CreateContainerError, RunContainerError, PostStartHookError)
 * and a Warning event; nothing already running is touched.
 */
export async function startContainer(
  deps: ExecutorDeps,
  pod: V1Pod,
  container: V1Container,
  attempt: number,
  sandbox: RunningSandbox,
  signal?: AbortSignal,
  /** An ephemeral container's target, as a container ID. */
  pidTarget?: string,
): Promise<StartOutcome> {
  const opts = signal ? { signal, timeoutMs: startTimeoutMs } : { timeoutMs: startTimeoutMs };
  const uid = pod.metadata?.uid ?? '';
  const image = container.image ?? '';
  const pulled = await deps.images
    .ensure(
      image,
      container.imagePullPolicy as 'Always' | 'IfNotPresent' | 'Never' | undefined,
      authForImage(image, deps.builders.pullSecrets(pod)),
      uid,
      {
        pulling: (i) => deps.events.normal(pod, 'Pulling', `Pulling image "${i}"`),
        pulled: (_i, message) => deps.events.normal(pod, 'Pulled', message),
        failed: (_i, reason, message) => deps.events.warning(pod, 'Failed', `${message}${reason === 'ErrImagePull' ? '' : ` (${reason})`}`),
      },
      signal,
    )
    .catch((err: unknown) => ({ ok: false as const, reason: 'ErrImagePull' as const, message: TskubeError.from(err).detail }));
  if (!pulled.ok) {
    if (pulled.reason === 'ImagePullBackOff') deps.events.normal(pod, 'BackOff', pulled.message);
    return pulled;
  }

  const failed = (reason: 'CreateContainerConfigError' | 'CreateContainerError' | 'RunContainerError', message: string): StartOutcome => {
    deps.events.warning(pod, 'Failed', `Error: ${message}`);
    return { ok: false, reason, message };
  };
  const env = deps.builders.env(pod, container, sandbox.ips);
  if (!env.ok) return failed(env.reason, env.message);
  for (const w of env.warnings) deps.events.warning(pod, 'InvalidEnvironmentVariableNames', w);

  // The container writes its termination message to a host file the kubelet reads after it exits.
  const messageFile = terminationMessageFile(deps.rootDir, uid, container.name, attempt);
  await prepareTerminationMessageFile(messageFile);
  let volumeMounts: Mount[] = [];
  try {
    volumeMounts = (await deps.volumes?.containerMounts(pod, container, env.env, sandbox.ips)) ?? [];
  } catch (err) {
    return failed('CreateContainerConfigError', TskubeError.from(err).detail);
  }
  const mounts = [...volumeMounts, { containerPath: container.terminationMessagePath || '/dev/termination-log', hostPath: messageFile, readonly: false }];
  let config: ReturnType<typeof deps.builders.container>;
  try {
    const imageUser = pulled.user ?? (await deps.images.user(image, signal));
    config = deps.builders.container(pod, container, attempt, {
      env: env.env,
      imageRef: pulled.imageRef,
      podIPs: sandbox.ips,
      mounts,
      imageUser,
      ...(pidTarget ? { pidTarget } : {}),
    });
  } catch (err) {
    return failed('CreateContainerConfigError', TskubeError.from(err).detail);
  }
  // The runtime writes the log file; the kubelet makes its directory, as upstream does.
  if (sandbox.config.logDirectory && config.logPath) await mkdir(dirname(join(sandbox.config.logDirectory, config.logPath)), { recursive: true });

  let containerId: string;
  try {
    ({ containerId } = await deps.cri.runtime.call('CreateContainer', { podSandboxId: sandbox.id, config, sandboxConfig: sandbox.config }, opts));
  } catch (err) {
    return failed('CreateContainerError', TskubeError.from(err).detail);
  }
  deps.events.normal(pod, 'Created', `Created container: ${container.name}`);
  try {
    await deps.cri.runtime.call('StartContainer', { containerId }, opts);
  } catch (err) {
    return failed('RunContainerError', TskubeError.from(err).detail);
  }
  deps.events.normal(pod, 'Started', `Started container ${container.name}`);
  deps.log.debug({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, container: container.name }, 'container started');
  if (sandbox.config.logDirectory && config.logPath) {
    const link = containerLogLinkPath(deps.containerLogLinksDir, pod.metadata?.name ?? '', pod.metadata?.namespace ?? '', container.name, containerId);
    // Only log shippers miss the link: the container runs and `kubectl logs` works without it.
    await linkContainerLog(link, join(sandbox.config.logDirectory, config.logPath)).catch((err: unknown) =>
      deps.log.warn({ link, err: TskubeError.from(err).message }, 'linking the container log failed'),
    );
  }

  const postStart = container.lifecycle?.postStart;
  if (postStart) {
    try {
      const target = {
        containerId,
        podIP: sandbox.ips[0] ?? '127.0.0.1',
        container,
        warn: (reason: string, message: string) => deps.events.warning(pod, reason, message),
      };
      await runLifecycleHandler(deps.cri, postStart, target, pod.spec?.terminationGracePeriodSeconds ?? defaultTerminationGraceSeconds, signal);
    } catch (err) {
      const message = TskubeError.from(err).detail;
      deps.events.warning(pod, 'FailedPostStartHook', message);
      // Upstream kills a container whose postStart failed; the restart policy decides what next.
      await cleanup(deps.log, 'stopping a container whose postStart hook failed', { containerId }, stopAfterFailedHookTimeoutMs, (o) =>
        deps.cri.runtime.call('StopContainer', { containerId, timeout: 0 }, o),
      );
      return { ok: false, reason: 'PostStartHookError', message };
    }
  }
  return { ok: true, containerId };
}
