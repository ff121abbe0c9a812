import { type CnitoolContext, newCni } from '../context.js';
import { attachmentCall } from './attachment-args.js';

/**
 * `cnitool del NETWORK NETNS` (or `--container-id ID` for a runtime's attachment whose
 * namespace is gone): the chain's DEL with the cached result, and the cached CAP_ARGS
 * and CNI_ARGS when none are set.
 */
export async function run(argv: string[], ctx: CnitoolContext): Promise<number> {
  const { settings, network, attachment } = await attachmentCall('del', argv, ctx.io.env, false);
  await newCni(ctx, settings).del(network, attachment, { signal: ctx.io.signal });
  return 0;
}
