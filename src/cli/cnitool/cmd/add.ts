import { renderResult } from '../../../cni/result.js';
import { type CnitoolContext, newCni } from '../context.js';
import { attachmentCall } from './attachment-args.js';

/** `cnitool add NETWORK NETNS`: runs the chain's ADD and prints the result, as upstream does. */
export async function run(argv: string[], ctx: CnitoolContext): Promise<number> {
  const { settings, network, attachment } = await attachmentCall('add', argv, ctx.io.env, true);
  const { result, version } = await newCni(ctx, settings).add(network, attachment, { signal: ctx.io.signal });
  ctx.io.stdout.write(`${JSON.stringify(renderResult(result, version), null, 4)}\n`);
  return 0;
}
