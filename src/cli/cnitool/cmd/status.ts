import { TskubeError } from '../../../common/errors.js';
import { parseFlags } from '../../args.js';
import { type CnitoolContext, loadNetwork, newCni } from '../context.js';
import { resolveCnitoolSettings } from '../settings.js';

/** `cnitool status NETWORK`: whether the network can serve ADD; exit 1 with the plugin's error when not. */
export async function run(argv: string[], ctx: CnitoolContext): Promise<number> {
  const { positionals } = parseFlags(argv, {});
  const [name] = positionals;
  if (!name) throw new TskubeError('invalid-argument', 'usage: tskube cnitool status NETWORK');
  const settings = resolveCnitoolSettings(ctx.io.env, {});
  const network = await loadNetwork(settings, name);
  const outcome = await newCni(ctx, settings).status(network, { signal: ctx.io.signal });
  const plugins = network.plugins.map((p) => p.type).join(', ');
  ctx.io.stdout.write(
    outcome.ran
      ? `network "${name}" is ready: ${plugins} answered STATUS (CNI ${outcome.version})\n`
      : `network "${name}": plugins not asked: ${outcome.reason}\n`,
  );
  return 0;
}
