import { TskubeError } from '../../../common/errors.js';
import type { StatusResponse__Output } from '../../../gen/cri/runtime/v1/StatusResponse.js';
import { parseFlags } from '../../args.js';
import type { CrictlContext } from '../context.js';
import { printStatusDocuments, statusDocument, withoutNulls } from '../list/proto-json.js';
import { parseOutputFormat } from '../output.js';

/**
 * crictl prints runtimeHandlers and features with Go's encoding/json, not protojson:
 * snake_case names and false values left out.
 */
function goJsonOmitEmpty(value: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === false || v === null || v === '' || v === undefined) continue;
    out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = typeof v === 'object' ? goJsonOmitEmpty(v as object) : v;
  }
  return out;
}

/** The document `crictl info` prints: status, runtime handlers, features, then the verbose info keys. */
export function infoDocument(r: StatusResponse__Output): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  if (r.runtimeHandlers.length > 0) extra['runtimeHandlers'] = r.runtimeHandlers.map(goJsonOmitEmpty);
  if (r.features) extra['features'] = goJsonOmitEmpty(r.features);
  return statusDocument(withoutNulls(r.status), r.info, extra);
}

/** `crictl info`: the runtime's status conditions and, unless -q, its verbose configuration. */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    output: { type: 'string', short: 'o' },
    quiet: { type: 'boolean', short: 'q' },
    template: { type: 'string' },
  });
  if (positionals.length > 0) throw new TskubeError('invalid-argument', `info takes no arguments, got "${positionals.join(' ')}"`);
  if (values.output === 'go-template' || values.template !== undefined) {
    throw new TskubeError('unimplemented', '-o go-template / --template are not supported; use -o json and a JSON tool such as jq');
  }
  const format = parseOutputFormat(values.output, ['json', 'yaml']);
  const client = await ctx.client();
  const reply = await client.runtime.call('Status', { verbose: !values.quiet }, { signal: ctx.io.signal });
  await printStatusDocuments(ctx.io.stdout, format === 'yaml' ? 'yaml' : 'json', [infoDocument(reply)]);
  return 0;
}
