import { hostname } from 'node:os';
import { TskubeError } from '../common/errors.js';
import { kubeletUsage, resolveKubeletOptions, wantsHelp, type KubeletOptions } from '../kubelet/options/index.js';
import type { ReadTextFile } from '../kubelet/options/load.js';
import type { Command } from './io.js';

export type KubeletRunner = (options: KubeletOptions, signal: AbortSignal) => Promise<void>;

export interface KubeletCommandDeps {
  /** Starts the kubelet; by default the real one, loaded only when the command runs. */
  run?: KubeletRunner;
  hostname?: () => string;
  readFile?: ReadTextFile;
}

const defaultRunner: KubeletRunner = async (options, signal) => (await import('../kubelet/kubelet.js')).runKubelet(options, signal);

/**
 * `tskube kubelet`: the upstream kubelet's flags and --config. Every flag and field is
 * checked before anything on the node is touched; a bad one is one error line and exit 1.
 */
export function kubeletCommand(deps: KubeletCommandDeps = {}): Command {
  const run = deps.run ?? defaultRunner;
  return async (argv, io) => {
    let resolved: Awaited<ReturnType<typeof resolveKubeletOptions>>;
    try {
      if (wantsHelp(argv)) {
        io.stdout.write(kubeletUsage());
        return 0;
      }
      resolved = await resolveKubeletOptions(argv, { hostname: (deps.hostname ?? hostname)() }, deps.readFile);
    } catch (err) {
      io.stderr.write(`tskube kubelet: ${TskubeError.from(err, 'invalid-argument').message}\n`);
      return 1;
    }
    for (const w of resolved.warnings) io.stderr.write(`tskube kubelet: warning: ${w}\n`);
    // Stopped while resolving: nothing was started, so there is nothing to stop.
    if (io.signal.aborted) return 0;
    try {
      await run(resolved.options, io.signal);
      return 0;
    } catch (err) {
      const e = TskubeError.from(err);
      if (e.code === 'canceled' && io.signal.aborted) return 0;
      io.stderr.write(`tskube kubelet: ${e.message}\n`);
      return 1;
    }
  };
}

export const kubelet: Command = kubeletCommand();
