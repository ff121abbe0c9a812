import { scanConfigDir } from '../../../cni/config/config-dir.js';
import { parseFlags } from '../../args.js';
import { parseOutputFormat, printStructured } from '../../crictl/output.js';
import { type CnitoolContext, newCni } from '../context.js';
import { buildListReport, listTable, type PluginCheck } from '../list-report.js';
import { resolveCnitoolSettings } from '../settings.js';

/** `cnitool list`: the configs in NETCONFPATH, their problems, and which one wins. */
export async function run(argv: string[], ctx: CnitoolContext): Promise<number> {
  const { values } = parseFlags(argv, { output: { type: 'string', short: 'o' } });
  const format = parseOutputFormat(values.output);
  const settings = resolveCnitoolSettings(ctx.io.env, {});
  const scan = await scanConfigDir(settings.confDir);
  const cni = newCni(ctx, settings);
  const checks = new Map<string, PluginCheck>();
  for (const entry of scan.files) if (entry.config) checks.set(entry.file, await cni.validate(entry.config, { signal: ctx.io.signal }));
  const report = buildListReport(scan, checks, settings.pluginDirs);
  if (format === 'table') ctx.io.stdout.write(listTable(report));
  else await printStructured(ctx.io.stdout, format, report);
  return report.rows.some((r) => r.chosen) ? 0 : 1;
}
