// `cnitool list`: every config file in NETCONFPATH, what is wrong with each, which one
// tskube picks (the first valid, as the kubelet always did), and what containerd makes
// of the same folder (go-cni takes the first file in lexical order and stops at its
// errors). Pure: the scan and the plugin checks come in.
import type { ConfigDirScan } from '../../cni/config/config-dir.js';
import { selectNetwork } from '../../cni/config/select-network.js';
import { TskubeError } from '../../common/errors.js';
import { formatTable } from '../crictl/output.js';

export interface PluginCheck {
  /** The version the chain would speak, when it can run. */
  version?: string | undefined;
  problems: string[];
}

export interface ListRow {
  file: string;
  network?: string | undefined;
  version?: string | undefined;
  plugins: string[];
  problems: string[];
  chosen: boolean;
}

export interface ListReport {
  confDir: string;
  pluginDirs: string[];
  rows: ListRow[];
  /** Which file tskube uses, or why none. */
  verdict: string;
  /** What containerd does with the same folder. */
  containerd: string;
}

export function buildListReport(scan: ConfigDirScan, checks: ReadonlyMap<string, PluginCheck>, pluginDirs: string[]): ListReport {
  const problems = new Map<string, string>();
  for (const [file, check] of checks) if (check.problems.length) problems.set(file, check.problems.join('; '));
  let chosenFile: string | undefined;
  let verdict: string;
  try {
    const { network } = selectNetwork(scan, { problems });
    chosenFile = network.file;
    verdict = `tskube uses network "${network.name}" from ${network.file}: the first valid file`;
  } catch (err) {
    verdict = `tskube finds no usable network: ${TskubeError.from(err).detail}`;
  }
  const rows = scan.files.map((f): ListRow => {
    const check = checks.get(f.file);
    return {
      file: f.file,
      network: f.config?.name,
      version: check?.version ?? f.config?.cniVersion,
      plugins: f.config?.plugins.map((p) => p.type) ?? [],
      problems: f.error ? [f.error.detail] : (check?.problems ?? []),
      chosen: f.file === chosenFile,
    };
  });
  return { confDir: scan.dir, pluginDirs, rows, verdict, containerd: containerdView(rows) };
}

function containerdView(rows: readonly ListRow[]): string {
  const first = rows[0];
  if (!first) return 'containerd finds no config either: its CRI plugin reports "cni plugin not initialized" and runs no pod with a pod network';
  if (first.network === undefined) return `containerd reads only the first file, ${first.file}, and fails to load it: pods with a pod network will not start`;
  if (first.problems.length) return `containerd takes the first file, ${first.file}, and its pods will fail at ADD: ${first.problems.join('; ')}`;
  return first.chosen ? 'containerd takes the same file (the first one)' : `containerd takes the first file, ${first.file}`;
}

export function listTable(report: ListReport): string {
  const header = `NETCONFPATH=${report.confDir}  CNI_PATH=${report.pluginDirs.join(':')}\n`;
  const table = formatTable(
    ['', 'FILE', 'NETWORK', 'CNI', 'PLUGINS', 'PROBLEMS'],
    report.rows.map((r) => [
      r.chosen ? '*' : '',
      r.file.split('/').pop() ?? r.file,
      r.network ?? '-',
      r.version ?? '-',
      r.plugins.join(',') || '-',
      r.problems.join('; ') || '-',
    ]),
    { minWidth: 0, padding: 2 },
  );
  return `${header}${report.rows.length ? table : '(no .conflist, .conf or .json files)\n'}${report.verdict}\n${report.containerd}\n`;
}
