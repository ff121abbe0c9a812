// Which network a folder of configs yields. Without a name, the first valid file in
// lexical order wins, as the kubelet's CNI code always chose (containerd's go-cni
// instead fails on a broken first file; `cnitool list` says so). With a name, the
// first valid list of that name, .conflist files before .conf/.json as libcni's
// LoadNetworkConf looks. Pure: problems found outside (a missing plugin binary) come in
// as `problems`.
import { TskubeError } from '../../common/errors.js';
import type { NetworkConfig } from '../network-config.js';
import type { ConfigDirScan } from './config-dir.js';

export interface Skipped {
  file: string;
  reason: string;
}

export interface Selection {
  network: NetworkConfig;
  /** Files passed over before the winner, and why. */
  skipped: Skipped[];
}

export interface SelectOptions {
  /** A network name to look for; without it, the first valid file wins. */
  name?: string | undefined;
  /** Further reasons a parsed file is unusable, by file (its plugins are not installed, ...). */
  problems?: ReadonlyMap<string, string>;
}

export function selectNetwork(scan: ConfigDirScan, options: SelectOptions = {}): Selection {
  const { name, problems } = options;
  if (scan.files.length === 0) {
    throw new TskubeError(
      'not-found',
      `no CNI network config in ${scan.dir}${scan.exists ? '' : ' (the folder does not exist)'}: want a .conflist, .conf or .json file`,
    );
  }
  const ordered =
    name === undefined ? scan.files : [...scan.files.filter((f) => f.format === 'conflist'), ...scan.files.filter((f) => f.format !== 'conflist')];
  const skipped: Skipped[] = [];
  for (const entry of ordered) {
    if (entry.error) {
      skipped.push({ file: entry.file, reason: entry.error.detail });
      continue;
    }
    const config = entry.config as NetworkConfig;
    if (name !== undefined && config.name !== name) continue;
    const problem = problems?.get(entry.file);
    if (problem) {
      skipped.push({ file: entry.file, reason: problem });
      continue;
    }
    return { network: config, skipped };
  }
  const why = skipped.length ? `; passed over: ${skipped.map((s) => s.reason).join('; ')}` : '';
  if (name !== undefined) {
    const names = scan.files.flatMap((f) => (f.config ? [`"${f.config.name}"`] : []));
    throw new TskubeError('not-found', `no valid network "${name}" in ${scan.dir} (networks there: ${names.join(', ') || 'none'})${why}`);
  }
  throw new TskubeError('not-found', `no valid CNI network config in ${scan.dir}${why}`);
}
