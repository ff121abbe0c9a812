import { type CnitoolContext, newCni } from '../context.js';
import { attachmentCall } from './attachment-args.js';

/** `cnitool check NETWORK NETNS`: silent on success, as upstream; says so when CHECK is switched off. */
export async function run(argv: string[], ctx: CnitoolContext): Promise<number> {
  const { settings, network, attachment } = await attachmentCall('check', argv, ctx.io.env, true);
  const outcome = await newCni(ctx, settings).check(network, attachment, { signal: ctx.io.signal });
  if (!outcome.ran) ctx.io.stderr.write(`tskube cnitool check: not checked: ${outcome.reason}\n`);
  return 0;
}
