import { parseFlags } from '../../args.js';
import type { CrictlContext } from '../context.js';
import { parseOutputFormat, printStructured } from '../output.js';

/** `crictl version`: the runtime's name and versions, as crictl prints them. */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const { values } = parseFlags(argv, { output: { type: 'string', short: 'o' } });
  const format = parseOutputFormat(values.output);
  const client = await ctx.client();
  const v = await client.version({ signal: ctx.io.signal });
  if (format !== 'table') {
    await printStructured(ctx.io.stdout, format, v);
    return 0;
  }
  ctx.io.stdout.write(
    `Version:  ${v.version}\nRuntimeName:  ${v.runtimeName}\nRuntimeVersion:  ${v.runtimeVersion}\nRuntimeApiVersion:  ${v.runtimeApiVersion}\n`,
  );
  return 0;
}
