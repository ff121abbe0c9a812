import { parseFlags } from '../../args.js';
import { parseOutputFormat, printStructured } from '../../crictl/output.js';
import { cacheTable, classifyCacheEntries } from '../cache-report.js';
import { type CnitoolContext, liveSandboxes, netnsExists, newCni } from '../context.js';
import { resolveCnitoolSettings } from '../settings.js';

/** `cnitool cache`: every cached attachment (any runtime's), whose it is, and which are stale. */
export async function run(argv: string[], ctx: CnitoolContext): Promise<number> {
  const { values } = parseFlags(argv, {
    'runtime-endpoint': { type: 'string', short: 'r' },
    'no-runtime': { type: 'boolean' },
    'cache-dir': { type: 'string' },
    stale: { type: 'boolean' },
    'no-trunc': { type: 'boolean' },
    output: { type: 'string', short: 'o' },
  });
  const format = parseOutputFormat(values.output);
  const settings = resolveCnitoolSettings(ctx.io.env, values);
  const listing = await newCni(ctx, settings).listCache();
  const sandboxes = values['no-runtime'] ? new Map() : await liveSandboxes(ctx, values['runtime-endpoint']);
  const rows = classifyCacheEntries(listing.entries, sandboxes, (p) => netnsExists(ctx, p)).filter((r) => !values.stale || r.stale);
  if (format !== 'table') {
    await printStructured(ctx.io.stdout, format, { cacheDir: settings.cacheDir, entries: rows, skipped: listing.skipped });
    return 0;
  }
  const none = values.stale && listing.entries.length ? `none of the ${listing.entries.length} cached attachments is stale` : 'no cached attachments';
  ctx.io.stdout.write(rows.length ? cacheTable(rows, values['no-trunc'] === true) : `${none} in ${settings.cacheDir}/results\n`);
  for (const s of listing.skipped) ctx.io.stderr.write(`skipped ${s.file}: ${s.reason}\n`);
  const stale = rows.filter((r) => r.stale);
  if (stale.length) {
    const networks = [...new Set(stale.map((r) => r.network))];
    ctx.io.stdout.write(
      `${stale.length} attachment(s) belong to no live sandbox; \`tskube cnitool gc ${networks.length === 1 ? networks[0] : 'NETWORK'}\` deletes them\n`,
    );
  }
  return 0;
}
