import { TskubeError } from '../../../common/errors.js';
import { parseFlags } from '../../args.js';
import type { CrictlContext } from '../context.js';
import { loadPodConfig } from '../lifecycle/config-files.js';
import { pullFlagSpec, pullOptionsFromFlags } from '../lifecycle/pull-flags.js';
import { pullImage } from '../lifecycle/pull-image.js';
import { expectArgs } from '../lifecycle/usage.js';

/** Parses repeated --annotation key=value flags. */
export function parseAnnotations(pairs: readonly string[]): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new TskubeError('invalid-argument', `--annotation: want key=value, got ${JSON.stringify(pair)}`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** `crictl pull [--creds|--auth|--username] [--pod-config F] [-a k=v] IMAGE`. */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    ...pullFlagSpec,
    'pod-config': { type: 'string' },
    annotation: { type: 'string', short: 'a', multiple: true },
  });
  if (positionals.length === 0 || positionals[0] === '')
    throw new TskubeError('invalid-argument', 'image name cannot be empty (usage: tskube crictl pull NAME[:TAG|@DIGEST])');
  expectArgs(positionals, 1, 'tskube crictl pull NAME[:TAG|@DIGEST]');
  const image = positionals[0] as string;
  const annotations = parseAnnotations(values.annotation ?? []);
  const sandboxConfig = values['pod-config'] !== undefined ? await loadPodConfig(values['pod-config']) : undefined;
  const options = await pullOptionsFromFlags(values, ctx.io);
  const ref = await pullImage(ctx, image, { ...options, sandboxConfig, annotations });
  ctx.io.stdout.write(`Image is up to date for ${ref}\n`);
  return 0;
}
