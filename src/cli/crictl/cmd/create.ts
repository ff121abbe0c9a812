import { parseFlags } from '../../args.js';
import type { CrictlContext } from '../context.js';
import { loadContainerConfig, loadPodConfig } from '../lifecycle/config-files.js';
import { createContainer } from '../lifecycle/create-container.js';
import { podIdMatcher } from '../lifecycle/id-matchers.js';
import { cancelTimeoutMs, choosePull, containerPullFlagSpec, pullOptionsFromFlags } from '../lifecycle/pull-flags.js';
import { expectArgs } from '../lifecycle/usage.js';

/** `crictl create POD container-config pod-config`: creates a container in a pod and prints its ID. */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const { values, positionals } = parseFlags(argv, containerPullFlagSpec);
  expectArgs(positionals, 3, 'tskube crictl create [--no-pull|--with-pull] POD container-config.[json|yaml] pod-config.[json|yaml]');
  const [podQuery, containerPath, podPath] = positionals as [string, string, string];
  const withPull = choosePull(values, ctx.settings.pullImageOnCreate);
  const timeoutMs = cancelTimeoutMs(values['cancel-timeout']);
  // Read both files before touching the runtime: a typo costs nothing.
  const config = await loadContainerConfig(containerPath);
  const podConfig = await loadPodConfig(podPath);
  const pull = withPull ? await pullOptionsFromFlags(values, ctx.io) : undefined;
  const podId = (await podIdMatcher(ctx))(podQuery);
  const id = await createContainer(ctx, { podId, config, podConfig, pull, timeoutMs });
  ctx.io.stdout.write(`${id}\n`);
  return 0;
}
