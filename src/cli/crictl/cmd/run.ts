import { TskubeError } from '../../../common/errors.js';
import { parseFlags } from '../../args.js';
import type { CrictlContext } from '../context.js';
import { loadContainerConfig, loadPodConfig } from '../lifecycle/config-files.js';
import { createContainer } from '../lifecycle/create-container.js';
import { cancelTimeoutMs, choosePull, containerPullFlagSpec, pullOptionsFromFlags } from '../lifecycle/pull-flags.js';
import { expectArgs } from '../lifecycle/usage.js';

/** How long the undo of a failed run may take, whatever happened to the command's own signal. */
const cleanupTimeoutMs = 30_000;

/**
 * `crictl run container-config pod-config`: runs a pod, creates the container in it,
 * starts it and prints the container's ID. Unlike crictl, a failure part way removes
 * the pod it made, so a typo in the container config leaves nothing behind.
 */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    ...containerPullFlagSpec,
    runtime: { type: 'string', short: 'r' },
    // The name older crictl releases gave --cancel-timeout.
    timeout: { type: 'string', short: 't' },
  });
  expectArgs(positionals, 2, 'tskube crictl run [--runtime R] [--no-pull] container-config.[json|yaml] pod-config.[json|yaml]');
  const [containerPath, podPath] = positionals as [string, string];
  const withPull = choosePull(values, !ctx.settings.disablePullOnRun);
  const timeoutMs = cancelTimeoutMs(values['cancel-timeout'] ?? values.timeout, values.timeout !== undefined ? '--timeout' : '--cancel-timeout');
  const config = await loadContainerConfig(containerPath);
  const podConfig = await loadPodConfig(podPath);
  const pull = withPull ? await pullOptionsFromFlags(values, ctx.io) : undefined;
  const client = await ctx.client();

  const { podSandboxId: podId } = await client.runtime.call(
    'RunPodSandbox',
    { config: podConfig, runtimeHandler: values.runtime ?? '' },
    { signal: ctx.io.signal, timeoutMs: timeoutMs ?? ctx.settings.timeoutMs * 2 },
  );
  try {
    const id = await createContainer(ctx, { podId, config, podConfig, pull, timeoutMs });
    await client.runtime.call('StartContainer', { containerId: id }, { signal: ctx.io.signal, ...(timeoutMs ? { timeoutMs } : {}) });
    ctx.io.stdout.write(`${id}\n`);
    return 0;
  } catch (err) {
    throw (await removePod(ctx, podId, TskubeError.from(err))).wrap('running container');
  }
}

/** Undoes the pod of a failed run; the error says whether that worked. */
async function removePod(ctx: CrictlContext, podId: string, cause: TskubeError): Promise<TskubeError> {
  const client = await ctx.client();
  const signal = AbortSignal.timeout(cleanupTimeoutMs);
  try {
    await client.runtime.call('StopPodSandbox', { podSandboxId: podId }, { signal });
    await client.runtime.call('RemovePodSandbox', { podSandboxId: podId }, { signal });
    return new TskubeError(cause.code, `${cause.detail} (removed the pod sandbox ${podId} made for it)`, { cause });
  } catch (err) {
    return new TskubeError(
      cause.code,
      `${cause.detail} (and the pod sandbox ${podId} made for it could not be removed: ${TskubeError.from(err).detail}; remove it with "tskube crictl rmp -f ${podId}")`,
      { cause },
    );
  }
}
