import { TskubeError } from '../../../common/errors.js';
import { parseFlags } from '../../args.js';
import { classifyCacheEntries, describeOwner } from '../cache-report.js';
import { type CnitoolContext, liveSandboxes, loadNetwork, netnsExists, newCni } from '../context.js';
import { resolveCnitoolSettings } from '../settings.js';

/**
 * `cnitool gc NETWORK`: DEL for every cached attachment of the network that belongs to
 * no live sandbox, then GC on the plugins (CNI 1.1.0). Unlike upstream cnitool, which
 * sends an empty valid list (so every attachment goes), attachments of Ready sandboxes
 * and of cnitool namespaces that still exist are kept; --no-runtime counts no sandbox
 * as live.
 */
export async function run(argv: string[], ctx: CnitoolContext): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    'runtime-endpoint': { type: 'string', short: 'r' },
    'no-runtime': { type: 'boolean' },
    'cache-dir': { type: 'string' },
  });
  const [name] = positionals;
  if (!name) throw new TskubeError('invalid-argument', 'usage: tskube cnitool gc NETWORK');
  const settings = resolveCnitoolSettings(ctx.io.env, values);
  const network = await loadNetwork(settings, name);
  const cni = newCni(ctx, settings);
  const sandboxes = values['no-runtime'] ? new Map() : await liveSandboxes(ctx, values['runtime-endpoint']);
  const rows = classifyCacheEntries((await cni.listCache()).entries, sandboxes, (p) => netnsExists(ctx, p)).filter((r) => r.network === name);
  const valid = rows.filter((r) => !r.stale).map((r) => ({ containerId: r.containerId, ifName: r.ifName }));
  const outcome = await cni.gc(network, valid, { signal: ctx.io.signal });
  for (const key of outcome.deleted) {
    const row = rows.find((r) => r.containerId === key.containerId && r.ifName === key.ifName);
    ctx.io.stdout.write(`deleted ${key.containerId} ${key.ifName}${row ? ` (${describeOwner(row.owner)})` : ''}\n`);
  }
  ctx.io.stdout.write(`kept ${valid.length} live attachment(s) of "${name}"${outcome.reason ? `; ${outcome.reason}` : ''}\n`);
  for (const err of outcome.errors) ctx.io.stderr.write(`tskube cnitool gc: ${err.message}\n`);
  return outcome.errors.length ? 1 : 0;
}
