import { parseFlags } from '../../args.js';
import type { CrictlContext } from '../context.js';
import { loadPodConfig } from '../lifecycle/config-files.js';
import { cancelTimeoutMs } from '../lifecycle/pull-flags.js';
import { expectArgs } from '../lifecycle/usage.js';

/** `crictl runp [--runtime R] pod-config.[json|yaml]`: runs a pod sandbox and prints its ID. */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    runtime: { type: 'string', short: 'r' },
    'cancel-timeout': { type: 'string', short: 'T' },
  });
  expectArgs(positionals, 1, 'tskube crictl runp [--runtime R] pod-config.[json|yaml]');
  const timeoutMs = cancelTimeoutMs(values['cancel-timeout']);
  const config = await loadPodConfig(positionals[0] as string);
  const client = await ctx.client();
  const reply = await client.runtime.call(
    'RunPodSandbox',
    { config, runtimeHandler: values.runtime ?? '' },
    // Sandbox setup (image, network) takes longer than a status call; the kubelet allows twice the usual deadline.
    { signal: ctx.io.signal, timeoutMs: timeoutMs ?? ctx.settings.timeoutMs * 2 },
  );
  ctx.io.stdout.write(`${reply.podSandboxId}\n`);
  return 0;
}
